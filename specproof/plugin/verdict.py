"""The verdict: a test's outcome, held against the expectations and its level, and what pytest reports.

A pure function of four facts, so every combination is tested on its own
(tests/test_verdict.py), apart from any run:

- an expected departure that departs is `xfail` (its own outcome kept as
  `departure`); one that passes is `xpass`, which fails the run, so
  expectations cannot go stale; an outcome that says nothing about the
  implementation (not-implemented, not-applicable, error) is kept as it is;
- a robustness case that departs keeps its outcome but does not fail the
  pytest run: the docs promise nothing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..outcomes import Outcome

Report = Literal["passed", "skipped", "xfailed", "failed"]


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str
    departure: str | None  # for xfail: the outcome the expected departure had
    report: Report  # what pytest counts: passed, skipped, xfailed (a skip with wasxfail) or failed


def verdict(outcome: str, message: str, expected_reason: str | None, level: str) -> Verdict:
    """The verdict of a test that ended with `outcome` (`expected_reason`: its expectation's reason, if listed)."""
    known = Outcome(outcome)
    departure = None
    if expected_reason is not None and known.ran:
        if known is Outcome.PASS:
            known, message = Outcome.XPASS, f"expected to depart ({expected_reason}) but passed"
        elif known.failing:
            departure = known.value
            known, message = Outcome.XFAIL, f"{expected_reason} [{departure}: {message}]"
    if known is Outcome.PASS or (level == "robustness" and known.failing):
        report: Report = "passed"
    elif known in (Outcome.NOT_IMPLEMENTED, Outcome.NOT_APPLICABLE):
        report = "skipped"
    elif known is Outcome.XFAIL:
        report = "xfailed"
    else:
        report = "failed"
    return Verdict(known.value, message, departure, report)
