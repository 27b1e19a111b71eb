"""`specproof protocol-check ENDPOINT`: drive an endpoint through the whole protocol and say what conforms.

The kit checks its own endpoints with it (the helper under Wine, the agent,
the helper over SSH), and a third party checks theirs: every command with a
good and a bad argument, a fault, an unknown command, a malformed line and
an oversized one, each judged against adapters/PROTOCOL.md. Each check is a
name, whether it passed, and what the endpoint answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .client import Endpoint
from .wire import (LINE_MAX_BYTES, READ_MAX_BYTES, VERSION, AnswerError, EndpointGone, EndpointTimeout, MemoryFault,
                   Refused, parse_call)

TIMEOUT = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def run_checks(connect: Callable[[], Endpoint], function: str = "GetTickCount", module: str = "kernel32.dll",
               token: bytes | None = None) -> list[Check]:
    """Every check, in order, on one endpoint (reconnecting where a check ends the connection)."""
    checks: list[Check] = []

    def record(name: str, passed: bool, detail: str) -> None:
        checks.append(Check(name, passed, detail))

    try:
        endpoint = connect()
    except (OSError, EndpointGone, EndpointTimeout) as error:
        record("connect", False, str(error))
        return checks
    try:
        info = endpoint.hello(token, timeout=TIMEOUT)
        fields = info.fields
        missing = [key for key in ("name", "version", "arch") if key not in fields]
        record("hello", info.version == VERSION and not missing,
               f"version {info.version}, " + (f"lacks {', '.join(missing)}" if missing else
                                              f"{fields['name']} {fields['version']} ({fields['arch']})"))
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record("hello", False, str(error))
        return checks
    _checked(record, "ping", lambda: endpoint.ping(TIMEOUT) is None, "ok")
    _memory(record, endpoint)
    _calls(record, endpoint, function, module)
    _refusals(record, endpoint)
    endpoint = _oversized(record, endpoint, connect, token)
    if endpoint is not None:
        try:
            endpoint.stop(grace=5.0)
            record("exit", not endpoint.alive(), "the endpoint closed" if not endpoint.alive() else "still open")
        except OSError as error:
            record("exit", False, str(error))
    return checks


def _checked(record, name: str, action: Callable[[], bool], detail: str) -> None:
    try:
        record(name, bool(action()), detail)
    except (AnswerError, EndpointGone, EndpointTimeout, ValueError) as error:
        record(name, False, str(error))


def _memory(record, endpoint: Endpoint) -> None:
    try:
        address = endpoint.alloc(16, TIMEOUT)
        record("alloc", address != 0, f"16 bytes at 0x{address:x}")
        zeroed = endpoint.read(address, 16, TIMEOUT)
        record("alloc zero-fills", zeroed == bytes(16), zeroed.hex())
        endpoint.write(address, b"spec\x00proof", TIMEOUT)
        back = endpoint.read(address, 10, TIMEOUT)
        record("write and read back", back == b"spec\x00proof", back.hex())
        endpoint.free(address, TIMEOUT)
        record("free", True, "ok")
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record("memory", False, str(error))
        return
    try:
        endpoint.read(0, 8, TIMEOUT)
        record("read of NULL faults", False, "answered with bytes")
    except MemoryFault as fault:
        record("read of NULL faults", True, f"fault {fault.fault.code:x} at {fault.fault.address:x}")
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record("read of NULL faults", False, str(error))
    try:
        endpoint.read(0x1000, READ_MAX_BYTES + 1, TIMEOUT)
        record("read too large is refused", False, "answered with bytes")
    except Refused as refused:
        record("read too large is refused", True, refused.reason)
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record("read too large is refused", False, str(error))


def _calls(record, endpoint: Endpoint, function: str, module: str) -> None:
    try:
        export = endpoint.resolve(module, function, TIMEOUT)
        record(f"resolve {module} {function}", export is not None,
               "missing" if export is None else f"0x{export.address:x}" + (" (stub)" if export.stub else ""))
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record(f"resolve {module} {function}", False, str(error))
        export = None
    try:
        nothing = endpoint.resolve(module, "SpecproofNoSuchExport", TIMEOUT)
        record("resolve of a missing export", nothing is None, "missing" if nothing is None else "found")
    except Refused as refused:
        record("resolve of a missing export", True, f"refused: {refused.reason}")
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record("resolve of a missing export", False, str(error))
    if export is not None:
        try:
            answer = endpoint.call(export.address, [], TIMEOUT)
            last = "not set" if answer.last_error is None else f"0x{answer.last_error:x}"
            record(f"call {function}", answer.fault is None and answer.value is not None,
                   f"returned 0x{answer.value or 0:x}, last error {last}")
        except (AnswerError, EndpointGone, EndpointTimeout) as error:
            record(f"call {function}", False, str(error))
    try:
        text, _ = endpoint.request("call 0", TIMEOUT)
        if text.startswith("err "):
            record("call of address 0 faults or is refused", True, text)
        else:
            answer = parse_call((text, []))
            record("call of address 0 faults or is refused", answer.fault is not None, text)
    except (AnswerError, EndpointGone, EndpointTimeout) as error:
        record("call of address 0 faults or is refused", False, str(error))


def _refusals(record, endpoint: Endpoint) -> None:
    for name, line in (("an unknown command is refused", "frobnicate 1"),
                       ("a malformed number is refused", "alloc zz"),
                       ("a call with a malformed argument is refused", "call 10 xyz"),
                       ("a write of an odd number of digits is refused", "write 10 abc")):
        try:
            text, _ = endpoint.request(line, TIMEOUT)
            record(name, text.startswith("err"), text)
        except (EndpointGone, EndpointTimeout) as error:
            record(name, False, str(error))
    _checked(record, "still answers after the refusals", lambda: endpoint.ping(TIMEOUT) is None, "ok")


def _oversized(record, endpoint: Endpoint, connect: Callable[[], Endpoint], token: bytes | None) -> Endpoint | None:
    """A line over the limit: refused (`err`), and then the endpoint answers, or it disconnects the client
    after saying why; either way a new client is served."""
    line = "write 10 " + "00" * (LINE_MAX_BYTES // 2)
    try:
        text, _ = endpoint.request(line, TIMEOUT)
        record("an oversized line is refused", text.startswith("err"), text[:80])
    except (EndpointGone, EndpointTimeout) as error:
        record("an oversized line is refused", False, f"no answer: {error}")
    try:
        endpoint.ping(TIMEOUT)
        record("answers after an oversized line", True, "ok")
        return endpoint
    except (AnswerError, EndpointGone, EndpointTimeout):
        endpoint.kill()
    try:
        again = connect()
        again.hello(token, timeout=TIMEOUT)
        again.ping(TIMEOUT)
        record("answers after an oversized line", True, "disconnected that client; a new one is served")
        return again
    except (OSError, AnswerError, EndpointGone, EndpointTimeout) as error:
        record("answers after an oversized line", False, str(error))
        return None
