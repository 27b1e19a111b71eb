"""The wire protocol's client (specproof/protocol), without Wine: every command and every answer form.

The answers of an endpoint (helper.c, an agent) are played by a small
Python program standing in for it: it answers each exact command line it is given with the
lines it is told to print (Wine's diagnostics, then the RS answer), so
these tests check both what the client sends and what it makes of every
answer form, malformed ones included. The last tests put the same stand-in
under the adapter, for the messages and results a user sees.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from specproof.adapter.contract import CallResult, Fault
from specproof_adapters.wine import adapter as wine_adapter
from specproof.protocol.wire import (MAX_ARGS, Answer, CallAnswer, EndpointGone, EndpointTimeout, Export,
                                     MemoryFault, Refused, UnexpectedAnswer, parse_call, parse_hello, parse_read,
                                     parse_resolve)
from specproof.protocol.wire import Fault as WireFault
from specproof_adapters.wine.helper import Helper, HelperInfo
from specproof_adapters.wine.toolchain import Wine

RS = "\x1e"

#: The stand-in helper: answers the command lines of $ANSWERS (JSON: line -> lines to print);
#: `<exit N>` ends it with status N, `<hang>` never answers. Any other line is an unknown command.
STAND_IN = r'''
import json, os, sys, time
answers = json.loads(os.environ["ANSWERS"])
for line in sys.stdin:
    line = line.rstrip("\n")
    if line == "exit":
        break
    for out in answers.get(line, ["\x1eerr unknown command"]):
        if out.startswith("<exit "):
            sys.stdout.flush()
            sys.exit(int(out[6:-1]))
        if out == "<hang>":
            sys.stdout.flush()
            time.sleep(600)
        sys.stdout.write(out + "\n")
    sys.stdout.flush()
'''


@pytest.fixture
def helper_with(tmp_path: Path):
    """Starts stand-in helpers that give the answers asked for; stops them after the test."""
    started: list[Helper] = []

    def start(answers: dict[str, list[str]]) -> Helper:
        made = Helper([sys.executable, "-c", STAND_IN], {"ANSWERS": json.dumps(answers)}, tmp_path)
        started.append(made)
        return made

    yield start
    for made in started:
        made.kill()


def answer(text: str, *diagnostics: str) -> list[str]:
    """The lines the helper prints for one command: Wine's diagnostics, then the answer."""
    return [*diagnostics, RS + text]


# -- each command and each of its answers ------------------------------------------------------------

def test_ping_answers_ok(helper_with):
    assert helper_with({"ping": answer("ok")}).ping() is None


def test_hello_gives_the_version_and_who_the_endpoint_is(helper_with):
    helper = helper_with({"hello 1": answer("ok 1 name=wine version=8.0 windows=10.0.19045 arch=x86_64 kernel=0")})
    assert helper.wine_info() == HelperInfo(wine="8.0", windows="10.0.19045", architecture="x86_64")
    assert helper.info.version == 1 and helper.info.name == "wine" and helper.info.fields["kernel"] == "0"


def test_hello_fields_are_percent_encoded():
    # wine-staging's wine_get_version() says "9.0 (Staging)"
    info = parse_hello(("ok 1 name=wine version=9.0%20(Staging) arch=x86_64", []))
    assert info.fields["version"] == "9.0 (Staging)"


def test_a_hello_of_another_version_is_refused(helper_with):
    helper = helper_with({"hello 1": answer("ok 2 name=future")})
    with pytest.raises(Refused, match="speaks version 2"):
        helper.hello()


def test_resolve_in_a_module_and_in_any_loaded_module(helper_with):
    helper = helper_with({"resolve kernel32.dll GetTickCount": answer("ok 7bc4a0f0"),
                          "resolve * GetTickCount": answer("ok 7bc4a0f1")})
    assert helper.resolve("kernel32.dll", "GetTickCount") == Export(0x7BC4A0F0, stub=False)
    assert helper.resolve(None, "GetTickCount").address == 0x7BC4A0F1


def test_resolve_of_a_missing_export_is_none(helper_with):
    helper = helper_with({"resolve secur32.dll NoSuchFunction": answer("missing")})
    assert helper.resolve("secur32.dll", "NoSuchFunction") is None


def test_resolve_refuses_what_the_command_line_cannot_carry(helper_with):
    helper = helper_with({})
    with pytest.raises(ValueError, match="space"):
        helper.resolve("my module.dll", "Function")
    with pytest.raises(ValueError, match="line break"):
        helper.resolve("kernel32.dll", "GetTickCount\nfree 10")
    assert helper.alive()


def test_alloc_gives_the_block_address_and_sends_the_size_in_hex(helper_with):
    helper = helper_with({"alloc 10": answer("ok 1a2b30")})
    assert helper.alloc(16) == 0x1A2B30


def test_alloc_without_memory_is_refused(helper_with):
    helper = helper_with({"alloc 10": answer("err out of memory")})
    with pytest.raises(Refused) as refused:
        helper.alloc(16)
    assert refused.value.command == "alloc" and refused.value.reason == "out of memory"
    assert refused.value.answer == "err out of memory"


def test_write_sends_hex_bytes(helper_with):
    helper = helper_with({"write 1a2b30 7370656300": answer("ok")})
    assert helper.write(0x1A2B30, b"spec\0") is None


def test_a_write_that_faults_raises_memory_fault_with_the_fault(helper_with):
    helper = helper_with({"write 10 00": answer("fault c0000005 10", "err:seh:something")})
    with pytest.raises(MemoryFault) as fault:
        helper.write(0x10, b"\0")
    assert fault.value.fault == WireFault(0xC0000005, 0x10, None)
    assert fault.value.command == "write" and fault.value.answer == "fault c0000005 10"
    assert fault.value.diagnostics == ["err:seh:something"]


def test_a_write_longer_than_a_command_line_is_refused_before_sending(helper_with):
    helper = helper_with({})
    with pytest.raises(ValueError, match="too many"):
        helper.write(0x1000, bytes(1 << 19))


def test_read_gives_exactly_the_bytes_asked_for(helper_with):
    helper = helper_with({"read 1a2b30 5": answer("ok 7370656300"), "read 1a2b30 0": answer("ok ")})
    assert helper.read(0x1A2B30, 5) == b"spec\0"
    assert helper.read(0x1A2B30, 0) == b""


def test_a_read_that_faults_raises_memory_fault(helper_with):
    helper = helper_with({"read 10 4": answer("fault c0000005 10")})
    with pytest.raises(MemoryFault) as fault:
        helper.read(0x10, 4)
    assert fault.value.fault.code == 0xC0000005 and fault.value.fault.address == 0x10
    assert fault.value.command == "read"


def test_a_read_too_large_is_refused(helper_with):
    helper = helper_with({"read 10 100000": answer("err read too large")})
    with pytest.raises(Refused, match="read too large") as refused:
        helper.read(0x10, 0x100000)
    assert refused.value.reason == "read too large"


def test_free_answers_ok(helper_with):
    assert helper_with({"free 1a2b30": answer("ok")}).free(0x1A2B30) is None


def test_call_returns_the_value(helper_with):
    helper = helper_with({"call 7bc00010": answer("ret 2a -"), "call 7bc00020": answer("ret ffffffffffffffff -")})
    assert helper.call(0x7BC00010, [], 5.0) == CallAnswer(0x2A, None, [])
    assert helper.call(0x7BC00020).value == 0xFFFF_FFFF_FFFF_FFFF


def test_call_gives_the_last_error_the_function_set_and_none_when_it_set_none(helper_with):
    helper = helper_with({"call 10": answer("ret 0 6"), "call 20": answer("ret 1 -"),
                          "call 30": answer("ret 0 80090301")})
    assert helper.call(0x10, [], 5.0) == CallAnswer(0, None, [], 6)
    assert helper.call(0x20, [], 5.0).last_error is None
    assert helper.call(0x30, [], 5.0).last_error == 0x80090301


def test_call_sends_its_arguments_in_hex_and_negative_ones_as_64_bit(helper_with):
    helper = helper_with({"call 1000 0 ff ffffffffffffffff": answer("ret 1 -")})
    assert helper.call(0x1000, [0, 0xFF, -1], 5.0).value == 1


def test_call_refuses_more_arguments_than_the_helper_passes(helper_with):
    helper = helper_with({})
    with pytest.raises(ValueError, match=f"at most {MAX_ARGS}"):
        helper.call(0x1000, [0] * (MAX_ARGS + 1))


def test_call_keeps_what_wine_printed_with_the_answer(helper_with):
    printed = ["fixme:fwpuclnt:FwpmEngineOpen0 (null), 4294967295, (null), (null), 0x1000 stub",
               "err:ntlm:something\r"]
    helper = helper_with({"call 1000": answer("ret 32 -", *printed)})
    result = helper.call(0x1000, [], 5.0)
    assert result.value == 0x32 and result.fault is None
    assert result.diagnostics == [printed[0], "err:ntlm:something"]  # the CR of a CRLF line is dropped


def test_a_call_that_faults_gives_the_fault(helper_with):
    helper = helper_with({"call 10": answer("fault c0000005 10")})
    assert helper.call(0x10, [], 5.0) == CallAnswer(None, WireFault(0xC0000005, 0x10, None), [])


def test_a_call_of_a_wine_stub_names_it(helper_with):
    helper = helper_with({"call 7bc01234": answer("fault 80000100 7bc01234 secur32.dll.SaslAcceptSecurityContext")})
    result = helper.call(0x7BC01234, [], 5.0)
    assert result.value is None
    assert result.fault == WireFault(0x80000100, 0x7BC01234, "secur32.dll.SaslAcceptSecurityContext")


def test_an_unknown_command_is_refused(helper_with):
    helper = helper_with({})
    with pytest.raises(Refused, match="unknown command") as refused:
        helper.ping()
    assert refused.value.command == "ping"


# -- malformed answers ----------------------------------------------------------------------------

MALFORMED = [
    ("ping", lambda h: h.ping(), ["", "ok then", "okay", "ret 1", "errors: none"]),
    ("hello", lambda h: h.hello(), ["ok", "ok x", "ok 1 novalue", "ok 1 =x", "hello"]),
    ("resolve", lambda h: h.resolve("kernel32.dll", "GetTickCount"), ["ok", "ok zz", "ok ", "found 10", "missing 1",
                                                                       "ok 10 stubby"]),
    ("alloc", lambda h: h.alloc(16), ["ok", "ok 1a2b3g", "1a2b30", "fault c0000005 10"]),
    ("write", lambda h: h.write(0x10, b"\0"), ["ok 10", "fault", "fault c0000005", "fault zz 10", "done"]),
    ("read", lambda h: h.read(0x10, 2), ["ok 61", "ok 616263", "ok zz", "ok", "61 62", "fault c0000005"]),
    ("free", lambda h: h.free(0x10), ["ok 10", "freed"]),
    ("call", lambda h: h.call(0x10, [], 5.0), ["", "ret", "ret ", "ret xyz", "ret 1", "ret 1 zz", "ret 1 2 3",
                                               "ret - 1", "fault", "fault c0000005",
                                               "fault zz 10", "fault c0000005 yy", "ok", "ok 10", "value 1"]),
]


@pytest.mark.parametrize("command, send, answers", MALFORMED, ids=[row[0] for row in MALFORMED])
def test_a_malformed_answer_is_an_error_naming_the_command_and_the_answer(helper_with, command, send, answers):
    lines = {"ping": "ping", "hello": "hello 1", "resolve": "resolve kernel32.dll GetTickCount", "alloc": "alloc 10",
             "write": "write 10 00", "read": "read 10 2", "free": "free 10", "call": "call 10"}
    for text in answers:
        helper = helper_with({lines[command]: answer(text)})
        with pytest.raises(UnexpectedAnswer) as unexpected:
            send(helper)
        assert unexpected.value.command == command and unexpected.value.answer == text
        assert repr(command) in str(unexpected.value) and repr(text) in str(unexpected.value)
        assert not isinstance(unexpected.value, (Refused, MemoryFault))


def test_the_parsers_read_the_pairs_the_transport_returns():
    assert parse_resolve(Answer("ok 10", [])) == Export(0x10)
    assert parse_resolve(Answer("ok 10 stub", [])) == Export(0x10, stub=True)
    assert parse_call(("ret 0 - stub=FwpmEngineOpen0%20stub", [])).stub == "FwpmEngineOpen0 stub"
    assert parse_call(("timeout", [])).timed_out
    assert parse_read(Answer("ok 00ff", []), 2) == b"\0\xff"
    assert parse_call(Answer("ret 0 -", ["fixme:x"])) == CallAnswer(0, None, ["fixme:x"])
    assert parse_call(("fault c0000005 10", [])).fault == WireFault(0xC0000005, 0x10)
    with pytest.raises(Refused):
        parse_call(("err unknown command", []))


# -- the helper going away -----------------------------------------------------------------------

def test_a_helper_that_exits_during_a_command_is_gone(helper_with):
    helper = helper_with({"call 10": ["wine: Unhandled page fault", "<exit 5>"]})
    with pytest.raises(EndpointGone) as gone:
        helper.call(0x10, [], 5.0)
    assert gone.value.status == 5 and gone.value.command == "call"
    assert "wine: Unhandled page fault" in gone.value.diagnostics


def test_a_command_that_does_not_answer_in_time_times_out_and_the_helper_is_killed(helper_with):
    helper = helper_with({"alloc 10": ["fixme:heap:something", "<hang>"]})
    with pytest.raises(EndpointTimeout) as timeout:
        helper.alloc(16, timeout=0.5)
    assert timeout.value.command == "alloc" and timeout.value.diagnostics == ["fixme:heap:something"]
    assert not helper.alive()


def test_request_is_the_bare_transport(helper_with):
    helper = helper_with({"anything at all": answer("whatever it says", "fixme:x")})
    assert helper.request("anything at all", 5.0) == Answer("whatever it says", ["fixme:x"])


# -- the same answers under the adapter -----------------------------------------------------------

@pytest.fixture
def adapter_on(monkeypatch, helper_with, tmp_path: Path):
    """A WineAdapter whose helper is the stand-in (no Wine is started; its DLL folder is empty)."""
    fake = Wine(loader=tmp_path / "wine64", server=tmp_path / "wineserver", dlls=tmp_path)
    monkeypatch.setattr(wine_adapter, "find_wine", lambda: fake)
    made: list[wine_adapter.WineAdapter] = []

    def start(answers: dict[str, list[str]]) -> wine_adapter.WineAdapter:
        adapter = wine_adapter.WineAdapter(pin="no")
        adapter._helper = helper_with(answers)
        made.append(adapter)
        return adapter

    yield start
    for adapter in made:
        adapter.close()


def test_adapter_call_results(adapter_on):
    adapter = adapter_on({"call 1000 1": answer("ret 2a -"), "resolve * FwpmEngineOpen0": answer("ok 2000"),
                          "call 2000": answer("ret 32 -", "fixme:fwpuclnt:FwpmEngineOpen0 (null) stub"),
                          "call 3000": answer("fault 80000100 3000 secur32.dll.SaslAcceptSecurityContext"),
                          "call 10": answer("fault c0000005 10", "err:seh:something")})
    returned = adapter.call(0x1000, [1], 5.0)
    assert (returned.value, returned.fault, returned.timed_out, returned.diagnostics, returned.stub,
            returned.last_error) == (0x2A, None, False, (), "", None)
    assert adapter.resolve(None, "FwpmEngineOpen0").address == 0x2000
    stubbed = adapter.call(0x2000, [], 5.0)
    assert stubbed.value == 0x32 and stubbed.stub == "fixme:fwpuclnt:FwpmEngineOpen0 (null) stub"
    assert stubbed.diagnostics == ("fixme:fwpuclnt:FwpmEngineOpen0 (null) stub",)
    assert not adapter._damaged
    faulted = adapter.call(0x3000, [], 5.0)
    assert isinstance(faulted, CallResult) and faulted.value is None
    assert faulted.fault == Fault(0x80000100, 0x3000)
    assert faulted.diagnostics == ("wine: unimplemented function secur32.dll.SaslAcceptSecurityContext",)
    assert adapter._damaged
    violation = adapter.call(0x10, [], 5.0)
    assert violation.fault == Fault(0xC0000005, 0x10) and violation.diagnostics == ("err:seh:something",)


def test_adapter_call_of_a_helper_that_exits_is_a_fault_at_the_callee(adapter_on):
    adapter = adapter_on({"call 1000": ["dying", "<exit 3>"]})
    result = adapter.call(0x1000, [], 5.0)
    assert result.fault == Fault(0, 0x1000)
    assert result.diagnostics == ("dying", "wine: the helper process exited during the call (status 3)")
    assert adapter._helper is None


def test_adapter_call_that_hangs_times_out(adapter_on):
    adapter = adapter_on({"call 1000": ["<hang>"]})
    result = adapter.call(0x1000, [], 0.3)
    assert result.timed_out and result.value is None and result.fault is None
    assert adapter._helper is None


def test_adapter_messages_for_refusals_faults_and_odd_answers(adapter_on):
    adapter = adapter_on({"alloc 10": answer("err out of memory"), "read 10 4": answer("fault c0000005 10"),
                          "call 1000": answer("bogus"), "write 10 00": answer("fault c0000005 10")})
    with pytest.raises(RuntimeError, match=r"^Wine helper refused 'alloc': out of memory$"):
        adapter.alloc(16)
    with pytest.raises(wine_adapter.WineMemoryFault,
                       match=r"^reading 4 bytes at 0x10 faulted \(fault c0000005 10\)$"):
        adapter.read(0x10, 4)
    assert adapter._damaged
    with pytest.raises(wine_adapter.WineMemoryFault,
                       match=r"^writing 1 bytes at 0x10 faulted \(fault c0000005 10\)$"):
        adapter.write(0x10, b"\0")
    with pytest.raises(RuntimeError, match=r"^Wine helper gave an unexpected answer to a call: 'bogus'$"):
        adapter.call(0x1000, [], 5.0)
    with pytest.raises(ValueError, match=f"at most {MAX_ARGS} arguments"):
        adapter.call(0x1000, [0] * (MAX_ARGS + 1), 5.0)


def test_adapter_bookkeeping_on_a_helper_that_exits_names_the_command(adapter_on):
    adapter = adapter_on({"alloc 10": ["err:heap:broken", "<exit 4>"]})
    with pytest.raises(RuntimeError, match=r"^Wine helper failed on 'alloc': the Wine helper exited \(status 4\); "
                                           r"Wine printed: err:heap:broken$"):
        adapter.alloc(16)
    assert adapter._helper is None


def test_adapter_memory_round_trip(adapter_on):
    adapter = adapter_on({"alloc 10": answer("ok 5000"), "write 5000 6869": answer("ok"),
                          "read 5000 2": answer("ok 6869"), "free 5000": answer("ok")})
    block = adapter.alloc(16)
    assert block == 0x5000
    adapter.write(block, b"hi")
    assert adapter.read(block, 2) == b"hi"
    adapter.free(block)
    assert block not in adapter._blocks


def test_a_helper_an_earlier_call_crashed_is_replaced_for_a_fresh_command(adapter_on, helper_with, monkeypatch):
    """A thread an earlier call started (CreateThread with a NULL start address) may crash the helper after that
    call returned: the next test's resolve is answered by a new helper, not lost as an error."""
    adapter = adapter_on({"resolve * GetTickCount": ["<exit 5>"]})
    fresh = helper_with({"resolve * GetTickCount": answer("ok 7bc00010"), "read 10 2": ["<exit 5>"]})
    monkeypatch.setattr(adapter, "_spawn", lambda background=False: fresh)
    monkeypatch.setattr(adapter, "_pin", lambda: None)
    assert adapter.resolve(None, "GetTickCount").address == 0x7BC00010
    with pytest.raises(RuntimeError, match="failed on 'read'"):
        adapter.read(0x10, 2)  # memory of a helper that is gone cannot be read from another: no retry
