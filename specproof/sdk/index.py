"""Building the header index once and caching it on disk.

Reading ~1,500 headers (60 MB) takes a couple of seconds; every specproof
process and every worker needs the index, so it is built once per set of
headers and stored as a pickle. The cache file is named by a digest of the
include directories and each header's path, size and mtime, so editing,
adding or removing a header (or upgrading mingw-w64) selects a new file
instead of serving stale values. It is written to a temporary file and
renamed into place, so a process never reads a cache another one is still
writing; two processes building at once just both write the same content.

Header ids are positions in the resolution order used when nothing else
decides (see :mod:`specproof.sdk.defines`): 16-bit compatibility headers
last, then earlier include directories first, then shallower paths (the
ddk/ subdirectory re-declares user-mode names for drivers), then by name.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .defines import Decoration, DefineCollector, MacroEntry, ValueEntry
from .prototypes import function_candidates
from .source import read_header

__all__ = ["HeaderFile", "IndexState", "build_state", "list_headers", "load_state"]

FORMAT = 1


@dataclass(frozen=True)
class HeaderFile:
    dir_index: int
    relpath: str  # posix path below its include dir
    size: int
    mtime_ns: int

    @property
    def sort_key(self) -> tuple[bool, int, int, str, str]:
        stem = self.relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return (stem.endswith("16"), self.dir_index, self.relpath.count("/"), self.relpath.lower(), self.relpath)


@dataclass
class IndexState:
    """Everything the lookups need; plain containers so it pickles small and fast."""

    digest: str
    include_dirs: tuple[str, ...]
    headers: tuple[tuple[int, str], ...]  # (dir index, relpath), indexed by header id
    values: dict[str, tuple[ValueEntry, ...]]
    macros: dict[str, tuple[MacroEntry, ...]]
    decorations: dict[str, tuple[Decoration, ...]]
    functions: dict[str, tuple[int, ...]]  # possible declarations: name -> header ids


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    """Header files below ``root``; each directory once, even through symlink loops."""
    stack = [str(root)]
    seen: set[tuple[int, int]] = set()
    while stack:
        directory = stack.pop()
        try:
            stat = os.stat(directory)
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir():
                        stack.append(entry.path)
                    elif entry.name.lower().endswith(".h") and entry.is_file():
                        yield entry
        except OSError:
            continue  # unreadable directory: index the rest


def list_headers(include_dirs: Sequence[Path]) -> list[HeaderFile]:
    """Every ``*.h`` (any case) below the include dirs, in header-id order."""
    headers: list[HeaderFile] = []
    for dir_index, root in enumerate(include_dirs):
        cut = len(str(root)) + 1  # the walk joins names onto str(root): the path below it is the rest
        for entry in _walk(root):
            stat = entry.stat()
            headers.append(HeaderFile(dir_index, entry.path[cut:], stat.st_size, stat.st_mtime_ns))
    headers.sort(key=lambda header: header.sort_key)
    return headers


def _code_digest() -> bytes:
    """The indexing code itself: a cache built by other code is another cache."""
    hasher = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        hasher.update(module.read_bytes())
    return hasher.digest()


def digest_of(include_dirs: Sequence[Path], headers: Sequence[HeaderFile]) -> str:
    hasher = hashlib.sha256(f"specproof-sdk-index {FORMAT}\n".encode())
    hasher.update(_code_digest())
    for root in include_dirs:
        hasher.update(f"dir {root}\n".encode())
    for header in headers:
        hasher.update(f"{header.dir_index} {header.relpath} {header.size} {header.mtime_ns}\n".encode())
    return hasher.hexdigest()


def build_state(include_dirs: Sequence[Path], headers: Sequence[HeaderFile], digest: str) -> IndexState:
    """Read every header once and collect definitions and declaration candidates."""
    collector = DefineCollector()
    functions: dict[str, list[int]] = {}
    for header_id, header in enumerate(headers):
        try:
            text = read_header(include_dirs[header.dir_index] / header.relpath)
        except OSError:
            continue  # vanished or unreadable since listing: index the rest
        collector.add(header_id, text)
        for name in function_candidates(text):
            functions.setdefault(name, []).append(header_id)
    collector.finish()
    return IndexState(
        digest=digest,
        include_dirs=tuple(str(path) for path in include_dirs),
        headers=tuple((header.dir_index, header.relpath) for header in headers),
        values={name: tuple(entries) for name, entries in collector.values.items()},
        macros={name: tuple(entries) for name, entries in collector.macros.items()},
        decorations={name: tuple(entries) for name, entries in collector.decorations.items()},
        functions=_shared_tuples(functions),
    )


def _shared_tuples(mapping: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
    """The mapping with equal id tuples shared: pickle then stores each tuple once."""
    shared: dict[tuple[int, ...], tuple[int, ...]] = {}
    return {name: shared.setdefault(tuple(ids), tuple(ids)) for name, ids in mapping.items()}


def _read_cache(path: Path, digest: str) -> IndexState | None:
    try:
        with path.open("rb") as stream:
            payload = pickle.load(stream)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None
    if not (isinstance(payload, tuple) and len(payload) == 3 and payload[:2] == (FORMAT, digest)):
        return None
    state = payload[2]
    return state if isinstance(state, IndexState) else None


def _write_cache(path: Path, state: IndexState) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return  # a read-only cache location only costs speed
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump((FORMAT, state.digest, state), stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(temp, 0o644)  # mkstemp's 0600 would be odd for a cache others may share
        os.replace(temp, path)
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass


def cache_path(cache_dir: Path, digest: str) -> Path:
    return cache_dir / f"sdk-index-{digest[:24]}.pickle"


def load_state(include_dirs: Sequence[Path], cache_dir: Path | None) -> tuple[IndexState, bool]:
    """The index for ``include_dirs``, from cache when valid; also whether it came from cache."""
    headers = list_headers(include_dirs)
    digest = digest_of(include_dirs, headers)
    path = cache_path(cache_dir, digest) if cache_dir is not None else None
    if path is not None:
        cached = _read_cache(path, digest)
        if cached is not None:
            return cached, True
    state = build_state(include_dirs, headers, digest)
    if path is not None:
        _write_cache(path, state)
    return state, False
