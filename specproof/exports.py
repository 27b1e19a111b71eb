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

import yaml

from .adapter.contract import Adapter, SurveysExports
from .adapter.specindex import module_of
from .spec.yamlio import load_spec, read_spec_bytes

STATUSES = ("present", "stub", "missing")


@dataclass(frozen=True)
class ExportStatus:
    header: str
    function: str
    module: str | None
    status: str  # present | stub | missing


#: The top-level fields a survey needs; a spec file writes them before its long sections.
IDENTITY = frozenset({"api", "kind", "dll", "library", "mode"})


def identity(path: Path) -> dict[str, str]:
    """The spec's api, dll, library and mode, read from YAML events up to where all four have been seen.

    A full load parses the whole file (clauses, cases); a sweep of ten
    thousand specs needs only these few lines near the top. A file that
    lacks one (or orders keys differently) is read to its end, so the answer
    is the same either way.
    """
    found: dict[str, str] = {}
    depth = 0
    key: str | None = None
    expect_key = False
    # the bytes as every stage reads a spec: from a regular file only, within the size limit
    for event in yaml.parse(read_spec_bytes(path), Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth == 1:
                expect_key = True
            elif depth == 2 and key is not None:
                key = None
                expect_key = True  # a nested value: skip it, the next top-level scalar is a key
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            continue
        if depth != 1 or not isinstance(event, yaml.ScalarEvent):
            continue
        if expect_key:
            key, expect_key = event.value, False
        else:
            if key in IDENTITY:
                found[key] = event.value
                if len(found) == len(IDENTITY):
                    break
            key, expect_key = None, True
    return found


def user_mode_functions(root: Path) -> Iterator[tuple[str, str, str | None]]:
    """(header folder, function, module) of every user-mode function spec under `root`, sorted (a method has no export)."""
    for path in sorted(root.glob("*/*.yaml")):
        try:
            fields = identity(path)
        except yaml.YAMLError:
            load_spec(path)  # raises SpecFileError naming the file and line
            raise
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
