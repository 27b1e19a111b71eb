"""Finding the pages to read: files named on the command line, folders walked.

A docs checkout holds tens of thousands of pages, and a re-ingest whose pages
all come from the cache costs little more than reading them (see cache.py):
so pages are found folder by folder, with the paths made as strings once per
folder, and a folder whose status is unchanged since the page cache listed it
is not listed again.

Which files are pages, in which order, and the path a spec records of each,
are as they always were: what os.walk finds, hidden folders left out, sorted.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Iterator, List, NamedTuple, Sequence, Tuple

PAGE_SUFFIXES = (".md", ".txt")
# a page's path from its docs repository's own folder, whatever the checkout is called
_UPSTREAM_ROOT = re.compile(r"(?:^|/)((?:sdk-api|wdk-ddi)(?:-src/content)?/.*)$")
# A folder as the walk listed it: (st_dev, st_ino, st_mtime_ns, its pages' names, its subfolders to
# walk), by folder below the path named ("" for itself).
Listing = Tuple[int, int, int, List[str], List[str]]
_SETTLED_NS = 2_000_000_000  # a folder changed this recently may change again within its mtime's tick


class PageJob(NamedTuple):
    """One page to read. A tuple of strings: cheap to make, look up and pickle for tens of thousands."""

    file: str  # absolute: the path named on the command line, resolved, and the page's path below it
    display: str  # the path recorded in the spec: stable whatever the working directory
    explicit: bool  # named on the command line (an unreadable one fails instead of being skipped)

    @property
    def path(self) -> Path:
        return Path(self.file)


def _display_folder(folder: str, base: str) -> str:
    """What a spec records as its page's path, less the page's name, for a page in `folder` (which
    ends with "/"): from the docs repository's own folder when the path shows it, else relative to
    `base`, the folder above the one named on the command line. (A name holds no "/", so the
    pattern matches a page's path where it matches its folder's.)"""
    upstream = _UPSTREAM_ROOT.search(folder)
    if upstream:
        return upstream.group(1)
    return folder[len(base) + 1:] if folder.startswith(base + "/") else ""


class Folder(NamedTuple):
    """The pages of one folder, as collect finds them: paths made once per folder, not per page."""

    path: str  # absolute, from the resolved path named on the command line; ends with "/"
    rel: str  # below that path: "" for itself, else "a/b/"
    display: str  # what a spec from a page here records as its file, without the page's name
    names: list[str]  # the pages' file names, sorted
    start: int  # the first page's index in the run


class Root(NamedTuple):
    """A path named on the command line: a folder walked, or a page named itself (`explicit`)."""

    key: str  # resolved
    explicit: bool
    folders: list[Folder]


def collect(paths: Sequence[Path]) -> list[PageJob]:
    """Files to read: named files as given, folders walked for *.md and *.txt (hidden folders left out)."""
    return [PageJob(folder.path + name, folder.display + name, root.explicit)
            for root in collect_roots(paths) for folder in root.folders for name in folder.names]


def collect_roots(paths: Sequence[Path], known: dict[str, dict[str, Listing]] | None = None,
                  listed: dict[str, dict[str, Listing]] | None = None) -> list[Root]:
    """`collect`, folder by folder.

    A cached re-ingest costs little more than reading the pages, and a Path, a pattern match
    and a job per page would cost a third of that; so this makes one of each per folder. With
    `known` (listings by path named, from the page cache), a folder whose status is the one
    known is not listed again (creating, removing or renaming an entry changes its mtime); the
    listings to keep go to `listed`.
    """
    roots: list[Root] = []
    count = 0
    for root in paths:
        resolved = root.resolve()
        base = resolved.parent.as_posix()
        if root.exists() and not root.is_dir():  # a page, or a FIFO or device the reader refuses by name
            # the page under the name given (a link to a page, or to /dev/zero, keeps its own name)
            named = Path(os.path.abspath(root)).parent.resolve() / root.name
            base = named.parent.as_posix()
            folder, _, name = named.as_posix().rpartition("/")
            roots.append(Root(named.as_posix(), True, [Folder(f"{folder}/", "", _display_folder(f"{folder}/", base),
                                                                 [name], count)]))
            count += 1
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such file or folder")
        prefix = resolved.as_posix()
        folders: list[Folder] = []
        record: dict[str, Listing] = {}
        for rel, names in _walk(prefix, (known or {}).get(prefix, {}), record):
            shown = f"{prefix}/{rel}"
            folders.append(Folder(shown, rel, _display_folder(shown, base), names, count))
            count += len(names)
        roots.append(Root(prefix, False, folders))
        if listed is not None:
            listed[prefix] = record
    return roots


def _walk(top: str, known: dict[str, Listing], record: dict[str, Listing]) -> Iterator[tuple[str, list[str]]]:
    """(folder below `top`, its pages' names) for each folder with pages, as os.walk would visit
    them with the hidden folders left out and the rest sorted: folders before their subfolders,
    links to folders not followed.

    Written out because os.walk makes a DirEntry and runs a few Python lines per file, which
    costs a re-ingest as much as checking 2,000 of its pages. A listing goes to `record` unless
    the folder holds a link (whose target may turn from folder to file unseen) or changed in
    the last seconds; a folder whose status is the one `known` is taken from there.
    """
    settled = time.time_ns() - _SETTLED_NS
    stack = [""]
    while stack:
        rel = stack.pop()
        path = f"{top}/{rel}"
        try:
            status = os.stat(path)
        except OSError:
            continue
        seen = known.get(rel)
        if (seen is not None and seen[2] == status.st_mtime_ns and seen[1] == status.st_ino
                and seen[0] == status.st_dev):
            record[rel] = seen
            names, subfolders = seen[3], seen[4]
        else:
            try:
                with os.scandir(path) as listing:
                    entries = list(listing)
            except OSError:
                continue
            try:
                folders = {entry.name: entry for entry in entries if entry.is_dir()}
            except OSError:  # a type the listing did not give, and that cannot be looked up: not a folder
                folders = {entry.name: entry for entry in entries if _is_folder(entry)}
            names = sorted(entry.name for entry in entries if entry.name not in folders)
            names = [name for name in names
                     if (name.endswith(PAGE_SUFFIXES) or name.lower().endswith(PAGE_SUFFIXES))
                     and not name.startswith(".")]
            subfolders = [name for name in sorted(folders) if not name.startswith(".")
                          and not _is_link(folders[name], False)]
            if status.st_mtime_ns < settled and not any(_is_link(entry, True) for entry in entries):
                record[rel] = (status.st_dev, status.st_ino, status.st_mtime_ns, names, subfolders)
        if names:
            yield rel, names
        stack += [f"{rel}{name}/" for name in reversed(subfolders)]


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_link(entry: os.DirEntry, unknown: bool) -> bool:
    """Whether the entry is a link; `unknown` when that cannot be told (os.walk walks such a folder)."""
    try:
        return entry.is_symlink()
    except OSError:
        return unknown


def jobs_at(roots: Sequence[Root], indexes: Sequence[int]) -> list[PageJob]:
    """The jobs of the pages at `indexes` (ascending)."""
    jobs: list[PageJob] = []
    position = 0
    for root in roots:
        for folder in root.folders:
            end = folder.start + len(folder.names)
            while position < len(indexes) and indexes[position] < end:
                name = folder.names[indexes[position] - folder.start]
                jobs.append(PageJob(folder.path + name, folder.display + name, root.explicit))
                position += 1
    return jobs
