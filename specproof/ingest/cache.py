"""The page cache: what each page gave last time, so a re-ingest reads only changed pages.

A docs checkout holds tens of thousands of pages and a docs update changes a
few of them; reading a page costs about 2 ms, reading its bytes about 10 us.
So `ingest` keeps, per output folder, one file in the user cache
(`$SPECPROOF_CACHE`, else ~/.cache/specproof, as the SDK index does) with
each page's result, keyed by the page's path and the sha256 of its bytes.

An entry holds what the winner logic needs (status, reason, target, rank,
source digest, stale cases), never the spec's text, so it is small, and it
is only good while:

- the kit is the same: the cache is keyed by a fingerprint of the source of
  the packages that make the output (readers, spec, sdk, ingest) and of the
  libraries they read pages with, and by the SDK headers' identity (each
  header's path, size and mtime, as the SDK index cache keys itself), or
  --no-sdk; another fingerprint starts an empty cache;
- the spec file the page gave is unchanged on disk (size, mtime and inode
  recorded when it was written or compared): an editor who adds a case to a
  spec gets the page read and merged again.

Results are stored as a page would give them against the files as they are
at the end of the run: the page that won its spec file is that file's text;
any other page of the same function is "kept" (the file comes from a newer
page) or a plain result that loses again. That is what reading them again
would give, and why an unchanged checkout is read by no reader at all.

Pages that failed or were skipped are cached too (the same bytes fail the
same way), except for errors that may go away: the file could not be read,
the spec it would replace is broken, or memory ran out.

A fully cached re-ingest must cost little more than reading the pages
(benchmarks/reingest: at most 1.5x), so besides the entries the file keeps
each folder's listing with its status (a folder whose mtime, inode and
device are unchanged is not listed again; see collect.py) and the report of
the last run that took every page from the cache (a run on the same pages,
all from the cache again, gives the same report). No SDK index is loaded and
no worker started unless a page must be read; the file is a marshal file,
loaded in about 12 ms for 24,000 pages, and written to a temporary file
renamed into place, only when something changed. Caches of output folders
that no longer exist are removed when another cache is written.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from .. import __version__
from ..sdk.locate import default_cache_dir
from .collect import Listing, Root
from .page import (DIGEST, INODE, MAX_PAGE_BYTES, MTIME, NO_SDK_NOTE, RANK, SIZE, SOURCE, TARGET, PageResult,
                   keeps_newer, too_large)

FORMAT = 5
# The packages whose source decides what ingest writes, and the libraries that read pages.
KIT_PARTS = ("readers", "spec", "sdk", "ingest")
LIBRARIES = ("cmarkgfm", "selectolax", "yaml", "pydantic", "pydantic_core")
_CHUNK = 1 << 16  # a page is read into one reused buffer of this size; larger ones in further reads

# A cached result: (digest, status, reason) for a skipped or failed page; for a spec or kept one
# (digest, status, "", target relative to the output folder, rank, source, stale cases, won, the
# target's size, mtime_ns and inode), where `won` says the target holds this page's spec and
# `source` is None when the spec's source digest is the sha256 of the page (as the readers make
# it; else a digest of it). Entries are grouped by the path named on the command line and the
# folder below it ({root: {folder: (names, entries)}}): those decide the path the spec records and
# whether the page was named itself, so neither needs storing; a folder's entries are in the
# order of its names, so a folder listed as before is looked up without a dictionary.
Entry = Union[Tuple[bytes, str, str],
              Tuple[bytes, str, str, str, Tuple[str, int], Optional[bytes], tuple, bool, int, int, int]]
Tables = Dict[str, Dict[str, Tuple[List[str], List[Entry]]]]

_KIT: str | None = None


def kit_fingerprint() -> str:
    """The kit's own identity, computed once per process (the code a process runs does not change)."""
    global _KIT
    if _KIT is None:
        _KIT = digest_kit(Path(__file__).resolve().parents[1])
    return _KIT


def digest_kit(package: Path) -> str:
    """A digest of the package's version, the .py files of KIT_PARTS, and the libraries' files.

    About 40 files and 1 MB: a millisecond. A library is identified by its module file's size and
    mtime (found without importing it): an upgrade rewrites it.
    """
    hasher = hashlib.sha256(f"specproof-ingest {FORMAT} {__version__} {sys.version}\n".encode())
    hasher.update((package / "__init__.py").read_bytes())
    for part in KIT_PARTS:
        folder = package / part
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                hasher.update(f"\n{part}/{name}\n".encode())
                hasher.update((folder / name).read_bytes())
    for library in LIBRARIES:
        try:
            spec = importlib.util.find_spec(library)
            status = os.stat(spec.origin) if spec and spec.origin else None
        except (ImportError, ValueError, OSError):
            status = None
        hasher.update(f"\n{library} {status and (status.st_size, status.st_mtime_ns)}".encode())
    return hasher.hexdigest()


def sdk_identity(include_dirs: tuple[str, ...] | None) -> tuple[str, str | None]:
    """What identifies the SDK headers ingest would resolve values from, and the note about them.

    The digest the SDK index cache is keyed by (each header's include dir, path, size and mtime,
    and the indexing code), computed without building or loading the index: 3,000 headers in
    about 20 ms.
    """
    if include_dirs == ():
        return "no-sdk", NO_SDK_NOTE
    from ..sdk.locate import SdkNotFound, resolve_include_dirs

    try:
        dirs = resolve_include_dirs([Path(d) for d in include_dirs] if include_dirs else None)
    except SdkNotFound as exc:
        return f"missing: {exc}", str(exc)
    from ..sdk.index import digest_of, list_headers

    return "sdk " + digest_of(dirs, list_headers(dirs)), None


def cache_file(cache_dir: Path, out_key: str) -> Path:
    return cache_dir / f"ingest-{hashlib.sha256(out_key.encode()).hexdigest()[:24]}.marshal"


def _source_key(source: str) -> bytes:
    """What tells two pages' source digests apart, in a few bytes."""
    return hashlib.sha256(source.encode()).digest()[:8]


class PageCache:
    """The cached results for one output folder, under one fingerprint.

    The file: 4 bytes giving the header's length, the header (format, output folder,
    fingerprints) and the body (schema.json's status, the tables, the summary), each marshalled.
    Read in one go and unmarshalled from bytes (marshal.load on a file reads a few bytes at a
    time: 10x slower); the header alone tells whose cache it is.

    The summary is the report of the last run that took every page from the cache, with what
    it was run on (`signature`): a run on the same pages, all of them from the cache again, has
    the same inputs in the same order, so the same report, without deciding the winners again.
    """

    def __init__(self, path: Path, header: tuple, tables: Tables, schema: tuple | None, summary: tuple | None,
                 listings: dict[str, dict[str, Listing]], sdk_note: str | None, loaded: bool) -> None:
        self.path, self.header, self.tables, self.schema, self.summary = path, header, tables, schema, summary
        self.listings = listings  # the folders as the walk listed them (see pipeline.collect_roots)
        self.listed: dict[str, dict[str, Listing]] = {}  # and as it listed them in this run
        self.sdk_note = sdk_note
        self.loaded = loaded  # False: no cache, or one made under another fingerprint
        self.schema_changed = False
        self.exact = False  # every page came from the cache, each folder listed as when it was stored

    @classmethod
    def open(cls, out: Path, include_dirs: tuple[str, ...] | None, cache_dir: Path | None = None) -> "PageCache":
        out_key = str(out.resolve())
        path = cache_file(Path(cache_dir) if cache_dir is not None else default_cache_dir(), out_key)
        sdk_id, note = sdk_identity(include_dirs)
        header = (FORMAT, out_key, kit_fingerprint(), sdk_id)
        try:
            with open(path, "rb") as stream:
                data = stream.read()
            length = int.from_bytes(data[:4], "little")
            if marshal.loads(data[4:4 + length]) == header:
                schema, tables, summary, listings = marshal.loads(memoryview(data)[4 + length:])
                if isinstance(tables, dict) and isinstance(listings, dict):
                    return cls(path, header, tables, schema, summary, listings, note, True)
        except (OSError, EOFError, ValueError, TypeError):
            pass  # no cache, or a broken one: start afresh
        return cls(path, header, {}, None, None, {}, note, False)

    # ------------------------------------------------------------ before reading

    def lookup(self, roots: Sequence[Root], out: Path) -> list[Entry | None]:
        """For each page (in the order of `roots`) its cached result, or None when it must be read.

        The hot loop of a re-ingest: one read of the page's bytes into a reused buffer, a sha256 of
        them, one stat of its spec file; pages opened by name in their folder, spec files relative to
        the output folder; no Path, no string and no object made per page.
        """
        total = sum(len(folder.names) for root in roots for folder in root.folders)
        found: list[Entry | None] = [None] * total
        if not self.tables or not hasattr(os, "readv") or os.open not in os.supports_dir_fd:
            return found  # (a system without them, which the kit does not target, reads every page)
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        into = [buffer]
        sha256, open_, readv, close, stat = hashlib.sha256, os.open, os.readv, os.close, os.stat
        chunk = _CHUNK
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)  # a FIFO never waits for a writer
        folder_flags = flags | getattr(os, "O_DIRECTORY", 0)
        try:
            out_fd = open_(out, folder_flags)
        except OSError:
            return found
        listed = True  # each folder as it was: no page and no folder added or gone
        try:
            for root in roots:
                folders = self.tables.get(root.key)
                if not folders or len(folders) != len(root.folders):
                    listed = False
                    if not folders:
                        continue
                for folder in root.folders:
                    table = folders.get(folder.rel)
                    if not table:
                        listed = False
                        continue
                    names, entries = table
                    if names != folder.names:  # pages added or removed here
                        listed = False
                        entries = list(map(dict(zip(names, entries)).get, folder.names))
                    try:
                        folder_fd = open_(folder.path, folder_flags)
                    except OSError:
                        continue
                    index = folder.start - 1
                    try:
                        for name, entry in zip(folder.names, entries):
                            index += 1
                            if entry is None:
                                continue
                            try:
                                fd = open_(name, flags, dir_fd=folder_fd)
                            except OSError:
                                continue  # the reader reports why
                            try:
                                size = readv(fd, into)
                                if size < chunk:
                                    digest = sha256(view[:size]).digest()
                                else:
                                    digest = self._rest(fd, view)
                                    if digest is None:
                                        continue
                                    if type(digest) is int:  # too large: decided by the size, as a reader would
                                        found[index] = (b"", "failed", too_large(digest))
                                        listed = False  # its reason tells the size, which may have changed
                                        continue
                            except OSError:
                                continue
                            finally:
                                close(fd)
                            if digest != entry[DIGEST]:
                                continue
                            if len(entry) > 3:
                                try:
                                    status = stat(entry[TARGET], dir_fd=out_fd)
                                except OSError:
                                    continue
                                if (status.st_mtime_ns != entry[MTIME] or status.st_size != entry[SIZE]
                                        or status.st_ino != entry[INODE]):
                                    continue
                            found[index] = entry
                    finally:
                        close(folder_fd)
        finally:
            close(out_fd)
        self.exact = self.loaded and listed and None not in found
        return found

    def summarised(self, signature: tuple) -> tuple | None:
        """The report of the last run on `signature` when this run took every page from the cache."""
        if self.exact and self.summary is not None and self.summary[0] == signature:
            return self.summary[1]
        return None

    @staticmethod
    def _rest(fd: int, first: memoryview) -> bytes | int | None:
        """The digest of a page longer than the buffer, its size when that is over the limit, or None
        when it is no regular file."""
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return None  # a device behind the page's name: the reader refuses it, saying why
        size = status.st_size
        if size > MAX_PAGE_BYTES:
            return size
        hasher = hashlib.sha256(first)
        total = len(first)
        while True:
            more = os.read(fd, 1 << 20)
            if not more:
                return hasher.digest()
            total += len(more)
            if total > MAX_PAGE_BYTES:  # a file with no size to check first (a link to /dev/zero)
                return total
            hasher.update(more)

    def schema_unchanged(self, out: Path) -> bool:
        """Whether out/schema.json is the file written under this fingerprint (so writing it is moot)."""
        if self.loaded and self.schema is not None and self.schema == _status(str(out / "schema.json")):
            return True
        self.schema_changed = True
        return False

    # ------------------------------------------------------------ after the run

    def update(self, roots: Sequence[Root], found: list, winners: dict[str, int], writes: dict,
               stats: dict[str, os.stat_result], out: Path, cached: int, signature: tuple,
               report: Callable[[], tuple]) -> None:
        """Store this run's results, when any differs from the cache's (see the module docstring).

        The tables of paths this run did not name are kept (another run feeds this output folder
        from elsewhere); those it named are made again from its pages (a page gone is dropped).
        An exact run leaves the tables as they are, and stores its report as the summary for
        `signature` (see the class docstring) unless it has it already.
        """
        listings = {**self.listings, **self.listed}
        if self.exact and cached == len(found):  # and no cached result had to be read again to be written
            if self.summarised(signature) is None or self.schema_changed or listings != self.listings:
                self._save(self.tables, _status(str(out / "schema.json")), (signature, report()), listings)
            return
        tables: Tables = dict(self.tables)
        context = _Finish(found, winners, writes, stats, out)
        for root in roots:
            folders = {}
            for folder in root.folders:
                names: list[str] = []
                entries: list[Entry] = []
                for index, name in enumerate(folder.names, folder.start):
                    entry = context.entry(index)
                    if entry is not None:
                        names.append(name)
                        entries.append(entry)
                if names:  # the folder's own list when complete: marshal stores it once for the listing too
                    folders[folder.rel] = (folder.names if len(names) == len(folder.names) else names, entries)
            tables[root.key] = folders
        self._save(tables, _status(str(out / "schema.json")), None, listings)

    def _save(self, tables: Tables, schema: tuple | None, summary: tuple | None,
              listings: dict[str, dict[str, Listing]]) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError:
            return  # a read-only cache location only costs speed
        try:
            header = marshal.dumps(self.header)
            with os.fdopen(handle, "wb") as stream:
                stream.write(len(header).to_bytes(4, "little"))
                stream.write(header)
                stream.write(marshal.dumps((schema, tables, summary, listings)))
            os.chmod(temp, 0o644)  # mkstemp's 0600 would be odd for a cache others may share
            os.replace(temp, self.path)
        except (OSError, ValueError):
            try:
                os.unlink(temp)
            except OSError:
                pass
            return
        _prune(folder, self.path)


class _Finish:
    """The entries to store: each page's result as if it were read again against the files as
    they are at the end of the run (see the module docstring)."""

    def __init__(self, found: list, winners: dict[str, int], writes: dict, stats: dict[str, os.stat_result],
                 out: Path) -> None:
        self.found, self.winners, self.writes, self.stats, self.out = found, winners, writes, stats, out
        self.cut = len(str(out / "x")) - 1
        self.ranks: dict[tuple[str, int], tuple[str, int]] = {}  # one object per rank: marshal stores it once

    def entry(self, index: int) -> Entry | None:
        item = self.found[index]
        if item is None:
            return None
        if type(item) is tuple:
            if len(item) == 3:
                return item
            digest, status, _, target, rank, source, stale = item[:7]
        else:
            assert isinstance(item, PageResult)
            digest, status = item.digest, item.status
            if digest is None:
                return None
            if status in ("skipped", "failed"):
                return (digest, status, item.reason)
            target, rank = item.target[self.cut:], item.rank
            source = None if item.source == f"sha256:{digest.hex()}" else _source_key(item.source)
            stale = tuple((case_id, tuple(ids)) for case_id, ids in item.stale)
        winner = self.winners.get(target)
        won = False
        if winner is not None:
            write = self.writes.get(target, False)
            if write is None or isinstance(write, OSError):
                return None
            if winner == index:
                status, won = "spec", True
            else:
                # what read._render says against the winner's file
                kept = keeps_newer(self._rank(winner), self._source(winner), rank, self._source(index))
                status = "kept" if kept else "spec"
        if not won:
            stale = ()
        now = self.stats.get(target)
        if now is None:
            try:
                now = self.stats[target] = os.stat(os.path.join(self.out, target))
            except OSError:
                return None
        rank = self.ranks.setdefault(tuple(rank), tuple(rank))
        return (digest, status, "", target, rank, source, stale, won, now.st_size, now.st_mtime_ns, now.st_ino)

    def _rank(self, index: int) -> tuple[str, int]:
        item = self.found[index]
        return item[RANK] if type(item) is tuple else item.rank

    def _source(self, index: int) -> bytes:
        item = self.found[index]
        if type(item) is tuple:
            return _source_key(f"sha256:{item[DIGEST].hex()}") if item[SOURCE] is None else item[SOURCE]
        return _source_key(item.source)


def _status(path: str) -> tuple[int, int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def _prune(folder: Path, keep: Path) -> None:
    """Remove the caches of output folders that are gone (tests and benchmarks make many)."""
    try:
        names = [name for name in os.listdir(folder) if name.startswith("ingest-") and name.endswith(".marshal")]
    except OSError:
        return
    for name in names:
        path = folder / name
        if path == keep:
            continue
        try:
            with open(path, "rb") as stream:
                header = marshal.loads(stream.read(int.from_bytes(stream.read(4), "little")))
            gone = not (isinstance(header, tuple) and len(header) > 1 and isinstance(header[1], str)
                        and os.path.isdir(header[1]))
        except (OSError, EOFError, ValueError, TypeError):
            gone = True
        if gone:
            try:
                os.unlink(path)
            except OSError:
                pass
