"""`specproof ingest`: pages in, one spec file per function out.

Pages are read in worker processes (one per core): reading is CPU-bound and
a docs checkout holds tens of thousands of pages. Each worker loads the SDK
header index once. The main process decides which page wins when several
describe one function, merges with the spec already on disk, and writes only
files whose bytes change, so a second run changes nothing.

A page that cannot be read never stops the others: its file and the reason
are collected and reported, and the command exits non-zero.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..readers import NotAFunction, PageError, read_page
from ..readers.build import build_spec
from ..spec.model import Spec
from ..spec.schema import write_schema
from ..spec.yamlio import SpecFileError, dump_spec, load_spec
from .merge import merge

MAX_PAGE_BYTES = 4 * 1024 * 1024
PAGE_SUFFIXES = (".md", ".txt")
# a page's path from its docs repository's own folder, whatever the checkout is called
_UPSTREAM_ROOT = re.compile(r"(?:^|/)((?:sdk-api|wdk-ddi)(?:-src/content)?/.*)$")
_FORMAT_RANK = {"learn-text": 0, "sdk-api": 1, "wdk-ddi": 1}


@dataclass
class PageResult:
    """What one page gave: a spec, a skip with its reason, or a failure with its reason."""

    file: str
    status: str  # "spec" | "skipped" | "failed"
    reason: str = ""
    spec: Spec | None = None


@dataclass
class IngestReport:
    read: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (file, why another page won)
    stale: list[tuple[Path, str, list[str]]] = field(default_factory=list)
    kept_newer: list[tuple[str, Path]] = field(default_factory=list)
    sdk_note: str | None = None

    @property
    def specs(self) -> int:
        return len(self.written) + self.unchanged


@dataclass(frozen=True)
class PageJob:
    path: Path
    display: str  # the path recorded in the spec: stable whatever the working directory
    explicit: bool  # named on the command line (an unreadable one fails instead of being skipped)


def _display_path(path: Path, root: Path) -> str:
    posix = path.resolve().as_posix()
    upstream = _UPSTREAM_ROOT.search(posix)
    if upstream:
        return upstream.group(1)
    base = root.resolve().parent if root.is_dir() else root.resolve().parent
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return path.name


def collect(paths: Sequence[Path]) -> list[PageJob]:
    """Files to read: named files as given, folders walked for *.md and *.txt (hidden folders left out)."""
    jobs: list[PageJob] = []
    for root in paths:
        if root.is_file():
            jobs.append(PageJob(root, _display_path(root, root), True))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such file or folder")
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.lower().endswith(PAGE_SUFFIXES) and not name.startswith("."):
                    path = Path(folder) / name
                    jobs.append(PageJob(path, _display_path(path, root), False))
    return jobs


# -- worker side ----------------------------------------------------------------------

_SDK = None


def _init_worker(include_dirs: tuple[str, ...] | None) -> None:
    global _SDK
    _SDK = _load_sdk(include_dirs)[0]


def _load_sdk(include_dirs: tuple[str, ...] | None):
    if include_dirs == ():
        return None, "SDK headers not used (--no-sdk): code values come from the pages only"
    try:
        from ..sdk import SdkHeaders, SdkNotFound
    except ImportError as exc:  # pragma: no cover
        return None, f"SDK header support unavailable: {exc}"
    try:
        dirs = [Path(d) for d in include_dirs] if include_dirs else None
        return SdkHeaders.load(dirs), None
    except SdkNotFound as exc:
        return None, str(exc)


def read_one(job: PageJob) -> PageResult:
    """Read and build one page; never raises for a bad page."""
    try:
        size = job.path.stat().st_size
        if size > MAX_PAGE_BYTES:
            return PageResult(job.display, "failed",
                              f"{size / 1048576:.1f} MB is too large for a reference page (limit "
                              f"{MAX_PAGE_BYTES // 1048576} MB); check that this is the page you meant")
        raw = job.path.read_bytes()
        parts = read_page(raw, job.display)
        return PageResult(job.display, "spec", spec=build_spec(parts, _SDK))
    except NotAFunction as exc:
        return PageResult(job.display, "skipped", str(exc))
    except PageError as exc:
        if not job.explicit and str(exc).startswith("unknown page format"):
            return PageResult(job.display, "skipped", "not an API reference page")
        return PageResult(job.display, "failed", str(exc))
    except OSError as exc:
        return PageResult(job.display, "failed", f"cannot read the file: {exc.strerror or exc}")
    except Exception as exc:  # a reader bug must not stop the other pages
        return PageResult(job.display, "failed", f"internal error while reading ({type(exc).__name__}: {exc}); "
                                                 "please report it with this page")


def _read_all(jobs: list[PageJob], workers: int, include_dirs, progress: Callable[[int], None] | None
              ) -> Iterator[PageResult]:
    if workers <= 1 or len(jobs) < 64:
        _init_worker(include_dirs)
        for job in jobs:
            yield read_one(job)
            if progress:
                progress(1)
        return
    chunk = max(8, min(256, len(jobs) // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(include_dirs,)) as pool:
        for result in pool.map(read_one, jobs, chunksize=chunk):
            yield result
            if progress:
                progress(1)


# -- main side ------------------------------------------------------------------------


def _rank(spec: Spec) -> tuple[str, int]:
    """Which of two pages of one function wins: the newer doc date, then markdown over a text copy."""
    return (spec.source.date or "", _FORMAT_RANK.get(spec.source.format, 0))


def spec_path(out: Path, spec: Spec) -> Path:
    folder, name = spec.path_key
    safe = re.sub(r"[^\w.~+-]", "_", name)
    return out / folder / f"{safe}.yaml"


def ingest(
    paths: Sequence[Path],
    out: Path,
    *,
    workers: int | None = None,
    include_dirs: Sequence[str] | None = None,
    force: bool = False,
    progress_factory: Callable[[int], Callable[[int], None] | None] | None = None,
) -> IngestReport:
    """Read `paths`, write specs under `out`; see the module docstring."""
    report = IngestReport()
    jobs = collect(paths)
    report.read = len(jobs)
    dirs = tuple(include_dirs) if include_dirs is not None else None
    _, report.sdk_note = _load_sdk(dirs)  # builds the header index once, before the workers load it
    progress = progress_factory(len(jobs)) if progress_factory else None
    winners: dict[Path, Spec] = {}
    for result in _read_all(jobs, workers or os.cpu_count() or 1, dirs, progress):
        if result.status == "skipped":
            report.skipped.append((result.file, result.reason))
        elif result.status == "failed":
            report.failed.append((result.file, result.reason))
        else:
            assert result.spec is not None
            target = spec_path(out, result.spec)
            current = winners.get(target)
            if current is None or _rank(result.spec) > _rank(current):
                if current is not None:
                    report.superseded.append((current.source.file, f"{result.file} is newer or the source format"))
                winners[target] = result.spec
            else:
                report.superseded.append((result.file, f"{current.source.file} is newer or the source format"))
    out.mkdir(parents=True, exist_ok=True)
    write_schema(out)
    for target in sorted(winners):
        _write_one(target, winners[target], report, force)
    return report


def _write_one(target: Path, spec: Spec, report: IngestReport, force: bool) -> None:
    old: Spec | None = None
    existing_text: str | None = None
    if target.exists():
        existing_text = target.read_text(encoding="utf-8")
        try:
            old = load_spec(target)
        except SpecFileError as exc:
            report.failed.append((spec.source.file, f"the spec it would replace is broken ({exc}); "
                                                    "fix or delete that file and ingest again"))
            return
        if not force and _rank(old) > _rank(spec) and old.source.digest != spec.source.digest:
            report.kept_newer.append((spec.source.file, target))
            return
    merged, merge_report = merge(spec, old)
    text = dump_spec(merged)
    for case_id, clause_ids in merge_report.stale:
        report.stale.append((target, case_id, clause_ids))
    if text == existing_text:
        report.unchanged += 1
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    report.written.append(target)

