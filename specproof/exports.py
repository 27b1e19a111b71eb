"""`specproof exports`: which spec'd functions an implementation has, stubs, or lacks.

Asked per user-mode function of a spec set, without running any test. An
adapter that can answer from files alone (the wine adapter reads Wine's
DLLs with pefile) offers `survey(module, symbol)`; otherwise the
adapter's `resolve()` answers, which may start the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .adapter.contract import Adapter, SurveysExports
from .adapter.specindex import module_of
from .spec.yamlio import iter_spec_files, load_spec, read_identity

STATUSES = ("present", "stub", "missing")


@dataclass(frozen=True)
class ExportStatus:
    header: str
    function: str
    module: str | None
    status: str  # present | stub | missing


#: The top-level fields a survey needs; a spec file writes them before its long sections.
IDENTITY = frozenset({"api", "kind", "dll", "library", "mode"})


def user_mode_functions(root: Path) -> Iterator[tuple[str, str, str | None]]:
    """(header folder, function, module) of every user-mode function spec under `root`, sorted (a method has no export)."""
    for path in iter_spec_files(root):
        fields = read_identity(path, IDENTITY)
        if fields.get("mode") == "kernel" or fields.get("kind") == "method" or "api" not in fields:
            if "api" not in fields:
                load_spec(path)  # not a valid spec: let the loader say why
            continue
        yield path.parent.name, fields["api"], module_of(fields.get("dll"), fields.get("library"),
                                                         fields.get("mode"))


def survey(adapter: Adapter, root: Path) -> list[ExportStatus]:
    quick = adapter.survey if isinstance(adapter, SurveysExports) else None
    rows = []
    for header, function, module in user_mode_functions(root):
        status = quick(module, function) if quick is not None else None
        if status is None:
            export = adapter.resolve(module, function)
            status = "missing" if export is None else "stub" if export.stub else "present"
        rows.append(ExportStatus(header, function, module, status))
    return rows


def counts(rows: list[ExportStatus]) -> dict[str, int]:
    return {status: sum(1 for row in rows if row.status == status) for status in STATUSES}
