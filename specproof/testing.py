"""The helpers generated suites import: case metadata, arguments, and one check per expectation.

Each check fails with the documented set next to what was observed, in hex
and by name, so a failing test says what the docs promise and what the
implementation did. This module is public: hand-written suites may use it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from .adapter.marshal import Api, BadHandle, Returned
from .adapter.structs import layout, pointee
from .spec.model import SIGN_WORDS, as_signed, return_width

__all__ = ["load_cases", "case", "bad_handle", "value", "expect_returns", "expect_success", "expect_failure",
           "expect_completion", "expect_exported", "expect_last_error", "expect_value", "expect_sign",
           "expect_value_is", "expect_writes"]


def load_cases(test_module: str, namespace: dict[str, Any]) -> None:
    """Run a header's generated cases module (`cases_<stem>.py` beside `test_<stem>.py`) in the test module.

    The tests then belong to the test module (node ids, markers, fixtures as
    if written there) while their code lives in a file pytest's
    assertion-rewriting hook does not parse on every collection.
    """
    folder, name = os.path.split(test_module)
    path = os.path.join(folder, "cases_" + name[len("test_"):])
    with open(path, "rb") as handle:
        exec(compile(handle.read(), path, "exec", dont_inherit=True), namespace)


def case(spec: str, case_id: str, *, rule: str, covers: tuple[str, ...] = (), level: str = "conformance",
         mode: str | None = None, expect: str = "") -> pytest.MarkDecorator:
    """Mark a test with where it comes from: spec (`header/Function`), case id, rule, clauses covered."""
    return pytest.mark.specproof(spec=spec, case=case_id, rule=rule, covers=covers, level=level, mode=mode,
                                 expect=expect)


def bad_handle(how: str) -> BadHandle:
    """A handle that is not valid: `null`, `zeroed` or `garbage` (shaped for the parameter's type)."""
    return BadHandle(how)


def value(number: int, name: str | None = None) -> int:
    """A literal argument; `name` only documents which constant it is."""
    return number


def _codes(api: Api, returned: Returned, phase: str = "call") -> str:
    spec = api.spec_of(returned.function)
    return api.codes.describe_set(spec, phase)


def expect_returns(api: Api, returned: Returned, *names: str) -> None:
    """The call returned one of the named codes (compared by value, as the spec gives it)."""
    spec = api.spec_of(returned.function)
    wanted = {api.codes.value_of(spec, name): name for name in names}
    if returned.value in wanted:
        return
    expected = " or ".join(f"{n} (0x{v:08X})" if v is not None else n for v, n in wanted.items())
    raise AssertionError(f"{returned.function} returned {returned.describe()}; expected {expected}. "
                         f"Documented codes: {_codes(api, returned)}")


def expect_success(api: Api, returned: Returned) -> None:
    """The call returned a documented success code."""
    spec = api.spec_of(returned.function)
    if returned.value is not None and api.codes.is_success(spec, returned.value):
        return
    raise AssertionError(f"{returned.function} returned {returned.describe()}; expected a documented success code. "
                         f"Documented codes: {_codes(api, returned)}")


def expect_failure(api: Api, returned: Returned) -> None:
    """The call failed (returned a value that is not a documented success code) rather than succeeding."""
    spec = api.spec_of(returned.function)
    if returned.value is not None and not api.codes.is_success(spec, returned.value):
        return
    raise AssertionError(f"{returned.function} returned {returned.describe()}; expected a failure code. "
                         f"Documented codes: {_codes(api, returned)}")


def expect_last_error(api: Api, returned: Returned, *names: str) -> None:
    """The call left one of the named last errors (`none`: it set none), by value from the spec or the headers."""
    spec = api.spec_of(returned.function)
    wanted: dict[int | None, str] = {}
    for name in names:
        if name == "none":
            wanted[None] = "none (not set)"
            continue
        code = api.codes.value_of(spec, name)
        wanted[code if code is not None else api.constant(name)] = name
    observed = returned.last_error
    if observed in wanted or (observed is not None and observed & 0xFFFFFFFF in wanted):
        return
    expected = " or ".join(n if v is None else f"{n} 0x{v:X}" for v, n in wanted.items())
    seen = "no last error" if observed is None else returned.describe().split(", last error ", 1)[-1]
    raise AssertionError(f"{returned.function} returned {returned.describe()}; expected the last error {expected}, "
                         f"it left {seen}")


def expect_value(api: Api, returned: Returned, number: int) -> None:
    """The call returned exactly `number` (a count or a size its page states)."""
    if returned.value == number:
        return
    raise AssertionError(f"{returned.function} returned {returned.describe()}; expected {number} (0x{number:X})")


_HOLDS = {"negative": lambda v: v < 0, "zero": lambda v: v == 0, "positive": lambda v: v > 0,
          "nonzero": lambda v: v != 0}


def expect_sign(api: Api, returned: Returned, sign: str) -> None:
    """The value returned, read as a signed number of the return type's width (LONG: 32 bits), has `sign`."""
    signed = as_signed(returned.value or 0, return_width(api.spec_of(returned.function).signature.returns))
    if returned.value is not None and _HOLDS[sign](signed):
        return
    raise AssertionError(f"{returned.function} returned {returned.describe()} ({signed}); "
                         f"expected {SIGN_WORDS[sign]}")


def _address(api: Api, returned: Returned, ref: Any) -> tuple[int, str]:
    """(address, what it is) of an expectation's reference: `("arg", NAME)` or a fixture's value."""
    if isinstance(ref, tuple) and len(ref) == 2 and ref[0] == "arg":
        if ref[1] not in returned.args:
            raise AssertionError(f"the case refers to argument {ref[1]!r}, which the call was not given")
        return api.address_of(returned.args[ref[1]]), f"the address of {ref[1]}"
    return api.address_of(ref), "the fixture's address"


def expect_value_is(api: Api, returned: Returned, ref: Any) -> None:
    """The value returned is an address the test holds (RemoveHeadList returns the entry it removed)."""
    address, what = _address(api, returned, ref)
    if returned.value == address:
        return
    raise AssertionError(f"{returned.function} returned {returned.describe()}; expected {what}, 0x{address:X}")


def expect_writes(api: Api, returned: Returned, param: str, fields: dict[str, Any]) -> None:
    """After the call, the structure argument `param` points to holds `fields` (integers, or references to
    addresses the test holds), read with the headers' layout of the parameter's type."""
    spec = api.spec_of(returned.function)
    ctype = next((p.type for p in spec.signature.params if p.name == param), None)
    given = returned.args.get(param)
    struct = getattr(given, "struct", None)  # a structure the case laid out names its own type
    target = layout(struct) if struct else pointee(ctype)
    if target is None:
        raise LookupError(f"{returned.function}'s parameter {param} ({ctype}) does not point to a structure the "
                          "headers define; the case cannot check what it holds")
    address = api.address_of(given)
    record = target.unpack(api.adapter.read(address, target.size))
    wrong = []
    for name, wanted in fields.items():
        got = getattr(record, name)
        if isinstance(wanted, str):  # a sign, read as the field's signed value
            signed = as_signed(got, 8 * next(f.size for f in target.info.fields if f.name == name))
            if not _HOLDS[wanted](signed):
                wrong.append(f"{name} is {signed}, expected {SIGN_WORDS[wanted]}")
            continue
        expected, what = (wanted, "") if isinstance(wanted, int) else _address(api, returned, wanted)
        if got != expected:
            wrong.append(f"{name} is 0x{got:X}, expected 0x{expected:X}" + (f" ({what})" if what else ""))
    if wrong:
        raise AssertionError(f"after {returned.function}, {param} ({target.name}) holds: " + "; ".join(wrong))


def expect_completion(api: Api, returned: Returned, name: str) -> None:
    """The asynchronous call completes with `name`, as its completion-phase reporter says."""
    spec = api.spec_of(returned.function)
    pending = next((c.name for c in spec.returns.codes if c.phase == "completion" and c.name
                    and c.name.endswith("_PENDING")), "")
    status = api.poll_completion(returned, pending)
    wanted = api.codes.value_of(spec, name)
    if status.value == wanted:
        return
    raise AssertionError(f"{returned.function} completed with {status.describe()} (reported by {status.function}); "
                         f"expected {name}" + (f" (0x{wanted:08X})" if wanted is not None else "")
                         + f". Documented completion codes: {_codes(api, returned, 'completion')}")


def expect_exported(api: Api, function: str) -> None:
    """The function's module exports it (for kernel-mode functions: its kernel module); one the headers
    define inline, which no module has to export, is not-applicable."""
    api.resolve(function, inline=False)


