"""`specproof agent serve`: any installed adapter, served over TCP in the wire protocol.

The agent is how an implementation that lives elsewhere, or a third party's
adapter, meets the kit: each client that connects gets its own adapter
instance (released when it disconnects or idles out) and drives it through
the protocol, exactly as the kit drives its own helper.

Who may call. An endpoint that calls arbitrary addresses with arbitrary
memory is remote code execution by design, so:

- it listens on loopback unless told otherwise, and a non-loopback address
  needs both a token and TLS: it refuses to start without them, saying why;
- with a token, `hello` is answered with a challenge (`auth <nonce>`), and
  only the HMAC of that nonce under the token opens the session (auth.py);
- only the functions of the served spec set can be resolved, and only
  addresses this session resolved can be called;
- a line, a session's memory and the clients at once are bounded; a client
  that breaks the protocol (a line too long, not text, a command before
  `hello`, a wrong token) is told why and disconnected, and the others go on.
"""

from __future__ import annotations

import ipaddress
import os
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from ..adapter.contract import Adapter, CallsInlines, ServesConnections
from ..adapter.structs import inline_definition
from . import auth
from .wire import (INLINE_MODULE, LINE_MAX_BYTES, MAX_ARGS, READ_MAX_BYTES, VERSION, Export, Fault, format_call,
                   format_fault, format_hello, format_resolve)

#: A session's memory (the sum of its live `alloc`s), unless configured otherwise.
MAX_MEMORY = 64 * 1024 * 1024
MAX_CLIENTS = 8
#: Seconds a client may stay silent before its session (and its adapter) is released.
IDLE_TIMEOUT = 600.0


class AgentRefused(RuntimeError):
    """The agent cannot start as configured; the message says why and what to do."""


@dataclass
class AgentConfig:
    """What `specproof agent serve` was asked for."""

    make_adapter: Callable[[], Adapter]
    adapter_name: str
    #: The served functions, each with the modules its specs name.
    served: Mapping[str, tuple[str, ...]]
    host: str = "127.0.0.1"
    port: int = 0
    token: bytes | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_clients: int = MAX_CLIENTS
    max_memory: int = MAX_MEMORY
    idle_timeout: float = IDLE_TIMEOUT
    log: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))


def is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (OSError, ValueError):
        return False


def check_config(config: AgentConfig) -> None:
    """Refuse what would expose the adapter: a non-loopback listen without both token and TLS."""
    if (config.tls_cert is None) != (config.tls_key is None):
        raise AgentRefused("give both --tls-cert and --tls-key, or neither")
    if not is_loopback(config.host) and (config.token is None or config.tls_cert is None):
        missing = " and ".join(n for n, v in (("--token-file", config.token), ("--tls-cert/--tls-key",
                                                                               config.tls_cert)) if v is None)
        raise AgentRefused(f"refusing to listen on {config.host}: an agent runs any code a client sends it, so an "
                           f"address other than loopback needs a token and TLS (missing: {missing}); "
                           "listen on 127.0.0.1 and reach it through an SSH tunnel, or give both")


class ProtocolBroken(Exception):
    """The client broke the protocol: tell it why, then disconnect it."""


class Session:
    """One client's conversation: its adapter, the exports it resolved, the memory it holds."""

    def __init__(self, config: AgentConfig, send: Callable[[str, list[str]], None],
                 hand_over: Callable[[Adapter], object] | None = None) -> None:
        self.config = config
        self.send = send
        #: Gives the connection to an adapter that serves it itself (ServesConnections); what it returns
        #: (the serving process) is kept in `handed`, and this session answers nothing more.
        self.hand_over = hand_over
        self.handed: object | None = None
        self.adapter: Adapter | None = None
        self.resolved: set[int] = set()
        self.blocks: dict[int, int] = {}
        self.greeted = False
        self.nonce: str | None = None

    def close(self) -> None:
        if self.adapter is not None:
            try:
                self.adapter.close()
            finally:
                self.adapter = None

    # -- one line -------------------------------------------------------------------------------------
    def handle(self, line: str) -> bool:
        """Answer one command line; False when the session is over (`exit`)."""
        command, _, rest = line.partition(" ")
        if command == "exit":
            return False
        if self.nonce is not None:
            return self._auth(command, rest)
        if command == "hello":
            return self._hello(rest)
        if not self.greeted:
            raise ProtocolBroken("say hello first (hello 1)")
        handler = self.COMMANDS.get(command)
        if handler is None:
            self.send("err unknown command", [])
            return True
        try:
            handler(self, rest)
        except _Usage as usage:
            self.send(f"err usage: {usage}", [])
        except Exception as error:  # the adapter failed: the client hears it, the agent goes on
            self.send(f"err {type(error).__name__}: {' '.join(str(error).split())[:400]}", [])
        return True

    def _hello(self, rest: str) -> bool:
        if rest.strip() != str(VERSION):
            raise ProtocolBroken(f"this agent speaks version {VERSION}")
        if self.config.token is not None:
            self.nonce = auth.new_nonce()
            self.send(f"auth {self.nonce}", [])
            return True
        self._welcome()
        return True

    def _auth(self, command: str, rest: str) -> bool:
        nonce, self.nonce = self.nonce, None
        if command != "auth" or not auth.verify(self.config.token or b"", nonce or "", rest):
            raise ProtocolBroken("auth refused: wrong token")
        self._welcome()
        return True

    def _welcome(self) -> None:
        try:
            self._start()
        except ProtocolBroken:
            raise
        except Exception as error:  # the client hears why; the agent goes on serving others
            raise ProtocolBroken(f"the {self.config.adapter_name} adapter could not start: "
                                 f"{' '.join(str(error).split())[:400]}") from error

    def _start(self) -> None:
        self.adapter = self.config.make_adapter()
        if self.hand_over is not None and isinstance(self.adapter, ServesConnections):
            self.greeted = True
            self.handed = self.hand_over(self.adapter)  # it answers the hello itself
            return
        info = self.adapter.info()
        self.greeted = True
        fields = {"name": info.name, "version": info.version, "platform": info.platform,
                  "arch": info.architecture,
                  "kernel": "1" if info.kernel_mode else "process" if info.kernel_in_process else "0",
                  "limit": "1", "transport": "tcp", "served": str(len(self.config.served))}
        fields.update({f"detail.{k}": v for k, v in info.details.items()})
        self.send(format_hello(fields), [])

    # -- the commands ------------------------------------------------------------------------------
    def _ping(self, rest: str) -> None:
        self.send("ok", [])

    def _resolve(self, rest: str) -> None:
        module, _, symbol = rest.partition(" ")
        if not module or not symbol or " " in symbol:
            raise _Usage("resolve <module|*> <symbol>")
        if symbol not in self.config.served:
            self.send(f"err {symbol} is not a function of the served specs", [])
            return
        if module == INLINE_MODULE:  # the headers' inline definition, where the adapter can call one
            defined = inline_definition(symbol)
            export = self.adapter.resolve_inline(defined) \
                if defined is not None and isinstance(self.adapter, CallsInlines) else None
        else:
            export = self.adapter.resolve(None if module == "*" else module, symbol)
        if export is not None:
            self.resolved.add(export.address)
        self.send(format_resolve(None if export is None else Export(export.address, export.stub)), [])

    def _alloc(self, rest: str) -> None:
        size = _hex(rest, "alloc <size>")
        held = sum(self.blocks.values())
        if held + max(size, 1) > self.config.max_memory:
            self.send(f"err memory limit: this session holds {held} bytes of {self.config.max_memory}", [])
            return
        address = self.adapter.alloc(max(size, 1))
        self.blocks[address] = max(size, 1)
        self.send(f"ok {address:x}", [])

    def _free(self, rest: str) -> None:
        address = _hex(rest, "free <address>")
        if self.blocks.pop(address, None) is not None:
            self.adapter.free(address)
        self.send("ok", [])

    def _write(self, rest: str) -> None:
        where, _, data = rest.partition(" ")
        address = _hex(where, "write <address> <hexbytes>")
        try:
            payload = bytes.fromhex(data)
        except ValueError:
            raise _Usage("write <address> <hexbytes> (an even number of hex digits)") from None
        try:
            self.adapter.write(address, payload)
        except Exception as error:
            self.send(format_fault(Fault(0xC0000005, address)), [f"agent: {error}"])
            return
        self.send("ok", [])

    def _read(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) != 2:
            raise _Usage("read <address> <size>")
        address, size = _hex(parts[0], "read <address> <size>"), _hex(parts[1], "read <address> <size>")
        if size > READ_MAX_BYTES:
            self.send("err read too large", [])
            return
        try:
            data = self.adapter.read(address, size)
        except Exception as error:
            self.send(format_fault(Fault(0xC0000005, address)), [f"agent: {error}"])
            return
        self.send(f"ok {data.hex()}", [])

    def _call(self, rest: str) -> None:
        parts = rest.split()
        limit = None
        if parts and parts[-1].startswith("@"):
            limit = _hex(parts.pop()[1:], "call <address> [argument ...] [@<milliseconds>]") / 1000
        if not parts:
            raise _Usage("call <address> [argument ...] [@<milliseconds>]")
        if len(parts) - 1 > MAX_ARGS:
            self.send(f"err a call passes at most {MAX_ARGS} arguments", [])
            return
        address, *args = (_hex(p, "call <address> [argument ...] [@<milliseconds>]") for p in parts)
        if address not in self.resolved:
            self.send(f"err 0x{address:x} is not an export this session resolved", [])
            return
        result = self.adapter.call(address, list(args), limit)
        fault = Fault(result.fault.code, result.fault.address) if result.fault else None
        self.send(format_call(result.value, result.last_error, fault, result.timed_out, result.stub),
                  list(result.diagnostics))

    COMMANDS: dict[str, Callable[["Session", str], None]] = {
        "ping": _ping, "resolve": _resolve, "alloc": _alloc, "free": _free, "write": _write, "read": _read,
        "call": _call,
    }


class _Usage(ValueError):
    """A command whose fields are not what the protocol says."""


def _hex(text: str, usage: str) -> int:
    try:
        if not text or text.strip() != text:
            raise ValueError
        return int(text, 16)
    except ValueError:
        raise _Usage(usage) from None


def _answer_lines(text: str, diagnostics: list[str]) -> bytes:
    """Diagnostics (one line each, never starting with RS) then the answer line."""
    out = []
    for line in diagnostics:
        for part in str(line).replace("\r", "").split("\n"):
            out.append(part.replace("\x1e", " ") + "\n")
    out.append("\x1e" + text + "\n")
    return "".join(out).encode()


class _Handler(socketserver.StreamRequestHandler):
    """One client connection, in a thread of its own."""

    server: "_Server"

    def handle(self) -> None:
        agent = self.server.agent
        config = agent.config
        peer = "%s:%s" % self.client_address[:2]
        if not agent.slots.acquire(blocking=False):
            self._send_raw(_answer_lines(f"err too many clients (at most {config.max_clients})", []))
            config.log(f"agent: {peer} turned away: {config.max_clients} clients already")
            return
        hand_over = None if agent.tls is not None else self._hand_over
        session = Session(config, lambda text, diagnostics: self._send_raw(_answer_lines(text, diagnostics)),
                          hand_over)
        config.log(f"agent: {peer} connected")
        try:
            self.connection.settimeout(config.idle_timeout)
            while session.handed is None:
                raw = self.rfile.readline(LINE_MAX_BYTES + 1)
                if not raw:
                    break
                if len(raw) > LINE_MAX_BYTES or not raw.endswith(b"\n"):
                    raise ProtocolBroken(f"line too long (at most {LINE_MAX_BYTES} bytes with its newline)")
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise ProtocolBroken("a line that is not UTF-8 text") from None
                if not session.handle(line):
                    break
            if session.handed is not None:
                config.log(f"agent: {peer} handed to the adapter's own endpoint")
                status = self._watch(session.handed)
                config.log(f"agent: {peer}'s endpoint ended (exit status {status})")
        except ProtocolBroken as broken:
            self._send_raw(_answer_lines(f"err {broken}", []))
            config.log(f"agent: {peer} disconnected: {broken}")
        except (socket.timeout, TimeoutError):
            self._send_raw(_answer_lines(f"err idle for {config.idle_timeout:g} s: the session is closed", []))
            config.log(f"agent: {peer} idle for {config.idle_timeout:g} s, released")
        except (OSError, ssl.SSLError) as error:
            config.log(f"agent: {peer} connection lost: {error}")
        finally:
            session.close()
            agent.slots.release()
            config.log(f"agent: {peer} closed")

    def _hand_over(self, adapter: Adapter) -> object:
        config = self.server.agent.config
        return adapter.serve_connection(self.connection, config.served, config.max_memory,  # type: ignore[attr-defined]
                                        config.idle_timeout)

    def _watch(self, process) -> int:
        """Wait for the process serving the connection to end; end it when the client hangs up (a helper
        stuck in a call would not notice). The agent sees none of the traffic: the process keeps the idle
        time itself."""
        poller = select.poll()
        poller.register(self.connection.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        while process.poll() is None:
            if poller.poll(200):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
        return process.wait()

    def _send_raw(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            pass


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    agent: "Agent"

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = self.agent.tls
        if context is not None:
            connection.settimeout(10)
            try:
                connection = context.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError):
                connection.close()
                raise
        return connection, address


class _Server6(_Server):
    address_family = socket.AF_INET6


class Agent:
    """The listening agent; `serve_forever()` in the foreground, or `start()` in a thread (tests)."""

    def __init__(self, config: AgentConfig) -> None:
        check_config(config)
        self.config = config
        self.slots = threading.BoundedSemaphore(config.max_clients)
        self.tls: ssl.SSLContext | None = None
        if config.tls_cert is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                self.tls.load_cert_chain(str(config.tls_cert), str(config.tls_key))
            except (OSError, ssl.SSLError) as error:
                raise AgentRefused(f"cannot load the TLS certificate {config.tls_cert} and key {config.tls_key}: "
                                   f"{error}") from error
        # the address family is the server class's, read as the socket is made: a class of this agent's own
        server_class = _Server6 if ":" in config.host else _Server
        try:
            self.server = server_class((config.host, config.port), _Handler)
        except OSError as error:
            raise AgentRefused(f"cannot listen on {config.host}:{config.port}: {error.strerror or error}") from error
        self.server.agent = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return host, port

    @property
    def url(self) -> str:
        host, port = self.address
        return f"tcp://{host}:{port}"

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def start(self) -> "Agent":
        self._thread = threading.Thread(target=self.serve_forever, name="specproof-agent", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
