"""Runs side by side: what changed between two runs, and a test's outcome over time.

Which pairs are worth a page: each run of an implementation against its
previous run (did the new version fix or break something?) and the newest
runs of every two implementations (where do they behave differently?).
A diff lists changes only: a different outcome, a different observed
value, or a test only one side ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from ..results import TestResult
from .load import Run, SiteData


@dataclass
class Change:
    spec_key: str
    case: str
    before: TestResult | None
    after: TestResult | None


@dataclass
class Diff:
    a: Run
    b: Run
    kind: str  # "runs" (one implementation, consecutive runs) or "implementations"
    changes: list[Change]


def _values(result: TestResult | None) -> tuple:
    if result is None:
        return ()
    return tuple((o.function, o.phase, o.value) for o in result.observed)


def diff(a: Run, b: Run, kind: str) -> Diff:
    """The tests whose outcome or observed values differ between runs `a` and `b`, or that only one ran."""
    left = {r.id: r for r in a.results}
    right = {r.id: r for r in b.results}
    changes = []
    for test_id in sorted(left.keys() | right.keys()):
        before, after = left.get(test_id), right.get(test_id)
        if before is not None and after is not None and before.outcome == after.outcome \
                and _values(before) == _values(after):
            continue
        some = before or after
        assert some is not None
        changes.append(Change(some.spec, some.case, before, after))
    changes.sort(key=lambda c: (c.spec_key, c.case))
    return Diff(a, b, kind, changes)


def diffs(data: SiteData) -> list[Diff]:
    """Consecutive runs of each implementation, then the newest runs of every two implementations."""
    found = []
    for impl in data.impls:
        runs = [r for r in data.runs if r.impl == impl]
        for before, after in zip(runs, runs[1:]):
            found.append(diff(before, after, "runs"))
    for x, y in combinations(data.impls, 2):
        found.append(diff(data.latest[x], data.latest[y], "implementations"))
    return found


#: How many runs a function page's history shows (the newest).
HISTORY_RUNS = 10


def history_runs(data: SiteData) -> list[Run]:
    """The runs a history shows, oldest first; empty when no implementation has more than one run."""
    if len(data.runs) <= len(data.latest):
        return []
    return data.runs[-HISTORY_RUNS:]
