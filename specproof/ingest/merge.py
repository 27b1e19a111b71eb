"""Re-ingest: a freshly read spec meets the spec already on disk.

The page owns most of a spec, but an editor owns some of it: curated cases,
codes added by hand (`origin: editor`), and the phase / reporter / note set
on a documented code. Re-reading a newer page must keep those, keep clause
ids stable (a case cites ids), and say which cases cite a clause whose text
changed since, so a reviewer looks at them again.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ..spec.model import Case, Clause, ReturnCode, Spec

_ID = re.compile(r"^([A-Z]+)(\d+)$")


@dataclass
class MergeReport:
    stale: list[tuple[str, list[str]]] = field(default_factory=list)  # (case id, changed clause ids)


def _code_key(code: ReturnCode) -> tuple[str, str]:
    return (code.name or code.family or (code.label or "").lower(), code.phase)


def _stable_ids(old: list[Clause], new: list[Clause]) -> dict[str, str]:
    """Map each new clause's provisional id to its final id.

    Per section, the old and new sentence sequences are aligned by digest
    (difflib): an unchanged sentence keeps its id wherever it moved; a
    sentence replaced in place keeps the id of the one it replaces (its
    digest differs, which is how the cases citing it become stale); an
    inserted sentence gets a fresh number after the highest one ever used.
    """
    mapping: dict[str, str] = {}
    highest: dict[str, int] = {}
    for clause in old + new:
        m = _ID.match(clause.id)
        if m:
            highest[m.group(1)] = max(highest.get(m.group(1), 0), int(m.group(2)))
    sections = dict.fromkeys(c.section for c in old + new)
    for section in sections:
        before = [c for c in old if c.section == section]
        after = [c for c in new if c.section == section]
        matcher = difflib.SequenceMatcher(a=[c.digest for c in before], b=[c.digest for c in after], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("equal", "replace"):
                for k in range(min(i2 - i1, j2 - j1)):
                    mapping[after[j1 + k].id] = before[i1 + k].id
    for clause in new:
        if clause.id not in mapping:
            m = _ID.match(clause.id)
            prefix = m.group(1) if m else clause.id
            highest[prefix] = highest.get(prefix, 0) + 1
            mapping[clause.id] = f"{prefix}{highest[prefix]}"
    return mapping


def merge(new: Spec, old: Spec | None) -> tuple[Spec, MergeReport]:
    """The spec to write: `new` from the page, carrying over what the editor owns in `old`."""
    report = MergeReport()
    if old is None:
        return new, report
    mapping = _stable_ids(old.clauses, new.clauses)
    clauses = [c.model_copy(update={"id": mapping[c.id]}) for c in new.clauses]
    codes = [c.model_copy(update={"clause": mapping.get(c.clause, c.clause) if c.clause else None})
             for c in new.returns.codes]
    old_codes = {_code_key(c): c for c in old.returns.codes}
    for code in codes:
        previous = old_codes.get(_code_key(code))
        if previous is None:
            continue
        if previous.reported_by and not code.reported_by:
            code.reported_by = previous.reported_by
        if previous.note and not code.note:
            code.note = previous.note
    # codes the editor added, and a phase the editor changed (found under the other phase's key)
    new_keys = {_code_key(c) for c in codes}
    for previous in old.returns.codes:
        if _code_key(previous) in new_keys:
            continue
        if previous.origin == "editor":
            codes.append(previous)
            new_keys.add(_code_key(previous))
            continue
        ident = _code_key(previous)[0]
        moved = [c for c in codes if _code_key(c)[0] == ident and c.origin == previous.origin]
        if len(moved) == 1:
            moved[0].phase, moved[0].reported_by = previous.phase, previous.reported_by
            new_keys = {_code_key(c) for c in codes}
    old_digest = {c.id: c.digest for c in old.clauses}
    new_digest = {c.id: c.digest for c in clauses}
    cases: list[Case] = []
    for case in old.cases:
        changed = sorted(
            {cid for cid in case.covers if old_digest.get(cid) != new_digest.get(cid)} | set(case.stale),
            key=lambda cid: (cid[:1], int(cid[1:]) if cid[1:].isdigit() else 0),
        )
        if changed != case.stale:
            case = case.model_copy(update={"stale": changed})
        if changed:
            report.stale.append((case.id, changed))
        cases.append(case)
    merged = new.model_copy(update={
        "clauses": clauses,
        "returns": new.returns.model_copy(update={"codes": codes}),
        "cases": cases,
    })
    return merged, report
