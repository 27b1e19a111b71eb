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
    """What one page gave: a rendered spec, a skip or a failure with its reason.

    Workers send the spec already merged with the file on disk and rendered
    as YAML: text pickles far faster than a model, and dumping is the most
    expensive step left, so it belongs on every core, not on the main one.
    """

    file: str
    status: str  # "spec" | "kept" (the spec on disk is from a newer page) | "skipped" | "failed"
    reason: str = ""
    target: str = ""
    text: str = ""
    rank: tuple[str, int] = ("", 0)
    stale: list[tuple[str, list[str]]] = field(default_factory=list)
    existed: bool = False  # a spec file was there already (so the main process compares before writing)


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


def _display_path(resolved: str, base: str) -> str:
    """The path a spec records: from the docs repository's own folder when the path shows it,
    else relative to the folder above the one named on the command line."""
    upstream = _UPSTREAM_ROOT.search(resolved)
    if upstream:
        return upstream.group(1)
    return resolved[len(base) + 1:] if resolved.startswith(base + "/") else resolved.rsplit("/", 1)[-1]


def collect(paths: Sequence[Path]) -> list[PageJob]:
    """Files to read: named files as given, folders walked for *.md and *.txt (hidden folders left out)."""
    jobs: list[PageJob] = []
    for root in paths:
        resolved = root.resolve()
        base = resolved.parent.as_posix()
        if root.is_file():
            jobs.append(PageJob(root, _display_path(resolved.as_posix(), base), True))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such file or folder")
        prefix = resolved.as_posix()
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            relative = os.path.relpath(folder, root)
            shown = prefix if relative == "." else f"{prefix}/{Path(relative).as_posix()}"
            here = Path(folder)
            for name in sorted(files):
                if name.lower().endswith(PAGE_SUFFIXES) and not name.startswith("."):
                    jobs.append(PageJob(here / name, _display_path(f"{shown}/{name}", base), False))
    return jobs


# -- worker side ----------------------------------------------------------------------

_SDK = None
_OUT: Path = Path("specs")
_OUT_TEXT = "specs/"
_FORCE = False
# the index the main process loaded and for which folders: workers started by fork have it
# already, where loading it again takes each of them a quarter of a second
_LOADED: tuple[tuple[str, ...] | None, object] | None = None


def _init_worker(include_dirs: tuple[str, ...] | None, out: Path, force: bool) -> None:
    global _SDK, _OUT, _OUT_TEXT, _FORCE
    if _LOADED is not None and _LOADED[0] == include_dirs:
        _SDK = _LOADED[1]
    else:
        _SDK = _load_sdk(include_dirs)[0]
    _OUT, _OUT_TEXT, _FORCE = out, str(out / "x")[:-1], force  # "specs/", or "" for "."


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
    return _read(str(job.path), job.display, job.explicit)


def _read_task(task: tuple[str, str, bool]) -> PageResult:
    """`read_one` for a worker: the job as plain strings, which pickle far faster than a Path."""
    return _read(*task)


def _read(path: str, display: str, explicit: bool) -> PageResult:
    try:
        with open(path, "rb") as page:
            size = os.fstat(page.fileno()).st_size
            if size > MAX_PAGE_BYTES:
                return PageResult(display, "failed",
                                  f"{size / 1048576:.1f} MB is too large for a reference page (limit "
                                  f"{MAX_PAGE_BYTES // 1048576} MB); check that this is the page you meant")
            raw = page.read()
        spec = build_spec(read_page(raw, display), _SDK)
        return _render(display, spec)
    except NotAFunction as exc:
        return PageResult(display, "skipped", str(exc))
    except PageError as exc:
        if not explicit and str(exc).startswith("unknown page format"):
            return PageResult(display, "skipped", "not an API reference page")
        return PageResult(display, "failed", str(exc))
    except OSError as exc:
        return PageResult(display, "failed", f"cannot read the file: {exc.strerror or exc}")
    except Exception as exc:  # a reader bug must not stop the other pages
        return PageResult(display, "failed", f"internal error while reading ({type(exc).__name__}: {exc}); "
                                             "please report it with this page")


def _render(display: str, spec: Spec) -> PageResult:
    """Merge with the spec on disk (if any) and render; the main process only compares and writes."""
    target = _spec_file(spec)
    old: Spec | None = None
    if target.exists():
        try:
            old = load_spec(target)
        except SpecFileError as exc:
            return PageResult(display, "failed", f"the spec it would replace is broken ({exc}); "
                                                 "fix or delete that file and ingest again")
        if not _FORCE and _rank(old) > _rank(spec) and old.source.digest != spec.source.digest:
            return PageResult(display, "kept", target=str(target), rank=_rank(spec))
    merged, merge_report = merge(spec, old)
    return PageResult(display, "spec", target=str(target), text=dump_spec(merged), rank=_rank(spec),
                      stale=merge_report.stale, existed=old is not None)


def _read_all(jobs: list[PageJob], workers: int, include_dirs, out: Path, force: bool,
              progress: Callable[[int], None] | None) -> Iterator[PageResult]:
    if workers <= 1 or len(jobs) < 64:
        _init_worker(include_dirs, out, force)
        for job in jobs:
            yield read_one(job)
            if progress:
                progress(1)
        return
    # chunks of at most 64 pages: few enough messages, and a short tail at the end where one
    # worker finishes its last chunk alone and the main process writes its results
    chunk = max(8, min(64, len(jobs) // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(include_dirs, out, force)) as pool:
        tasks = ((str(job.path), job.display, job.explicit) for job in jobs)
        for result in pool.map(_read_task, tasks, chunksize=chunk):
            yield result
            if progress:
                progress(1)


# -- main side ------------------------------------------------------------------------


def _rank(spec: Spec) -> tuple[str, int]:
    """Which of two pages of one function wins: the newer doc date, then markdown over a text copy."""
    return (spec.source.date or "", _FORMAT_RANK.get(spec.source.format, 0))


_UNSAFE = re.compile(r"[^\w.~+-]")


def spec_path(out: Path, spec: Spec) -> Path:
    folder, name = spec.path_key
    return out / folder / f"{_UNSAFE.sub('_', name)}.yaml"


def _spec_file(spec: Spec) -> Path:
    """spec_path under the output folder, made from one string when the folder name is plain."""
    folder, name = spec.path_key
    if "/" in folder or folder in ("", "."):  # Path normalises these
        return spec_path(_OUT, spec)
    return Path(f"{_OUT_TEXT}{folder}/{_UNSAFE.sub('_', name)}.yaml")


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
    global _LOADED
    report = IngestReport()
    jobs = collect(paths)
    report.read = len(jobs)
    dirs = tuple(include_dirs) if include_dirs is not None else None
    sdk, report.sdk_note = _load_sdk(dirs)  # builds the header index once, before the workers use it
    _LOADED = (dirs, sdk)
    progress = progress_factory(len(jobs)) if progress_factory else None
    out.mkdir(parents=True, exist_ok=True)
    write_schema(out)
    # Specs are written as results arrive, so writing overlaps the workers' reading (the pool
    # feeds them from its own thread meanwhile). When a better page of the same function comes
    # later (rare), it writes the file again.
    winners: dict[str, PageResult] = {}
    writes: dict[str, bool | OSError] = {}
    changed: dict[str, bool] = {}
    folders: set[str] = set()
    for result in _read_all(jobs, workers or os.cpu_count() or 1, dirs, out, force, progress):
        if result.status == "skipped":
            report.skipped.append((result.file, result.reason))
        elif result.status == "failed":
            report.failed.append((result.file, result.reason))
        elif result.status == "kept":
            report.kept_newer.append((result.file, Path(result.target)))
        else:
            current = winners.get(result.target)
            if current is None or result.rank > current.rank:
                if current is not None:
                    report.superseded.append((current.file, f"{result.file} is newer or the source format"))
                    changed[result.target] = _written(writes[result.target], current, report)
                winners[result.target] = result
                writes[result.target] = _write(result, folders)
            else:
                report.superseded.append((result.file, f"{current.file} is newer or the source format"))
    for target in sorted(winners):
        for case_id, clause_ids in winners[target].stale:
            report.stale.append((Path(target), case_id, clause_ids))
        wrote = _written(writes[target], winners[target], report)
        if wrote is None:
            continue
        if wrote or changed.get(target, False):
            report.written.append(Path(target))
        else:
            report.unchanged += 1
    return report


def _written(write: bool | OSError, result: PageResult, report: IngestReport) -> bool | None:
    """The outcome of a write; a failed write is reported against its page, never raised."""
    if isinstance(write, OSError):
        report.failed.append((result.file, f"cannot write {result.target}: {write.strerror or write}"))
        return None
    return write


def _write(result: PageResult, folders: set[str]) -> bool | OSError:
    """Write a spec whose bytes changed (True), or leave a file that holds them already (False).

    The text goes to a temporary file renamed over the target, so a spec file is
    never seen half written; each folder is made once per run.
    """
    target = result.target
    try:
        if not result.existed:
            folder = os.path.dirname(target) or "."
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
        elif Path(target).read_text(encoding="utf-8") == result.text:
            return False
        tmp = target + ".tmp"
        data = memoryview(result.text.encode("utf-8"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        return exc
    return True
