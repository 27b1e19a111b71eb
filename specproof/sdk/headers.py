"""The public face of the SDK index: values of names and prototypes of functions.

Specs need numbers for return codes and C types for parameters, and the
docs do not always give them. Everything answered here comes from a
definition or a declaration in the SDK headers; what cannot be resolved
comes back as None, so a caller can report it instead of storing a guess.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Sequence

from .defines import DefineTable, order_entries
from .expr import to_unsigned
from .index import IndexState, load_state
from .locate import default_cache_dir, resolve_include_dirs
from .prototypes import Prototype, parse_prototypes
from .source import read_header

__all__ = ["SdkHeaders"]

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# Canonical homes of return codes, consulted right after the caller's header.
_CODE_HEADERS = ("winerror.h", "ntstatus.h")


class SdkHeaders:
    """Values of ``#define``d names and prototypes of functions in a set of SDK headers.

    Build with :meth:`load`. The object pickles as its index only (about 12 MB
    for mingw-w64; no parsed-header caches), so sending it to each worker of
    a process pool costs one transfer; :meth:`to_state` and
    :meth:`from_state` do the same explicitly.
    """

    loaded_from_cache: bool = False

    def __init__(self, state: IndexState) -> None:
        self._state = state
        self._setup()

    def _setup(self) -> None:
        state = self._state
        self._dirs = tuple(Path(path) for path in state.include_dirs)
        named: dict[str, list[int]] = {}
        for header_id, (_, relpath) in enumerate(state.headers):
            lowered = relpath.lower()
            named.setdefault(lowered, []).append(header_id)
            basename = PurePosixPath(lowered).name
            if basename != lowered:
                named.setdefault(basename, []).append(header_id)
        self._named = {key: tuple(sorted(ids)) for key, ids in named.items()}
        base = [header_id for name in _CODE_HEADERS for header_id in self._named.get(name, ())]
        position = {header_id: index for index, header_id in enumerate(base)}
        offset = len(base)
        self._rank = lambda header_id: position.get(header_id, offset + header_id)
        self._table = DefineTable(state.values, state.macros, self._rank)
        self._parsed: dict[tuple[int, bool], dict[str, Prototype]] = {}
        self._prototypes: dict[tuple[str, str | None], Prototype | None] = {}
        self._by_value: dict[tuple[str, ...], dict[int, list[str]]] = {}
        self._definition_order: dict[str, int] = {}
        self._parsed_dir: Path | None = None  # where parsed headers are cached, shared by processes

    # ------------------------------------------------------------ construction

    @classmethod
    def load(cls, include_dirs: Sequence[Path] | None = None, cache_dir: Path | None = None) -> "SdkHeaders":
        """Index the headers below ``include_dirs`` (default: :func:`default_include_dirs`).

        The index is cached in ``cache_dir`` (default: $SPECPROOF_CACHE,
        $XDG_CACHE_HOME/specproof or ~/.cache/specproof) and rebuilt when
        any header changes. Raises SdkNotFound when no include dir exists.
        """
        dirs = resolve_include_dirs(include_dirs)
        state, from_cache = load_state(dirs, Path(cache_dir) if cache_dir is not None else default_cache_dir())
        headers = cls(state)
        headers.loaded_from_cache = from_cache
        headers._parsed_dir = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / (
            f"sdk-prototypes-{state.digest[:24]}")
        return headers

    def __getstate__(self) -> dict[str, object]:
        return {"state": self._state, "parsed_dir": self._parsed_dir}

    def __setstate__(self, data: dict[str, object]) -> None:
        state = data["state"]
        assert isinstance(state, IndexState)
        self._state = state
        self.loaded_from_cache = False
        self._setup()
        self._parsed_dir = data.get("parsed_dir")  # type: ignore[assignment]

    def to_state(self) -> bytes:
        """The index as bytes, for :meth:`from_state` in another process."""
        return pickle.dumps(self._state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_state(cls, data: bytes) -> "SdkHeaders":
        state = pickle.loads(data)
        if not isinstance(state, IndexState):
            raise TypeError("not an SdkHeaders state")
        return cls(state)

    # ------------------------------------------------------------ queries

    @property
    def include_dirs(self) -> tuple[Path, ...]:
        return self._dirs

    @property
    def header_count(self) -> int:
        return len(self._state.headers)

    def header_ids(self, header: str | None) -> tuple[int, ...]:
        """Ids of the headers called ``header`` (file name or path below an include dir, any case)."""
        if not header:
            return ()
        key = header.strip().replace("\\", "/").lower()
        return self._named.get(key) or self._named.get(PurePosixPath(key).name, ())

    def value(self, name: str, header: str | None = None) -> int | None:
        """The value of a name, or of an expression such as ``HRESULT_FROM_WIN32(ERROR_X)``.

        ``header`` is the header the caller's function is declared in; its
        definitions win over winerror.h and ntstatus.h, which win over the
        rest (see :mod:`specproof.sdk.defines` for why). The result is
        unsigned (``-1`` is ``0xFFFFFFFF``); None when no definition
        evaluates to an integer.
        """
        text = name.strip()
        prefer = self.header_ids(header)
        if _IDENTIFIER.fullmatch(text):
            return self._table.resolve(text, prefer)
        return self._table.evaluate(text, prefer)

    def name_of(self, value: int, prefixes: Sequence[str] = ()) -> str | None:
        """A name whose value (with no header preferred) is ``value``, or None.

        Names starting with ``prefixes`` win, earlier prefixes first; then
        names whose first definition is in a higher-priority header; then
        the name defined first. The answer never depends on dict or file
        system order. Names with a prefix are searched first, so a lookup
        such as ``name_of(code, ("SEC_E_", "SEC_I_"))`` evaluates a few
        hundred definitions, not all of them.
        """
        wanted = to_unsigned(value)
        if wanted is None:
            return None
        prefixes = tuple(prefixes)
        if prefixes:
            names = self._values_index(prefixes).get(wanted)
            if names:
                return min(names, key=lambda name: self._name_key(name, prefixes))
        names = self._values_index(()).get(wanted)
        if not names:
            return None
        return min(names, key=lambda name: self._name_key(name, prefixes))

    def _name_key(self, name: str, prefixes: tuple[str, ...]) -> tuple[int, int, int]:
        prefix_rank = next((i for i, prefix in enumerate(prefixes) if name.startswith(prefix)), len(prefixes))
        header_id = self._table.first_header(name)
        return (prefix_rank, self._rank(header_id if header_id is not None else 0), self._definition_order[name])

    def _values_index(self, prefixes: tuple[str, ...]) -> dict[int, list[str]]:
        """Value -> names, over the names starting with ``prefixes`` (all names for ())."""
        index = self._by_value.get(prefixes)
        if index is None:
            if not self._definition_order:
                self._definition_order = {name: order for order, name in enumerate(self._state.values)}
            index = {}
            for name in self._state.values:
                if prefixes and not name.startswith(prefixes):
                    continue
                resolved = self._table.resolve(name)
                if resolved is not None:
                    index.setdefault(resolved, []).append(name)
            self._by_value[prefixes] = index
        return index

    def prototype(self, function: str, header: str | None = None) -> Prototype | None:
        """The declaration of ``function``: ``header`` first, then every other header in priority order.

        In each group, a declaration the target configuration compiles
        (64-bit desktop, see :mod:`specproof.sdk.prototypes`) wins over one
        found only by taking the first branch of every conditional, which
        is how kernel-mode-only declarations are still found.
        """
        key = (function, header.lower() if header else None)
        if key in self._prototypes:
            return self._prototypes[key]
        found: Prototype | None = None
        preferred = self.header_ids(header)
        candidates = self._state.functions.get(function, ())
        others = tuple(sorted((i for i in candidates if i not in preferred), key=self._rank))
        searches = [(h, True) for h in preferred] + [(h, False) for h in preferred]
        searches += [(h, True) for h in others] + [(h, False) for h in others]
        for header_id, decide in searches:
            found = self._declarations(header_id, decide).get(function)
            if found is not None:
                break
        self._prototypes[key] = found
        return found

    # ------------------------------------------------------------ internals

    def _declarations(self, header_id: int, decide: bool) -> dict[str, Prototype]:
        """A header's declarations, parsed once per set of headers.

        Parsing one header takes tens of milliseconds; every ingest worker
        meets the same few hundred headers, so parsed headers are cached on
        disk next to the index (same digest: same headers, same code).
        """
        parsed = self._parsed.get((header_id, decide))
        if parsed is not None:
            return parsed
        cached = self._parsed_dir / f"{header_id}-{int(decide)}.pickle" if self._parsed_dir else None
        if cached is not None:
            try:
                parsed = pickle.loads(cached.read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                parsed = None
            if isinstance(parsed, dict):
                self._parsed[(header_id, decide)] = parsed
                return parsed
        dir_index, relpath = self._state.headers[header_id]
        try:
            text = read_header(self._dirs[dir_index] / relpath)
        except OSError:
            text = ""
        table = self._table
        prefer = (header_id,)
        parsed = parse_prototypes(
            text,
            PurePosixPath(relpath).name,
            global_value=lambda name: table.raw(name, prefer),
            globally_defined=table.defines,
            expand=table.expander(prefer),
            global_decoration=lambda name: self._decoration(name, prefer),
            decide=decide,
        )
        self._parsed[(header_id, decide)] = parsed
        if cached is not None:
            _write_atomically(cached, pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
        return parsed

    def _decoration(self, name: str, prefer: tuple[int, ...]) -> tuple[tuple[str, ...] | None, str] | None:
        entries = self._state.decorations.get(name)
        if not entries:
            return None
        _, params, body = order_entries(entries, prefer, self._rank)[0]
        return (params, body)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a cache file so that no process ever reads half of it; a failure only loses the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
