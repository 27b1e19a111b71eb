"""The helper process and its line protocol: the Python side of helper.c.

Transport. The helper's stdout and stderr are one pipe. Answers start with
RS (0x1e); every other line is something Wine printed (`fixme:`, `err:`,
"Call from ... to unimplemented function") while the command ran, and is
returned with that command's answer. One pipe also means one read per
round trip. `Helper.request()` is this transport: one line out, one
`Answer` back, whatever the command.

Protocol. `Helper` has one typed method per command of helper.c (`ping`,
`info`, `resolve`, `alloc`, `write`, `read`, `free`, `call`). Each writes
its command line and hands the answer to one of the `parse_*` functions
below, the only code that reads answer lines, so a change to helper.c's
answers is a change to this module alone. What the answers become:

    ok [...]                           the method's result (None, an int, bytes, a HelperInfo)
    missing                            None, from resolve()
    ret <value> <last error|->         CallAnswer(value=..., last_error=... or None when not set), from call()
    fault <code> <address> [<where>]   CallAnswer(fault=HelperFault(...)), from call();
                                       MemoryFault raised, from read() and write()
    err <reason>                       HelperRefused raised, from any command
    anything else                      UnexpectedAnswer raised, naming the command and the answer

A call's fault is a field: faulting is one of the outcomes a call is made
to observe. A fault while reading or writing memory is an exception: the
caller asked for memory and there is none to give. Numbers travel as
hexadecimal without a prefix, memory as hex bytes.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, NoReturn

ANSWER = 0x1E
#: Diagnostics kept per command; a chatty call should not fill the results.
MAX_DIAGNOSTICS = 200
#: The last error helper.c sets just before each call (LAST_ERROR_SENTINEL); still there after: not set.
LAST_ERROR_SENTINEL = 0x5EC7A11E
#: Arguments helper.c's single function-pointer type passes (Win64: any integer/pointer export).
MAX_ARGS = 12
#: helper.c reads a command line into a buffer of this size (with its NUL) and cuts what does not fit.
LINE_MAX_BYTES = 1 << 20
MASK64 = 0xFFFF_FFFF_FFFF_FFFF
#: Default time allowed for the bookkeeping commands (not calls), which never run implementation code.
COMMAND_TIMEOUT = 60.0


# -- what can go wrong ---------------------------------------------------------------------------

class HelperGone(RuntimeError):
    """The helper exited while a command ran (e.g. a fault on another thread killed it)."""

    def __init__(self, status: int | None, diagnostics: list[str], command: str = "") -> None:
        self.status = status
        self.diagnostics = diagnostics
        self.command = command
        super().__init__(f"the Wine helper exited (status {status})")


class HelperTimeout(RuntimeError):
    """A command did not answer in time; the helper has been killed."""

    def __init__(self, diagnostics: list[str], command: str = "") -> None:
        self.diagnostics = diagnostics
        self.command = command
        super().__init__("the Wine helper did not answer in time")


class HelperAnswerError(RuntimeError):
    """The helper answered `command`, but not with its result; the answer line (without RS) is kept.

    The helper is still running and in step with the client after any of these
    (one command, one answer), so the caller decides whether to go on with it.
    """

    def __init__(self, message: str, command: str, answer: str, diagnostics: list[str]) -> None:
        super().__init__(message)
        self.command = command
        self.answer = answer
        self.diagnostics = diagnostics


class HelperRefused(HelperAnswerError):
    """The helper refused the command (`err <reason>`): a malformed or unknown command, a read too
    large for one answer line, no memory for an alloc. Nothing ran."""

    def __init__(self, command: str, answer: str, diagnostics: list[str]) -> None:
        self.reason = answer[4:]
        super().__init__(f"the Wine helper refused {command!r}: {self.reason}", command, answer, diagnostics)


class UnexpectedAnswer(HelperAnswerError):
    """An answer that matches none of the command's answer forms: the client and the helper disagree
    about the protocol (e.g. a helper built from another helper.c), so the answer means nothing."""

    def __init__(self, command: str, answer: str, diagnostics: list[str]) -> None:
        super().__init__(f"the Wine helper gave an unexpected answer to {command!r}: {answer!r}", command, answer,
                         diagnostics)


class MemoryFault(HelperAnswerError):
    """Reading or writing the helper's memory faulted (`fault ...`): the range is not mapped, or not
    writable. The helper survived it, but its state may be damaged (see helper.c)."""

    def __init__(self, command: str, answer: str, diagnostics: list[str], fault: HelperFault) -> None:
        self.fault = fault
        super().__init__(f"the Wine helper's {command!r} faulted: {answer}", command, answer, diagnostics)


# -- what the answers carry --------------------------------------------------------------------------

class Answer(NamedTuple):
    """An answer line (without its RS) and the lines Wine printed before it."""

    text: str
    diagnostics: list[str]


#: The same pair as a plain tuple: what the typed methods read, made without NamedTuple's __new__.
RawAnswer = tuple[str, list[str]]
#: Makes a NamedTuple from a tuple in C, skipping the Python-level __new__ (half the cost, on the call path).
_tuple_new = tuple.__new__


class HelperInfo(NamedTuple):
    """What `info` reports about the Wine the helper runs in."""

    #: Wine's own version (`wine_get_version`), e.g. "8.0"; "unknown" when ntdll does not say.
    wine: str
    #: The Windows version Wine presents (`RtlGetVersion`): major.minor.build, e.g. "10.0.19045".
    windows: str
    #: The helper's architecture, e.g. "x86_64".
    architecture: str


class HelperFault(NamedTuple):
    """An exception the helper caught while running a command: a fault, or a call of a Wine stub."""

    #: The exception code, e.g. 0xC0000005 (access violation) or 0x80000100 (Wine stub).
    code: int
    #: Where it was raised.
    address: int
    #: `module.function` of the Wine stub that raised it, when it was one; otherwise None.
    where: str | None = None


class CallAnswer(NamedTuple):
    """What a call did: its return value, or the fault that ended it; and what Wine printed meanwhile."""

    #: The function's return value (RAX), as an unsigned 64-bit number; None when it faulted.
    value: int | None
    #: The fault that ended the call; None when it returned.
    fault: HelperFault | None
    #: Lines Wine printed during the call (at most MAX_DIAGNOSTICS).
    diagnostics: list[str]
    #: The thread's last error after the call; None when the function left it alone (or the call faulted).
    last_error: int | None = None


# -- reading the answers (the only code that does) ---------------------------------------------------

def _not_a_result(command: str, answer: RawAnswer) -> NoReturn:
    """Raise for an answer that is not `command`'s result: the helper's refusal, or an unexpected answer."""
    text, diagnostics = answer
    if text[:4] == "err " or text == "err":
        raise HelperRefused(command, text, diagnostics)
    raise UnexpectedAnswer(command, text, diagnostics)


def parse_ok(command: str, answer: RawAnswer) -> None:
    """`ok`: the answer of `ping`, `free` (and `write`, which may also fault)."""
    if answer[0] != "ok":
        _not_a_result(command, answer)


def parse_address(command: str, answer: RawAnswer) -> int:
    """`ok <address>`: the answer of `alloc`."""
    text = answer[0]
    if text[:3] == "ok ":
        try:
            return int(text[3:], 16)
        except ValueError:
            pass
    _not_a_result(command, answer)


def parse_info(answer: RawAnswer) -> HelperInfo:
    """`ok <wine version> <major.minor.build> <arch>`; the last two never hold a space, so they are
    split off from the right and the Wine version keeps whatever it says."""
    text = answer[0]
    if text[:3] == "ok ":
        fields = text[3:].rsplit(" ", 2)
        if len(fields) == 3 and all(fields):
            return HelperInfo(*fields)
    _not_a_result("info", answer)


def parse_resolve(answer: RawAnswer) -> int | None:
    """`ok <address>`, or `missing` (None): the module does not load or does not export the symbol."""
    text = answer[0]
    if text == "missing":
        return None
    return parse_address("resolve", answer)


def parse_fault(command: str, answer: RawAnswer) -> HelperFault:
    """`fault <code> <address> [<module.function>]`: the exception that ended `command`."""
    text = answer[0]
    if text[:6] == "fault ":
        code, _, rest = text[6:].partition(" ")
        address, _, where = rest.partition(" ")
        try:
            return HelperFault(int(code, 16), int(address, 16), where or None)
        except ValueError:
            pass
    _not_a_result(command, answer)


def parse_write(answer: RawAnswer) -> None:
    """`ok`, or `fault ...` (MemoryFault)."""
    text = answer[0]
    if text == "ok":
        return
    if text[:6] == "fault ":
        raise MemoryFault("write", text, answer[1], parse_fault("write", answer))
    _not_a_result("write", answer)


def parse_read(answer: RawAnswer, size: int) -> bytes:
    """`ok <hexbytes>` of exactly `size` bytes (`ok ` and nothing for none), or `fault ...` (MemoryFault)."""
    text = answer[0]
    if text[:3] == "ok " or text == "ok":
        try:
            data = bytes.fromhex(text[3:])
        except ValueError:
            data = None
        if data is not None and len(data) == size:
            return data
    elif text[:6] == "fault ":
        raise MemoryFault("read", text, answer[1], parse_fault("read", answer))
    _not_a_result("read", answer)


def parse_call(answer: RawAnswer) -> CallAnswer:
    """`ret <value> <last error>` (`-`: the function did not set it), or `fault ...`.

    A run makes thousands of calls and nearly all of them return, so `ret`
    is tested first, with a slice and one int(), and nothing else is made.
    """
    text, diagnostics = answer
    if text[:4] == "ret ":
        value, _, last = text[4:].partition(" ")
        try:
            return _tuple_new(CallAnswer, (int(value, 16), None, diagnostics, None if last == "-" else int(last, 16)))
        except ValueError:
            pass
    elif text[:6] == "fault ":
        return CallAnswer(None, parse_fault("call", answer), diagnostics)
    _not_a_result("call", answer)


def _checked(*fields: str) -> None:
    """A line break in a field would end the command early and start another: refuse it."""
    for field in fields:
        if "\n" in field or "\r" in field:
            raise ValueError(f"a line break cannot travel in a helper command: {field!r}")


# -- the client --------------------------------------------------------------------------------------

class Helper:
    """One running helper under Wine, spoken to over a pipe.

    The typed methods are the protocol; `request()` is the transport under them.
    Bookkeeping commands (all but `call`) drop what Wine printed while they ran:
    they run no implementation code, so it says nothing about the implementation.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        # A session of its own: a timeout kills the whole group, never the caller's.
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=env, cwd=cwd, bufsize=0,
                                        start_new_session=True)
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        self._watch = (self._out,)
        self._buffer = b""

    # -- commands ------------------------------------------------------------------------------------
    def ping(self, timeout: float | None = COMMAND_TIMEOUT) -> None:
        """Check that the helper is there and answering."""
        parse_ok("ping", self._exchange("ping", timeout))

    def info(self, timeout: float | None = COMMAND_TIMEOUT) -> HelperInfo:
        """The Wine and Windows versions the helper runs under, and its architecture."""
        return parse_info(self._exchange("info", timeout))

    def resolve(self, module: str | None, symbol: str, timeout: float | None = COMMAND_TIMEOUT) -> int | None:
        """The address of `symbol` in `module` (loaded if need be), or in any module already loaded when
        `module` is None; None when there is no such export."""
        if module is not None and " " in module:  # the helper splits the line at the module's end
            raise ValueError(f"a module name with a space cannot travel in a helper command: {module!r}")
        _checked(module or "", symbol)
        return parse_resolve(self._exchange(f"resolve {module or '*'} {symbol}", timeout))

    def alloc(self, size: int, timeout: float | None = COMMAND_TIMEOUT) -> int:
        """A zero-filled block of `size` bytes (at least one) on the helper's heap; HelperRefused when
        the heap has no room."""
        return parse_address("alloc", self._exchange(f"alloc {size:x}", timeout))

    def write(self, address: int, data: bytes, timeout: float | None = COMMAND_TIMEOUT) -> None:
        """Copy `data` to `address`; MemoryFault when the range is not writable."""
        line = f"write {address:x} {data.hex()}"
        if len(line) >= LINE_MAX_BYTES:  # the helper would cut the line and write part of the data
            raise ValueError(f"{len(data)} bytes are too many for one helper write")
        parse_write(self._exchange(line, timeout))

    def read(self, address: int, size: int, timeout: float | None = COMMAND_TIMEOUT) -> bytes:
        """`size` bytes from `address`; MemoryFault when the range is not readable, HelperRefused when
        they do not fit in one answer line."""
        return parse_read(self._exchange(f"read {address:x} {size:x}", timeout), size)

    def free(self, address: int, timeout: float | None = COMMAND_TIMEOUT) -> None:
        """Give back a block from alloc()."""
        parse_ok("free", self._exchange(f"free {address:x}", timeout))

    def call(self, address: int, args: Sequence[int] = (), timeout: float | None = None) -> CallAnswer:
        """Call the function at `address` with up to MAX_ARGS integer arguments (negative ones as their
        64-bit two's complement). A call that runs past `timeout` raises HelperTimeout, and the helper
        is killed; one that kills the helper raises HelperGone."""
        if len(args) > MAX_ARGS:
            raise ValueError(f"the Wine helper passes at most {MAX_ARGS} arguments, not {len(args)}")
        line = "call %x" % address
        if args:
            line += "".join(" %x" % (value & MASK64) for value in args)
        return parse_call(self._exchange(line, timeout))

    # -- transport -----------------------------------------------------------------------------------
    def request(self, line: str, timeout: float | None = None) -> Answer:
        """Send one command line and wait for its answer, collecting what Wine printed meanwhile.

        The answer is not read: this is the bare transport (a benchmark's floor, a command
        this client has no method for). HelperTimeout and HelperGone as for the commands.
        """
        return _tuple_new(Answer, self._exchange(line, timeout))

    def _exchange(self, line: str, timeout: float | None) -> RawAnswer:
        """request() as a plain tuple, which the typed methods read."""
        try:
            os.write(self._in, (line + "\n").encode())
        except BrokenPipeError:
            raise HelperGone(self._status(), self._drain(), line.partition(" ")[0]) from None
        diagnostics: list[str] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        buffer = self._buffer
        while True:
            if buffer:
                newline = buffer.find(b"\n")
                while newline >= 0:
                    raw, buffer = buffer[:newline], buffer[newline + 1:]
                    if raw[:1] == b"\x1e":
                        self._buffer = buffer
                        return raw[1:].decode(errors="replace"), diagnostics
                    if len(diagnostics) < MAX_DIAGNOSTICS:
                        diagnostics.append(raw.decode(errors="replace").rstrip("\r"))
                    newline = buffer.find(b"\n")
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select(self._watch, (), (), wait)[0]:
                self._buffer = buffer
                self.kill()
                raise HelperTimeout(diagnostics, line.partition(" ")[0])
            chunk = os.read(self._out, 65536)
            if not chunk:
                if buffer:
                    diagnostics.append(buffer.decode(errors="replace"))
                self._buffer = b""
                raise HelperGone(self._status(), diagnostics, line.partition(" ")[0])
            buffer += chunk

    def _drain(self) -> list[str]:
        rest = self._buffer
        self._buffer = b""
        try:
            while select.select([self._out], [], [], 0.2)[0]:
                chunk = os.read(self._out, 65536)
                if not chunk:
                    break
                rest += chunk
        except OSError:
            pass
        return [line.decode(errors="replace") for line in rest.splitlines() if line[:1] != b"\x1e"]

    def _status(self) -> int | None:
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the helper at once (its process group), e.g. after a timeout."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self._close_pipes()

    def stop(self, grace: float = 2.0) -> None:
        """Ask the helper to exit; kill it if it does not within `grace` seconds."""
        if self.process.poll() is None:
            try:
                os.write(self._in, b"exit\n")
                self.process.wait(timeout=grace)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
