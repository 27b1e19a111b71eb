"""The client side of the wire protocol: one typed method per command, over any channel.

`Endpoint` is what an adapter holds: the kit's helper under Wine (a process
channel), the helper on a Windows machine over SSH (a process channel around
`ssh`), or an agent or service (a socket channel). The typed methods are the
protocol; `request()` is the transport under them, one line out and one
`Answer` back. Bookkeeping commands (all but `call`) drop what was printed
while they ran: they run no implementation code, so it says nothing about
the implementation.
"""

from __future__ import annotations

import select
import time
from collections.abc import Sequence

from . import auth
from .channels import ProcessChannel, SocketChannel
from .wire import (COMMAND_TIMEOUT, LINE_MAX_BYTES, MASK64, MAX_ARGS, MAX_DIAGNOSTICS, VERSION, Answer, CallAnswer,
                   EndpointGone, EndpointInfo, EndpointTimeout, Export, RawAnswer, Refused, _tuple_new, checked,
                   parse_address, parse_call, parse_hello, parse_ok, parse_read, parse_resolve, parse_write)

__all__ = ["Endpoint", "ProcessChannel", "SocketChannel"]


class Endpoint:
    """One endpoint that speaks the protocol, over `channel`."""

    def __init__(self, channel: ProcessChannel | SocketChannel) -> None:
        self.channel = channel
        self._buffer = b""
        self.info: EndpointInfo | None = None

    @property
    def where(self) -> str:
        return self.channel.where

    # -- the handshake -------------------------------------------------------------------------------
    def hello(self, token: bytes | None = None, timeout: float | None = COMMAND_TIMEOUT) -> EndpointInfo:
        """Agree on the protocol version and learn who the endpoint is; answer its challenge with `token`
        when it asks for one (an HMAC of its nonce: the token itself never travels)."""
        text, diagnostics = self._exchange(f"hello {VERSION}", timeout)
        if text[:5] == "auth ":
            if token is None:
                raise Refused("hello", "err the endpoint wants a token (--token-file)", diagnostics)
            text, diagnostics = self._exchange(f"auth {auth.response(token, text[5:])}", timeout)
        self.info = parse_hello((text, diagnostics))
        if self.info.version != VERSION:
            raise Refused("hello", f"err the endpoint speaks version {self.info.version}, this kit {VERSION}",
                          diagnostics)
        return self.info

    # -- commands ------------------------------------------------------------------------------------
    def ping(self, timeout: float | None = COMMAND_TIMEOUT) -> None:
        parse_ok("ping", self._exchange("ping", timeout))

    def resolve(self, module: str | None, symbol: str, timeout: float | None = COMMAND_TIMEOUT) -> Export | None:
        """The export `symbol` of `module` (loaded if need be), or of any module already loaded when
        `module` is None; None when there is no such export."""
        if module is not None and " " in module:  # the endpoint splits the line at the module's end
            raise ValueError(f"a module name with a space cannot travel in a command: {module!r}")
        checked(module or "", symbol)
        return parse_resolve(self._exchange(f"resolve {module or '*'} {symbol}", timeout))

    def alloc(self, size: int, timeout: float | None = COMMAND_TIMEOUT) -> int:
        """A zero-filled block of `size` bytes (at least one); Refused when there is no room."""
        return parse_address("alloc", self._exchange(f"alloc {size:x}", timeout))

    def write(self, address: int, data: bytes, timeout: float | None = COMMAND_TIMEOUT) -> None:
        """Copy `data` to `address`; MemoryFault when the range is not writable."""
        line = f"write {address:x} {data.hex()}"
        if len(line) >= LINE_MAX_BYTES:
            raise ValueError(f"{len(data)} bytes are too many for one write")
        parse_write(self._exchange(line, timeout))

    def read(self, address: int, size: int, timeout: float | None = COMMAND_TIMEOUT) -> bytes:
        """`size` bytes from `address`; MemoryFault when the range is not readable, Refused when they do
        not fit in one answer line."""
        return parse_read(self._exchange(f"read {address:x} {size:x}", timeout), size)

    def free(self, address: int, timeout: float | None = COMMAND_TIMEOUT) -> None:
        parse_ok("free", self._exchange(f"free {address:x}", timeout))

    def call(self, address: int, args: Sequence[int] = (), timeout: float | None = None,
             limit: float | None = None) -> CallAnswer:
        """Call the function at `address` with up to MAX_ARGS integer arguments (negative ones as their
        64-bit two's complement). With `limit` (seconds), the endpoint bounds the call itself and answers
        `timeout` (`call` then carries the limit as `@<ms>`, which an endpoint's hello says it takes); a
        call that runs past `timeout` raises EndpointTimeout and the endpoint is given up."""
        if len(args) > MAX_ARGS:
            raise ValueError(f"a call passes at most {MAX_ARGS} arguments, not {len(args)}")
        line = "call %x" % address
        if args:
            line += "".join(" %x" % (value & MASK64) for value in args)
        if limit is not None:
            line += " @%x" % max(1, int(limit * 1000))
        return parse_call(self._exchange(line, timeout))

    # -- transport -----------------------------------------------------------------------------------
    def request(self, line: str, timeout: float | None = None) -> Answer:
        """Send one command line and wait for its answer, collecting the diagnostics printed meanwhile.

        The answer is not read: this is the bare transport (a benchmark's floor, a check's malformed
        line). EndpointTimeout and EndpointGone as for the commands.
        """
        return _tuple_new(Answer, self._exchange(line, timeout))

    def _exchange(self, line: str, timeout: float | None) -> RawAnswer:
        """request() as a plain tuple, which the typed methods read."""
        channel = self.channel
        command = line.partition(" ")[0]
        try:
            channel.send((line + "\n").encode())
        except (BrokenPipeError, ConnectionError):
            raise EndpointGone(channel.status(), self._drain(), command, channel.where) from None
        diagnostics: list[str] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        buffer = self._buffer
        watch = (channel.fd,)
        while True:
            if buffer:
                newline = buffer.find(b"\n")
                while newline >= 0:
                    raw, buffer = buffer[:newline], buffer[newline + 1:]
                    if raw[:1] == b"\x1e":
                        self._buffer = buffer
                        return raw[1:].decode(errors="replace").rstrip("\r"), diagnostics
                    if len(diagnostics) < MAX_DIAGNOSTICS:
                        diagnostics.append(raw.decode(errors="replace").rstrip("\r"))
                    newline = buffer.find(b"\n")
            if not channel.pending():
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not select.select(watch, (), (), wait)[0]:
                    self._buffer = buffer
                    channel.kill()
                    raise EndpointTimeout(diagnostics, command, channel.where)
            chunk = channel.recv()
            if not chunk:
                if buffer:
                    diagnostics.append(buffer.decode(errors="replace"))
                self._buffer = b""
                raise EndpointGone(channel.status(), diagnostics, command, channel.where)
            buffer += chunk

    def _drain(self) -> list[str]:
        rest = self._buffer
        self._buffer = b""
        try:
            while select.select([self.channel.fd], [], [], 0.2)[0]:
                chunk = self.channel.recv()
                if not chunk:
                    break
                rest += chunk
        except (OSError, ValueError):
            pass
        return [line.decode(errors="replace") for line in rest.splitlines() if line[:1] != b"\x1e"]

    def alive(self) -> bool:
        return self.channel.alive()

    def kill(self) -> None:
        """Give the endpoint up at once (kill its process, drop its connection)."""
        self.channel.kill()

    def stop(self, grace: float = 2.0) -> None:
        """Say goodbye (`exit`); give the endpoint up if it does not go within `grace` seconds."""
        self.channel.close(b"exit\n", grace)
