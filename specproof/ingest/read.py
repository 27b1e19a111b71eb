"""Reading pages into rendered specs: the worker side of `ingest`.

Pages are read in worker processes (one per core): reading is CPU-bound and
a docs checkout holds tens of thousands of pages. Each worker loads the SDK
header index once, merges the page's spec with the file on disk and renders
it, so the main process only compares and writes.

This is a module of its own because everything it imports (the readers,
cmark-gfm, lexbor, pydantic, PyYAML, the SDK index) costs about a quarter of
a second to load: a re-ingest that finds every page in the cache
(see cache.py) never imports it.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..readers import NotAFunction, PageError, read_page
from ..readers.spec_builder import build_spec
from ..spec.model import Spec
from ..spec.yamlio import SpecFileError, dump_spec, read_spec
from .collect import PageJob
from .merge import merge
from .page import MAX_PAGE_BYTES, NO_SDK_NOTE, PageResult, keeps_newer, page_digest, rank, spec_path, too_large

_SDK = None
_OUT: Path = Path("specs")
_OUT_TEXT = "specs/"
_FORCE = False
# the index the main process loaded and for which folders: workers started by fork have it
# already, where loading it again takes each of them a quarter of a second
_LOADED: tuple[tuple[str, ...] | None, object] | None = None


def prepare(include_dirs: tuple[str, ...] | None) -> str | None:
    """Load the SDK index in the main process, before any worker starts; returns the note about it."""
    global _LOADED
    sdk, note = load_sdk(include_dirs)
    _LOADED = (include_dirs, sdk)
    return note


def _init_worker(include_dirs: tuple[str, ...] | None, out: Path, force: bool) -> None:
    global _SDK, _OUT, _OUT_TEXT, _FORCE
    if _LOADED is not None and _LOADED[0] == include_dirs:
        _SDK = _LOADED[1]
    else:
        _SDK = load_sdk(include_dirs)[0]
    _OUT, _OUT_TEXT, _FORCE = out, str(out / "x")[:-1], force  # "specs/", or "" for "."


def load_sdk(include_dirs: tuple[str, ...] | None):
    if include_dirs == ():
        return None, NO_SDK_NOTE
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
    return _read(job.file, job.display, job.explicit)


def _read_task(task: tuple[str, str, bool]) -> PageResult:
    """`read_one` for a worker: the job as a plain tuple of strings, which pickles fast."""
    return _read(*task)


def _read(path: str, display: str, explicit: bool) -> PageResult:
    digest: bytes | None = None  # of the bytes read: what the cache keys the result by
    try:
        # O_NONBLOCK: a FIFO named like a page must not wait for a writer; only regular files are read,
        # and never more than the limit (a link to /dev/zero has no size to check first)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as page:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                why = "not a regular file (a FIFO, device or socket); ingest reads page files only"
                return PageResult(display, "failed" if explicit else "skipped", why)
            if status.st_size > MAX_PAGE_BYTES:
                return PageResult(display, "failed", too_large(status.st_size), digest=b"")  # b"": by the size
            raw = page.read(MAX_PAGE_BYTES + 1)
            if len(raw) > MAX_PAGE_BYTES:  # it grew while being read
                return PageResult(display, "failed", too_large(len(raw)))
        digest = page_digest(raw)
        spec = build_spec(read_page(raw, display), _SDK)
        return _render(display, spec, digest)
    except NotAFunction as exc:
        return PageResult(display, "skipped", str(exc), digest=digest)
    except PageError as exc:
        if not explicit and str(exc).startswith("unknown page format"):
            return PageResult(display, "skipped", "not an API reference page", digest=digest)
        return PageResult(display, "failed", str(exc), digest=digest)
    except OSError as exc:  # not cached: the next run may be able to read it
        return PageResult(display, "failed", f"cannot read the file: {exc.strerror or exc}")
    except MemoryError as exc:  # not cached either: it may pass with more memory
        return PageResult(display, "failed", f"internal error while reading ({type(exc).__name__}: {exc}); "
                                             "please report it with this page")
    except Exception as exc:  # a reader bug must not stop the other pages
        return PageResult(display, "failed", f"internal error while reading ({type(exc).__name__}: {exc}); "
                                             "please report it with this page", digest=digest)


def _render(display: str, spec: Spec, digest: bytes) -> PageResult:
    """Merge with the spec on disk (if any) and render; the main process only compares and writes."""
    target = _spec_file(spec)
    old: Spec | None = None
    if target.exists():
        try:
            old = read_spec(target)
        except SpecFileError as exc:  # not cached: it depends on that file, which an editor will fix
            return PageResult(display, "failed", f"the spec it would replace is broken ({exc}); "
                                                 "fix or delete that file and ingest again")
        if not _FORCE and keeps_newer(rank(old), old.source.digest, rank(spec), spec.source.digest):
            return PageResult(display, "kept", target=str(target), rank=rank(spec), digest=digest,
                              source=spec.source.digest)
    merged, merge_report = merge(spec, old)
    return PageResult(display, "spec", target=str(target), text=dump_spec(merged), rank=rank(spec),
                      stale=merge_report.stale, existed=old is not None, digest=digest, source=spec.source.digest)


def read_all(jobs: Sequence[PageJob], workers: int, include_dirs: tuple[str, ...] | None, out: Path, force: bool,
             progress: Callable[[int], None] | None) -> Iterator[PageResult]:
    """Results in the order of `jobs`; the SDK index must be loaded with `prepare` first."""
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
        tasks = (tuple(job) for job in jobs)
        for result in pool.map(_read_task, tasks, chunksize=chunk):
            yield result
            if progress:
                progress(1)


def _spec_file(spec: Spec) -> Path:
    """spec_path under the output folder, made from one string when the folder name is plain."""
    folder, name = spec.path_key
    if "/" in folder or folder in ("", "."):  # Path normalises these
        return spec_path(_OUT, spec)
    return Path(f"{_OUT_TEXT}{folder}/{name}.yaml")
