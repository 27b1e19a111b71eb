"""`specproof ingest`: pages in, one spec file per function out.

Pages are read in worker processes (see read.py). The main process decides
which page wins when several describe one function, merges with the spec
already on disk, and writes only files whose bytes change, so a second run
changes nothing.

A second run does not read the pages again either: each page's result is
cached (see cache.py) under the page's path and the digest of its bytes, and
stays good while the spec file it gave is unchanged on disk. The winner logic
below runs on cached and fresh results alike; a cached result that must
actually be written (it never was, or another page wrote over it in this
run) has no text, so its page is read again at the end.

A page that cannot be read never stops the others: its file and the reason
are collected and reported, and the command exits non-zero.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, Union

from .collect import Folder, PageJob, Root, collect_roots, jobs_at
from .page import RANK, REASON, STALE, STATUS, TARGET, WON, PageResult

if TYPE_CHECKING:
    from .cache import Entry  # noqa: F401

# A result as the main loop sees it: fresh from a reader, or a cache entry (a tuple, see cache.py).
Result = Union[PageResult, "Entry"]


@dataclass
class IngestReport:
    read: int = 0  # pages found
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (file, why another page won)
    stale: list[tuple[Path, str, list[str]]] = field(default_factory=list)
    kept_newer: list[tuple[str, Path]] = field(default_factory=list)
    sdk_note: str | None = None
    cached: int = 0  # pages whose result came from the cache instead of a reader

    @property
    def specs(self) -> int:
        return len(self.written) + self.unchanged


class _Reader:
    """The readers, started on first use: a run that finds every page in the cache never loads
    them, the SDK index or a worker process."""

    def __init__(self, workers: int, include_dirs: tuple[str, ...] | None, out: Path, force: bool,
                 report: IngestReport) -> None:
        self.workers, self.include_dirs, self.out, self.force, self.report = workers, include_dirs, out, force, report
        self.module = None

    def start(self):
        if self.module is None:
            from . import read

            self.report.sdk_note = read.prepare(self.include_dirs)  # builds the index once, before the workers
            self.module = read
        return self.module

    def read(self, jobs: Sequence[PageJob], progress: Callable[[int], None] | None):
        return self.start().read_all(jobs, self.workers, self.include_dirs, self.out, self.force, progress)


def ingest(
    paths: Sequence[Path],
    out: Path,
    *,
    workers: int | None = None,
    include_dirs: Sequence[str] | None = None,
    force: bool = False,
    progress_factory: Callable[[int], Callable[[int], None] | None] | None = None,
    cache: bool = True,
    cache_dir: Path | None = None,
) -> IngestReport:
    """Read `paths`, write specs under `out`; see the module docstring.

    `cache=False` neither reads nor writes the page cache; `cache_dir` moves it (default: the
    user cache, see cache.py). `force` reads every page, and caches what it read.
    """
    from .cache import PageCache

    report = IngestReport()
    dirs = tuple(include_dirs) if include_dirs is not None else None
    store = PageCache.open(out, dirs, cache_dir) if cache else None
    roots = collect_roots(paths, store.listings if store else None, store.listed if store else None)
    folders = [folder for root in roots for folder in root.folders]
    total = report.read = sum(len(folder.names) for folder in folders)
    reader = _Reader(workers or os.cpu_count() or 1, dirs, out, force, report)
    out.mkdir(parents=True, exist_ok=True)
    out_text = str(out / "x")[:-1]  # "specs/", or "" for "."
    if store is None:
        reader.start()
        found: list[Result | None] = [None] * total
    else:
        report.sdk_note = store.sdk_note
        found = [None] * total if force else store.lookup(roots, out)
    missing = [index for index, hit in enumerate(found) if hit is None] if None in found else []
    report.cached = total - len(missing)
    if store is None or not store.schema_unchanged(out):
        from ..spec.schema import write_schema

        write_schema(out)
    progress = progress_factory(total) if progress_factory else None
    if progress and report.cached:
        progress(report.cached)
    signature = (out_text, tuple((root.key, root.explicit, tuple(folder.rel for folder in root.folders))
                                 for root in roots))
    summary = store.summarised(signature) if store is not None else None
    if summary is not None:  # the same pages as the last run, all from the cache: its report
        _replay(report, summary)
        store.update(roots, found, {}, {}, {}, out, report.cached, signature, lambda: summary)
        return report
    fresh = iter(reader.read(jobs_at(roots, missing), progress) if missing else ())
    run = _Run(report, out_text, folders, found)
    index = 0
    # Specs are written as results arrive, so writing overlaps the workers' reading (the pool
    # feeds them from its own thread meanwhile). When a better page of the same function comes
    # later (rare), it writes the file again. Targets are named relative to `out` here.
    for folder in folders:
        for name in folder.names:
            item = found[index]
            if item is None:
                item = found[index] = next(fresh)
                run.fresh(index, item)
            elif item[STATUS] == "spec":
                run.cached(index, item, item[TARGET])
            elif item[STATUS] == "kept":
                report.kept_newer.append((folder.display + name, Path(out_text + item[TARGET])))
            elif item[STATUS] == "skipped":
                report.skipped.append((folder.display + name, item[REASON]))
            else:
                report.failed.append((folder.display + name, item[REASON]))
            index += 1
    run.write_pending(roots, reader)
    run.finish()
    if store is not None:
        store.update(roots, found, run.winners, run.writes, run.stats, out, report.cached, signature,
                     lambda: _summary(report))
    return report


def _summary(report: IngestReport) -> tuple:
    """What `_replay` needs of a report, in types marshal stores."""
    return (report.skipped, report.failed, report.superseded, [(file, str(path)) for file, path in report.kept_newer],
            [(str(path), case_id, clause_ids) for path, case_id, clause_ids in report.stale], report.unchanged)


def _replay(report: IngestReport, summary: tuple) -> None:
    skipped, failed, superseded, kept, stale, unchanged = summary
    report.skipped, report.failed, report.superseded = list(skipped), list(failed), list(superseded)
    report.kept_newer = [(file, Path(path)) for file, path in kept]
    report.stale = [(Path(path), case_id, list(clause_ids)) for path, case_id, clause_ids in stale]
    report.unchanged = unchanged


class _Run:
    """Which page of each function wins, what is written, and the report, as results arrive.

    `winners` maps a spec file (relative to the output folder) to the index of the page that
    wins it so far; `writes` how that page's spec was written: True (written), False (the file
    holds it already), an OSError, or None: a cached result whose page must be read again to be
    written (see `write_pending`). A cached result that wins the file it holds is in neither
    (the main loop handles it inline: it is most pages of a re-ingest).
    """

    def __init__(self, report: IngestReport, out_text: str, folders: list[Folder], found: list) -> None:
        self.report, self.out_text, self.folders, self.found = report, out_text, folders, found
        self.cut = len(out_text)
        self.winners: dict[str, int] = {}
        self.writes: dict[str, bool | OSError | None] = {}
        self.ranks: dict[str, tuple[str, int]] = {}  # of winners that are not cached results left as they are
        self.items: dict[str, Result] = {}  # likewise
        self.changed: dict[str, bool | None] = {}
        self.loud: set[str] = set()  # to look at in the end: all but cached winners left as they are, no stale case
        self.written: set[str] = set()  # targets written in this run
        self.made: set[str] = set()  # folders made in this run
        self.stats: dict[str, os.stat_result] = {}  # of the files written or compared in this run, for the cache
        self.starts = [folder.start for folder in folders]

    def display(self, index: int) -> str:
        folder = self.folders[bisect.bisect_right(self.starts, index) - 1]
        return folder.display + folder.names[index - folder.start]

    def fresh(self, index: int, result: PageResult) -> None:
        if result.status == "spec":
            self._compete(index, result, result.target[self.cut:], result.rank)
        elif result.status == "skipped":
            self.report.skipped.append((result.file, result.reason))
        elif result.status == "failed":
            self.report.failed.append((result.file, result.reason))
        else:
            self.report.kept_newer.append((result.file, Path(result.target)))

    def cached(self, index: int, entry: Entry, target: str) -> None:
        self._compete(index, entry, target, entry[RANK])

    def _compete(self, index: int, item: Result, target: str, rank: tuple[str, int]) -> None:
        current = self.winners.get(target)
        if current is not None:
            current_rank = self.ranks[target] if target in self.ranks else self._item(current)[RANK]
            if not rank > current_rank:
                self.report.superseded.append((self.display(index), f"{self.display(current)} is newer or the "
                                                                    "source format"))
                return
            self.report.superseded.append((self.display(current), f"{self.display(index)} is newer or the "
                                                                  "source format"))
            self.changed[target] = self._written(target)
        self.winners[target] = index
        self.ranks[target], self.items[target] = rank, item
        if type(item) is tuple:
            if item[WON] and target not in self.written:  # its text is the file's: nothing to write
                self.writes.pop(target, None)
                self.ranks.pop(target)
                self.items.pop(target)
                if item[STALE]:
                    self.loud.add(target)
                else:
                    self.loud.discard(target)
                return
            self.writes[target] = None
        else:
            write = self.writes[target] = _write(item, target, self.made, self.stats)
            if write is True:
                self.written.add(target)
        self.loud.add(target)

    def _item(self, index: int) -> Result:
        return self.found[index]

    def _written(self, target: str) -> bool | None:
        """The outcome of the winner's write; a failed write is reported against its page, never raised."""
        write = self.writes.get(target, False)
        if isinstance(write, OSError):
            result = self.items[target]
            self.report.failed.append((result.file, f"cannot write {result.target}: {write.strerror or write}"))
            return None
        return bool(write)

    def write_pending(self, roots: Sequence[Root], reader: "_Reader") -> None:
        """Read again the pages of cached results that won and must be written, and write them.

        Rare: the page that used to win is gone or got older, or a cached page won over one
        written earlier in this run. The page is read against the file as it is now, as any
        page would be.
        """
        pending = sorted(target for target in self.loud if target in self.writes and self.writes[target] is None)
        if not pending:
            return
        indexes = sorted(self.winners[target] for target in pending)
        by_index = {self.winners[target]: target for target in pending}
        self.report.cached -= len(pending)
        found = self.found
        for index, result in zip(indexes, reader.read(jobs_at(roots, indexes), None)):
            target = by_index[index]
            found[index] = result
            if result.status == "spec" and result.target[self.cut:] == target:
                self.ranks[target], self.items[target] = result.rank, result
                self.writes[target] = _write(result, target, set(), self.stats)
                continue
            del self.winners[target], self.writes[target], self.ranks[target], self.items[target]
            self.loud.discard(target)
            if result.status == "spec":
                found[index] = None
                self.report.failed.append((result.file, "the page changed while ingest ran; ingest again"))
            else:
                self.fresh(index, result)

    def finish(self) -> None:
        report, found = self.report, self.found
        report.unchanged += len(self.winners) - len(self.loud)
        for target in sorted(self.loud):
            item = found[self.winners[target]]
            stale = item[STALE] if type(item) is tuple else item.stale
            path = Path(self.out_text + target)
            for case_id, clause_ids in stale:
                report.stale.append((path, case_id, list(clause_ids)))
            wrote = self._written(target)
            if wrote is None:
                continue
            if wrote or self.changed.get(target, False):
                report.written.append(path)
            else:
                report.unchanged += 1


def _write(result: PageResult, key: str, folders: set[str], stats: dict[str, os.stat_result]) -> bool | OSError:
    """Write a spec whose bytes changed (True), or leave a file that holds them already (False).

    The text goes to a temporary file renamed over the target, so a spec file is
    never seen half written; each folder is made once per run. The file's status
    (taken from the open file: renaming keeps it) goes to `stats[key]` for the cache.
    """
    target = result.target
    data = result.text.encode("utf-8")
    try:
        if not result.existed:
            folder = os.path.dirname(target) or "."
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
        else:
            try:  # read as text, as ever: a copy with CRLF line ends holds the same spec
                with open(target, encoding="utf-8") as current:
                    status = os.fstat(current.fileno())
                    same = current.read() == result.text
            except (FileNotFoundError, UnicodeDecodeError):
                same = False
            if same:
                stats[key] = status
                return False
        tmp = target + ".tmp"
        view = memoryview(data)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            while view:
                view = view[os.write(fd, view):]
            status = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        stats[key] = status
    except OSError as exc:
        return exc
    return True
