"""The wire protocol's lines: what an endpoint answers, read in one place, and written in one place.

`adapters/PROTOCOL.md` is the protocol's text; this module is its code. An
endpoint (the kit's helper.c, the agent, a third party's service) reads one
command line and writes one answer line, which starts with RS (0x1e); any
other line before the answer is a diagnostic of that command (what Wine
printed while it ran, say). Numbers are hexadecimal without a prefix, memory
travels as hex bytes, text fields as `key=value` with the value
percent-encoded.

The `parse_*` functions are the only code that reads answer lines; the
`format_*` functions the only code that writes them (the agent's side). What
an answer becomes on the client:

    ok [...]                              the command's result (None, an int, bytes, EndpointInfo)
    missing                               None, from resolve()
    ret <value> <last error|-> [stub]     CallAnswer(value=..., last_error=... or None when not set)
    fault <code> <address> [<where>]      CallAnswer(fault=Fault(...)) from call(); MemoryFault from read/write
    timeout                               CallAnswer(timed_out=True): the endpoint bounded the call itself
    err <reason>                          Refused raised, from any command
    anything else                         UnexpectedAnswer raised, naming the command and the answer
"""

from __future__ import annotations

import re
from typing import NamedTuple, NoReturn
from urllib.parse import quote, unquote

#: The protocol version this kit speaks (`hello 1`).
VERSION = 1
#: An answer line starts with this byte; any other line is a diagnostic.
ANSWER = 0x1E
#: Diagnostics kept per command; a chatty call should not fill the results.
MAX_DIAGNOSTICS = 200
#: The last error helper.c sets just before each call; still there after: the call did not set one.
LAST_ERROR_SENTINEL = 0x5EC7A11E
#: Integer arguments one call passes (Win64: any integer or pointer export).
MAX_ARGS = 16
#: The longest command line, with its newline; a longer one is refused (`err line too long`).
LINE_MAX_BYTES = 1 << 20
#: The most bytes one `read` answers (two hex digits a byte, in one line).
READ_MAX_BYTES = (LINE_MAX_BYTES - 8) // 2
MASK64 = 0xFFFF_FFFF_FFFF_FFFF
#: Time allowed for the bookkeeping commands (not calls), which run no implementation code.
COMMAND_TIMEOUT = 60.0
#: `resolve inline <symbol>`: the headers' inline definition of a routine no module exports (InsertTailList).
INLINE_MODULE = "inline"


# -- what can go wrong ---------------------------------------------------------------------------

class EndpointGone(RuntimeError):
    """The endpoint went away while a command ran (its process exited, its connection closed)."""

    def __init__(self, status: int | None, diagnostics: list[str], command: str = "", where: str = "the endpoint"
                 ) -> None:
        self.status = status
        self.diagnostics = diagnostics
        self.command = command
        super().__init__(f"{where} exited (status {status})" if status is not None else f"{where} went away")


class EndpointTimeout(RuntimeError):
    """A command did not answer in time; the endpoint has been given up (killed, disconnected)."""

    def __init__(self, diagnostics: list[str], command: str = "", where: str = "the endpoint") -> None:
        self.diagnostics = diagnostics
        self.command = command
        super().__init__(f"{where} did not answer {command or 'a command'} in time")


class AnswerError(RuntimeError):
    """The endpoint answered `command`, but not with its result; the answer line (without RS) is kept.

    The endpoint is still there and in step with the client after any of these
    (one command, one answer), so the caller decides whether to go on with it.
    """

    def __init__(self, message: str, command: str, answer: str, diagnostics: list[str]) -> None:
        super().__init__(message)
        self.command = command
        self.answer = answer
        self.diagnostics = diagnostics


class Refused(AnswerError):
    """The endpoint refused the command (`err <reason>`): malformed, unknown, too large, not allowed,
    no memory. Nothing ran."""

    def __init__(self, command: str, answer: str, diagnostics: list[str]) -> None:
        self.reason = answer[4:]
        super().__init__(f"the endpoint refused {command!r}: {self.reason}", command, answer, diagnostics)


class UnexpectedAnswer(AnswerError):
    """An answer that matches none of the command's forms: the two sides disagree about the protocol."""

    def __init__(self, command: str, answer: str, diagnostics: list[str]) -> None:
        super().__init__(f"the endpoint gave an unexpected answer to {command!r}: {answer!r}", command, answer,
                         diagnostics)


class MemoryFault(AnswerError):
    """Reading or writing the endpoint's memory faulted (`fault ...`): the range is not mapped, or not
    writable. The endpoint survived it, but its state may be damaged."""

    def __init__(self, command: str, answer: str, diagnostics: list[str], fault: "Fault") -> None:
        self.fault = fault
        super().__init__(f"the endpoint's {command!r} faulted: {answer}", command, answer, diagnostics)


# -- what the answers carry ----------------------------------------------------------------------------

class Answer(NamedTuple):
    """An answer line (without its RS) and the lines printed before it."""

    text: str
    diagnostics: list[str]


#: The same pair as a plain tuple: what the typed methods read, made without NamedTuple's __new__.
RawAnswer = tuple[str, list[str]]
#: Makes a NamedTuple from a tuple in C, skipping the Python-level __new__ (half the cost, on the call path).
_tuple_new = tuple.__new__


class Fault(NamedTuple):
    """An exception the endpoint caught while running a command: a fault, or a call of a stub."""

    #: The exception code, e.g. 0xC0000005 (access violation) or 0x80000100 (Wine stub).
    code: int
    #: Where it was raised.
    address: int
    #: `module.function` of the stub that raised it, when it was one; otherwise None.
    where: str | None = None


class CallAnswer(NamedTuple):
    """What a call did: its return value, or the fault that ended it; and what was printed meanwhile."""

    #: The function's return value (RAX), as an unsigned 64-bit number; None when it faulted or timed out.
    value: int | None
    #: The fault that ended the call; None when it returned.
    fault: Fault | None
    #: Lines printed during the call (at most MAX_DIAGNOSTICS).
    diagnostics: list[str]
    #: The thread's last error after the call; None when the function left it alone (or the call faulted).
    last_error: int | None = None
    #: The endpoint ended the call at its time limit (`timeout`).
    timed_out: bool = False
    #: The endpoint's own word that the function is a stub (`ret ... stub=<text>`), else "".
    stub: str = ""


class EndpointInfo(NamedTuple):
    """What the handshake says about the implementation behind an endpoint (`hello`'s answer)."""

    version: int
    #: The implementation's name, version, platform, architecture, kernel mode (`0`/`1`/`process`) and any details.
    fields: dict[str, str]

    @property
    def name(self) -> str:
        return self.fields.get("name", "unknown")


class Export(NamedTuple):
    """A resolved export: its address, and whether the endpoint knows it to be a stub."""

    address: int
    stub: bool = False


# -- reading the answers (the only code that does) ---------------------------------------------------

def _not_a_result(command: str, answer: RawAnswer) -> NoReturn:
    """Raise for an answer that is not `command`'s result: a refusal, or an unexpected answer."""
    text, diagnostics = answer
    if text[:4] == "err " or text == "err":
        raise Refused(command, text, diagnostics)
    raise UnexpectedAnswer(command, text, diagnostics)


def parse_ok(command: str, answer: RawAnswer) -> None:
    """`ok`: the answer of `ping` and `free`."""
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


def parse_fields(text: str) -> dict[str, str]:
    """`key=value key=value ...` with percent-encoded values."""
    fields: dict[str, str] = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"not key=value: {item!r}")
        fields[key] = unquote(value)
    return fields


def format_fields(fields: dict[str, str]) -> str:
    return " ".join(f"{key}={quote(str(value), safe='')}" for key, value in fields.items())


def parse_hello(answer: RawAnswer) -> EndpointInfo:
    """`ok <version> key=value ...`: the endpoint speaks `version` and says who it is."""
    text = answer[0]
    if text[:3] == "ok ":
        version, _, rest = text[3:].partition(" ")
        try:
            return EndpointInfo(int(version), parse_fields(rest))
        except ValueError:
            pass
    _not_a_result("hello", answer)


def parse_resolve(answer: RawAnswer) -> Export | None:
    """`ok <address> [stub]`, or `missing` (None): the module does not load or does not export the symbol."""
    text = answer[0]
    if text == "missing":
        return None
    if text[:3] == "ok ":
        address, _, flag = text[3:].partition(" ")
        try:
            if flag in ("", "stub"):
                return Export(int(address, 16), flag == "stub")
        except ValueError:
            pass
    _not_a_result("resolve", answer)


def parse_fault(command: str, answer: RawAnswer) -> Fault:
    """`fault <code> <address> [<module.function>]`: the exception that ended `command`."""
    text = answer[0]
    if text[:6] == "fault ":
        code, _, rest = text[6:].partition(" ")
        address, _, where = rest.partition(" ")
        try:
            return Fault(int(code, 16), int(address, 16), where or None)
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
    """`ret <value> <last error|-> [stub=<text>]`, `fault ...`, or `timeout`.

    A run makes thousands of calls and nearly all of them return, so `ret`
    is tested first, with a slice and one int(), and nothing else is made.
    """
    text, diagnostics = answer
    if text[:4] == "ret ":
        value, _, rest = text[4:].partition(" ")
        last, _, stub = rest.partition(" ")
        try:
            if not stub:
                return _tuple_new(CallAnswer, (int(value, 16), None, diagnostics,
                                               None if last == "-" else int(last, 16), False, ""))
            if stub[:5] == "stub=":
                return CallAnswer(int(value, 16), None, diagnostics, None if last == "-" else int(last, 16),
                                  False, unquote(stub[5:]) or "stub")
        except ValueError:
            pass
    elif text[:6] == "fault ":
        return CallAnswer(None, parse_fault("call", answer), diagnostics)
    elif text == "timeout":
        return CallAnswer(None, None, diagnostics, None, True)
    _not_a_result("call", answer)


def stub_note(function: str | None, diagnostics: list[str]) -> str:
    """A diagnostic that says `function` is a stub, in Wine's words: `fixme:<channel>:<function> ... stub`.

    Such exports exist (a DLL's own code that prints this and fails), so a
    DLL's export table cannot tell; what the implementation printed can.
    """
    if not function or not diagnostics:
        return ""
    pattern = re.compile(rf"fixme:[^:\s]+:{re.escape(function)}\b.*\bstub\b")
    return next((line for line in diagnostics if pattern.search(line)), "")


def checked(*fields: str) -> None:
    """A line break in a field would end the command early and start another: refuse it."""
    for field in fields:
        if "\n" in field or "\r" in field:
            raise ValueError(f"a line break cannot travel in a command: {field!r}")


# -- writing the answers (the endpoint's side) -------------------------------------------------------

def format_hello(fields: dict[str, str]) -> str:
    return f"ok {VERSION} {format_fields(fields)}".rstrip()


def format_resolve(export: Export | None) -> str:
    if export is None:
        return "missing"
    return f"ok {export.address:x} stub" if export.stub else f"ok {export.address:x}"


def format_fault(fault: Fault) -> str:
    return f"fault {fault.code:x} {fault.address:x}" + (f" {fault.where}" if fault.where else "")


def format_call(value: int | None, last_error: int | None, fault: Fault | None = None, timed_out: bool = False,
                stub: str = "") -> str:
    if timed_out:
        return "timeout"
    if fault is not None:
        return format_fault(fault)
    last = "-" if last_error is None else f"{last_error & 0xFFFFFFFF:x}"
    line = f"ret {(value or 0) & MASK64:x} {last}"
    return line + (f" stub={quote(stub, safe='')}" if stub else "")
