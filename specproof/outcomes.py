"""The outcomes of a conformance test, and the exceptions that carry them.

A test's verdict is more than pass or fail: an implementation can fault,
hang, lack the export, return a value the docs never mention, or not be
able to run the case at all. Generated tests and fixtures raise these
exceptions (or a plain AssertionError for `fail`); the pytest plugin turns
them into the outcome recorded in the results.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A test's outcome, with what it means; the value is what results files hold (`"not-implemented"`)."""

    PASS = "pass"
    FAIL = "fail"
    UNDOCUMENTED = "undocumented"
    CRASH = "crash"
    TIMEOUT = "timeout"
    NOT_IMPLEMENTED = "not-implemented"
    NOT_APPLICABLE = "not-applicable"
    XFAIL = "xfail"
    XPASS = "xpass"
    ERROR = "error"

    @property
    def failing(self) -> bool:
        """The implementation departs from the docs (or died trying)."""
        return self in _FAILING

    @property
    def ran(self) -> bool:
        """The case ran against the implementation (it was there, it applied, the kit did not fail)."""
        return self not in (Outcome.NOT_IMPLEMENTED, Outcome.NOT_APPLICABLE, Outcome.ERROR)

    @property
    def letter(self) -> str:
        """Its letter in pytest's progress line."""
        return _TRAITS[self][0]

    @property
    def word(self) -> str:
        """Its word in pytest's verbose progress."""
        return _TRAITS[self][1]

    @property
    def style(self) -> str:
        """Its colour in terminal tables."""
        return _TRAITS[self][2]


_FAILING = frozenset({Outcome.FAIL, Outcome.UNDOCUMENTED, Outcome.CRASH, Outcome.TIMEOUT})
_TRAITS: dict[Outcome, tuple[str, str, str]] = {
    Outcome.PASS: (".", "PASS", "green"), Outcome.FAIL: ("F", "FAIL", "red"),
    Outcome.UNDOCUMENTED: ("U", "UNDOCUMENTED", "magenta"), Outcome.CRASH: ("C", "CRASH", "red"),
    Outcome.TIMEOUT: ("T", "TIMEOUT", "yellow"), Outcome.NOT_IMPLEMENTED: ("N", "NOT-IMPLEMENTED", "dim"),
    Outcome.NOT_APPLICABLE: ("A", "NOT-APPLICABLE", "dim"), Outcome.XFAIL: ("x", "XFAIL", "cyan"),
    Outcome.XPASS: ("X", "XPASS", "bold red"), Outcome.ERROR: ("E", "ERROR", "bold red"),
}

#: Every outcome's value, in the order reports list them.
OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)
#: The values of the outcomes that mean the implementation departs from the docs.
FAILING: frozenset[str] = frozenset(o.value for o in _FAILING)


class OutcomeError(Exception):
    """Base of the exceptions that end a test with an outcome other than pass; `outcome` says which."""

    outcome = Outcome.ERROR


class Crash(OutcomeError):
    outcome = Outcome.CRASH

    def __init__(self, function: str, fault_text: str) -> None:
        super().__init__(f"{function} faulted: {fault_text}")
        self.function = function


class CallTimeout(OutcomeError):
    outcome = Outcome.TIMEOUT

    def __init__(self, function: str, seconds: float) -> None:
        super().__init__(f"{function} did not return within {seconds:g} s")
        self.function = function


class NotImplementedByImplementation(OutcomeError):
    outcome = Outcome.NOT_IMPLEMENTED

    def __init__(self, function: str, module: str | None, stub: bool = False, detail: str = "") -> None:
        where = f" in {module}" if module else ""
        what = "is a stub" if stub else "is not exported"
        super().__init__(f"{function}{where} {what}" + (f" ({detail})" if detail else ""))
        self.function = function


class NotApplicable(OutcomeError):
    outcome = Outcome.NOT_APPLICABLE


class Undocumented(OutcomeError):
    outcome = Outcome.UNDOCUMENTED


class SetupFailed(OutcomeError):
    """A fixture could not build what a test needs, for a reason other than a missing function."""

    outcome = Outcome.ERROR
