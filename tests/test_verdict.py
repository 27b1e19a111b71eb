"""The verdict, every combination of outcome, expectation and level, apart from any run."""

from __future__ import annotations

import pytest

from specproof.outcomes import Outcome
from specproof.plugin.verdict import verdict

NOT_ABOUT_THE_IMPLEMENTATION = ("not-implemented", "not-applicable", "error")


@pytest.mark.parametrize("outcome", [o.value for o in Outcome if o.value not in ("xfail", "xpass")])
@pytest.mark.parametrize("level", ["conformance", "robustness"])
def test_without_an_expectation_the_outcome_stands(outcome, level):
    judged = verdict(outcome, "why", None, level)
    assert (judged.outcome, judged.message, judged.departure) == (outcome, "why", None)
    if outcome == "pass":
        assert judged.report == "passed"
    elif outcome in ("not-implemented", "not-applicable"):
        assert judged.report == "skipped"
    elif Outcome(outcome).failing:
        assert judged.report == ("passed" if level == "robustness" else "failed"), \
            "a robustness departure is recorded but does not fail the run"
    else:
        assert judged.report == "failed"


@pytest.mark.parametrize("outcome", ["fail", "undocumented", "crash", "timeout"])
def test_an_expected_departure_is_xfail_and_keeps_what_it_was(outcome):
    judged = verdict(outcome, "returned 0x1", "Wine lacks it", "conformance")
    assert (judged.outcome, judged.departure, judged.report) == ("xfail", outcome, "xfailed")
    assert judged.message == f"Wine lacks it [{outcome}: returned 0x1]"


def test_an_expected_departure_that_passes_fails_the_run():
    judged = verdict("pass", "", "Wine lacks it", "robustness")
    assert (judged.outcome, judged.report) == ("xpass", "failed")
    assert "expected to depart (Wine lacks it) but passed" == judged.message


@pytest.mark.parametrize("outcome", NOT_ABOUT_THE_IMPLEMENTATION)
def test_an_expectation_does_not_touch_an_outcome_that_says_nothing_of_the_implementation(outcome):
    judged = verdict(outcome, "missing", "listed", "conformance")
    assert (judged.outcome, judged.message, judged.departure) == (outcome, "missing", None)
