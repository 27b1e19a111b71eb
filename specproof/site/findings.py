"""What the results say about the docs themselves.

An implementation that departs from a clause may be wrong; when every
implementation that ran the clause's tests departs from it, the docs are
the likelier culprit. The same goes for a value the docs never list but
implementations return. These functions read the newest run of each
implementation and the spec set, and return plain records the page
writers lay out; each is named for the question it answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..results import Observed, TestResult
from ..spec.model import Case, Clause, ReturnCode, Spec
from .load import SiteData


@dataclass
class Disagreement:
    """A clause that every implementation which ran its tests departs from."""

    spec_key: str
    clause: Clause
    departing: dict[str, list[TestResult]]  # implementation -> its departing tests of the clause
    ran: list[str]  # implementations that ran at least one of its tests


@dataclass
class UndocumentedCode:
    """A value a function returned that its docs do not list."""

    spec_key: str | None
    function: str
    value: str
    name: str | None
    phase: str
    returned_by: dict[str, list[TestResult]] = field(default_factory=dict)  # implementation -> tests
    ran: list[str] = field(default_factory=list)  # implementations that ran a test making this call


@dataclass
class StaleCase:
    spec_key: str
    case: Case
    clauses: list[Clause | str]  # the changed clauses (the id alone when the clause is gone)


@dataclass
class UnresolvedCode:
    spec_key: str
    code: ReturnCode


@dataclass
class Findings:
    disagreements: list[Disagreement]
    undocumented: list[UndocumentedCode]
    stale: list[StaleCase]
    unresolved: list[UnresolvedCode]


@dataclass
class Observation:
    """An observed value with the test that saw it, filed under the function whose docs judge it."""

    impl: str
    observed: Observed
    result: TestResult
    phase: str


def owner(observed: Observed, result: TestResult, phase: str) -> str:
    """The function whose docs judge an observed value.

    A completion status read back through another function (SspiGetAsyncCallStatus) is judged by the
    function under test's completion-phase codes; any other call by the function it called.
    """
    if phase == "completion" or not observed.function:
        return result.function
    return observed.function


def observations(data: SiteData, api_keys: dict[str, list[str]]) -> dict[str, list[Observation]]:
    """Every value the newest runs observed, by the spec key of the function whose docs judge it."""
    found: dict[str, list[Observation]] = {}
    for impl, run in data.latest.items():
        for result in run.results:
            for observed in result.observed:
                phase = observed.phase
                function = owner(observed, result, phase)
                key = result.spec if function == result.function else _key_for(function, result.spec, api_keys)
                found.setdefault(key or f"?/{function}", []).append(Observation(impl, observed, result, phase))
    return found


def _key_for(function: str, near: str, api_keys: dict[str, list[str]]) -> str | None:
    """The spec key of `function`, preferring the header of the spec the test belongs to."""
    keys = api_keys.get(function) or []
    stem = near.partition("/")[0]
    for key in keys:
        if key.partition("/")[0] == stem:
            return key
    return keys[0] if keys else None


def api_index(specs: dict[str, Spec]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for key, spec in specs.items():
        index.setdefault(spec.api, []).append(key)
    return index


def disagreements(data: SiteData) -> list[Disagreement]:
    """Clauses every implementation that ran one of their tests departs from in at least one of them."""
    per_clause: dict[tuple[str, str], dict[str, list[TestResult]]] = {}
    for impl, run in data.latest.items():
        for result in run.results:
            if not result.ran:
                continue
            for clause_id in result.clauses:
                per_clause.setdefault((result.spec, clause_id), {}).setdefault(impl, []).append(result)
    found = []
    for (key, clause_id), by_impl in sorted(per_clause.items()):
        departing = {impl: [r for r in results if r.departs] for impl, results in by_impl.items()}
        if not all(departing.values()):
            continue
        spec = data.specs.get(key)
        clause = spec.clause(clause_id) if spec else None
        if clause is None:
            clause = Clause(id=clause_id, section="returns", text="(this clause is not in the spec set)",
                            digest="", kind="normative")
        found.append(Disagreement(key, clause, departing, sorted(by_impl)))
    found.sort(key=lambda d: -len(d.ran))  # the strongest evidence first: more implementations agreeing
    return found


def undocumented(data: SiteData, seen: dict[str, list[Observation]]) -> list[UndocumentedCode]:
    """Values returned that the judging function's docs do not list, with who returned them."""
    found: dict[tuple[str, str, str], UndocumentedCode] = {}
    for key, items in seen.items():
        for item in items:
            if item.observed.documented is not False or not item.observed.value:
                continue
            function = key.rpartition("/")[2]
            entry = found.setdefault((key, item.phase, item.observed.value), UndocumentedCode(
                key if key in data.specs else None, function, item.observed.value, item.observed.name, item.phase))
            tests = entry.returned_by.setdefault(item.impl, [])
            if item.result not in tests:
                tests.append(item.result)
    for (key, phase, _), entry in found.items():
        calling = {(r.spec, r.case) for tests in entry.returned_by.values() for r in tests}
        entry.ran = sorted({item.impl for item in seen.get(key, ()) if item.phase == phase
                            and (item.result.spec, item.result.case) in calling})
    return sorted(found.values(), key=lambda u: (u.spec_key or "", u.function, u.phase, u.value))


def stale_cases(data: SiteData) -> list[StaleCase]:
    """Curated cases whose covered clauses changed since they were written (marked `stale` by ingest)."""
    found = []
    for key, spec in sorted(data.specs.items()):
        for case in spec.cases:
            if case.stale:
                found.append(StaleCase(key, case, [spec.clause(c) or c for c in case.stale]))
    return found


def unresolved_codes(data: SiteData) -> list[UnresolvedCode]:
    """Codes a page names that no SDK header defines: the docs may misspell them."""
    return [UnresolvedCode(key, code) for key, spec in sorted(data.specs.items())
            for code in spec.returns.codes if code.unresolved]


def findings(data: SiteData, seen: dict[str, list[Observation]]) -> Findings:
    return Findings(disagreements(data), undocumented(data, seen), stale_cases(data), unresolved_codes(data))
