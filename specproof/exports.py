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

from .adapter.contract import Adapter
from .adapter.specindex import SpecIndex
from .spec.yamlio import load_spec

STATUSES = ("present", "stub", "missing")


@dataclass(frozen=True)
class ExportStatus:
    header: str
    function: str
    module: str | None
    status: str  # present | stub | missing


def user_mode_functions(root: Path) -> Iterator[tuple[str, str, str | None]]:
    """(header folder, function, module) of every user-mode spec under `root`, sorted."""
    for path in sorted(root.glob("*/*.yaml")):
        spec = load_spec(path)
        if spec.mode == "kernel":
            continue
        yield path.parent.name, spec.api, SpecIndex.module_of(spec)


def survey(adapter: Adapter, root: Path) -> list[ExportStatus]:
    quick = getattr(adapter, "survey", None)
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
