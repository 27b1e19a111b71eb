"""`specproof exports`: which spec'd functions an implementation has, stubs, or lacks.

Asked per function of a spec set, user and kernel mode, without running
any test. A kernel-mode function is looked for in the module its library or
header stands for (`kernelmode.kernel_module`: NtosKrnl.lib → ntoskrnl.exe,
sspi.h → ksecdd.sys); one from a static library has no module and is
`static`; one the headers define inline (wdm.h's InsertTailList) and the
module does not export is `inline`. An adapter that can answer from files
alone (the wine adapter reads Wine's DLLs and kernel modules with pefile)
offers `survey(module, symbol)`; otherwise the adapter's `resolve()`
answers, which may start the implementation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

from .adapter.contract import Adapter, SurveysExports
from .adapter.kernelmode import is_static_library
from .adapter.specindex import module_of
from .adapter.structs import inline_definition
from .spec.yamlio import iter_spec_files, load_spec, read_identity

STATUSES = ("present", "stub", "missing", "inline", "static")


@dataclass(frozen=True)
class ExportStatus:
    header: str
    function: str
    module: str | None
    #: present | stub | missing | inline (not exported: the headers define it inline, a caller compiles it in)
    #: | static (linked into the caller from a static library)
    status: str
    mode: str = "user"


#: The top-level fields a survey needs; a spec file writes them before its long sections.
IDENTITY = frozenset({"api", "kind", "dll", "library", "mode", "header"})


class Exported(NamedTuple):
    """A function spec's identity, as a survey needs it."""

    header: str  # the spec's folder
    function: str
    module: str | None
    mode: str
    static: bool  # from a static library: linked into the caller, no module exports it


def exported_functions(root: Path) -> Iterator[Exported]:
    """Every function spec under `root`, sorted (a method has no export)."""
    for path in iter_spec_files(root):
        fields = read_identity(path, IDENTITY)
        if fields.get("kind") == "method" or "api" not in fields:
            if "api" not in fields:
                load_spec(path)  # not a valid spec: let the loader say why
            continue
        mode = fields.get("mode") or "user"
        module = module_of(fields.get("dll"), fields.get("library"), mode, fields.get("header"))
        yield Exported(path.parent.name, fields["api"], module, mode,
                       module is None and mode == "kernel" and is_static_library(fields.get("library")))


def survey(adapter: Adapter, root: Path) -> list[ExportStatus]:
    quick = adapter.survey if isinstance(adapter, SurveysExports) else None
    rows = []
    for header, function, module, mode, static in exported_functions(root):
        if static:
            rows.append(ExportStatus(header, function, None, "static", mode))
            continue
        status = quick(module, function) if quick is not None else None
        if status is None:
            export = adapter.resolve(module, function)
            status = "missing" if export is None else "stub" if export.stub else "present"
        if status == "missing" and inline_definition(function) is not None:
            status = "inline"
        rows.append(ExportStatus(header, function, module, status, mode))
    return rows


def by_module(rows: list[ExportStatus]) -> dict[str, Counter]:
    """Per module (`(static library)` and `?` for none), how many functions are present, stubs, missing."""
    table: dict[str, Counter] = {}
    for row in rows:
        name = row.module.lower() if row.module else ("(static library)" if row.status == "static" else "?")
        table.setdefault(name, Counter())[row.status] += 1
    return dict(sorted(table.items(), key=lambda item: (-sum(item[1].values()), item[0])))


def counts(rows: list[ExportStatus]) -> dict[str, int]:
    return {status: sum(1 for row in rows if row.status == status) for status in STATUSES}
