"""The byte streams an endpoint is reached by: a child process's pipes, or a TCP connection (TLS optional).

A channel moves bytes and says whether its far end is still there; the
protocol client on top of it (`client.Endpoint`) reads lines and answers.
The same client drives the kit's helper under Wine (a pipe), the helper on
another machine (`ssh`'s pipes: a process channel too) and an agent or a
third party's service (a socket).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit


class ProcessChannel:
    """A child process's stdin and stdout (stderr joined to stdout, so what it prints arrives in order)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
                 where: str = "the helper") -> None:
        # A session of its own: a timeout kills the whole group, never the caller's.
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=env, cwd=cwd, bufsize=0,
                                        start_new_session=True)
        self.where = where
        self.fd = self.process.stdout.fileno()
        self._in = self.process.stdin.fileno()
        self._relay: socket.socket | None = None
        if sys.platform == "win32":  # select() there waits on sockets only: a thread relays the output to one
            self._relay, far = socket.socketpair()
            threading.Thread(target=_relay, args=(self.fd, far), daemon=True).start()
            self.fd = self._relay.fileno()
            self.recv = self._recv_relayed  # type: ignore[method-assign]

    def _recv_relayed(self) -> bytes:
        try:
            return self._relay.recv(65536)
        except OSError:
            return b""

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._in, view):]

    def recv(self) -> bytes:
        return os.read(self.fd, 65536)

    def pending(self) -> bool:
        return False

    def status(self, wait: float = 5.0) -> int | None:
        try:
            return self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the process at once (its whole group)."""
        if self.process.poll() is None:
            try:
                if sys.platform == "win32":
                    self.process.kill()
                else:
                    os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self._close_pipes()

    def close(self, goodbye: bytes = b"exit\n", grace: float = 2.0) -> None:
        """Ask the process to exit; kill it if it does not within `grace` seconds."""
        if self.process.poll() is None:
            try:
                os.write(self._in, goodbye)
                self.process.wait(timeout=grace)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout, self._relay):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


def _relay(fd: int, far: socket.socket) -> None:
    """Copy a pipe into a socket until the pipe ends (Windows, where select() cannot wait on a pipe)."""
    try:
        while data := os.read(fd, 65536):
            far.sendall(data)
    except OSError:
        pass
    finally:
        far.close()


def parse_url(url: str) -> tuple[str, int]:
    """`tcp://HOST:PORT` (IPv6 in brackets) as (host, port); ValueError naming what is wrong."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"{url!r} is not tcp://HOST:PORT")
    return parts.hostname, port


class SocketChannel:
    """A TCP connection to an agent or a service; with `tls`, wrapped in TLS (the server's certificate
    checked against `tls` as a CA file, or the system's CAs when it is True)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, tls: bool | str = False,
                 server_name: str | None = None) -> None:
        self.where = f"tcp://{host}:{port}"
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            context = ssl.create_default_context(cafile=tls if isinstance(tls, str) else None)
            raw = context.wrap_socket(raw, server_hostname=server_name or host)
        raw.settimeout(None)
        self.sock = raw
        self.fd = raw.fileno()
        self._open = True
        if not tls and sys.platform != "win32":  # a plain socket read and written like a pipe: one layer fewer
            self.send = self._send_fd  # type: ignore[method-assign]
            self.recv = self._recv_fd  # type: ignore[method-assign]

    def _send_fd(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as error:
            self._open = False
            raise BrokenPipeError(str(error)) from error

    def _recv_fd(self) -> bytes:
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            self._open = False
        return data

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as error:
            self._open = False
            raise BrokenPipeError(str(error)) from error

    def recv(self) -> bytes:
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self._open = False
        return data

    def pending(self) -> bool:
        """TLS may hold decrypted bytes the socket no longer shows as readable."""
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def status(self, wait: float = 0.0) -> int | None:
        return None

    def alive(self) -> bool:
        if not self._open or isinstance(self.sock, ssl.SSLSocket):  # TLS: found out at the next command
            return self._open
        try:  # a closed peer shows as readable with nothing to read
            readable = select.select([self.sock], [], [], 0)[0]
            if readable and not self.pending():
                self._open = bool(self.sock.recv(1, socket.MSG_PEEK))
        except (OSError, ValueError):
            self._open = False
        return self._open

    def kill(self) -> None:
        self._open = False
        try:
            self.sock.close()
        except OSError:
            pass

    def close(self, goodbye: bytes = b"exit\n", grace: float = 2.0) -> None:
        if self._open:
            try:
                self.sock.sendall(goodbye)
            except OSError:
                pass
        self.kill()
