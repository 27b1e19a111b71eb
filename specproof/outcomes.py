"""The outcomes of a conformance test, and the exceptions that carry them.

A test's verdict is more than pass or fail: an implementation can fault,
hang, lack the export, return a value the docs never mention, or not be
able to run the case at all. Generated tests and fixtures raise these
exceptions (or a plain AssertionError for `fail`); the pytest plugin turns
them into the outcome recorded in the results.
"""

from __future__ import annotations

OUTCOMES = ("pass", "fail", "undocumented", "crash", "timeout", "not-implemented", "not-applicable",
            "xfail", "xpass", "error")
#: Outcomes that mean the implementation departs from the docs (or died trying).
FAILING = frozenset({"fail", "undocumented", "crash", "timeout"})


class Outcome(Exception):
    """Base of the outcome-carrying exceptions; `outcome` is one of OUTCOMES."""

    outcome = "error"


class Crash(Outcome):
    outcome = "crash"

    def __init__(self, function: str, fault_text: str) -> None:
        super().__init__(f"{function} faulted: {fault_text}")
        self.function = function


class CallTimeout(Outcome):
    outcome = "timeout"

    def __init__(self, function: str, seconds: float) -> None:
        super().__init__(f"{function} did not return within {seconds:g} s")
        self.function = function


class NotImplementedByImplementation(Outcome):
    outcome = "not-implemented"

    def __init__(self, function: str, module: str | None, stub: bool = False, detail: str = "") -> None:
        where = f" in {module}" if module else ""
        what = "is a stub" if stub else "is not exported"
        super().__init__(f"{function}{where} {what}" + (f" ({detail})" if detail else ""))
        self.function = function


class NotApplicable(Outcome):
    outcome = "not-applicable"


class Undocumented(Outcome):
    outcome = "undocumented"


class SetupFailed(Outcome):
    """A fixture could not build what a test needs, for a reason other than a missing function."""

    outcome = "error"
