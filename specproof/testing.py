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

__all__ = ["load_cases", "case", "bad_handle", "value", "expect_returns", "expect_success", "expect_failure",
           "expect_completion", "expect_exported", "expect_last_error", "expect_value"]


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
    """The function's module exports it (for kernel-mode functions: its kernel module)."""
    api.resolve(function)


