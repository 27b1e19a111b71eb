"""Where the SDK headers and the index cache live.

The headers are an input the user installs (Debian's mingw-w64-common puts
them in /usr/share/mingw-w64/include), so finding them must be predictable
and overridable, and failing to find them must say how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

__all__ = ["SdkNotFound", "default_cache_dir", "default_include_dirs", "resolve_include_dirs"]

INCLUDE_ENV = "SPECPROOF_SDK_INCLUDE"
CACHE_ENV = "SPECPROOF_CACHE"
_CANDIDATES = (Path("/usr/share/mingw-w64/include"), Path("/usr/x86_64-w64-mingw32/include"))


class SdkNotFound(Exception):
    """No SDK include directory exists, so no name can be resolved."""


def default_include_dirs() -> list[Path]:
    """$SPECPROOF_SDK_INCLUDE (os.pathsep-separated) if set, else the mingw-w64 dirs that exist."""
    configured = os.environ.get(INCLUDE_ENV)
    if configured:
        return [Path(part).expanduser() for part in configured.split(os.pathsep) if part.strip()]
    return [path for path in _CANDIDATES if path.is_dir()]


def _not_found(tried: Sequence[Path]) -> SdkNotFound:
    where = ", ".join(str(path) for path in tried) or "(none configured)"
    return SdkNotFound(
        f"no SDK include directory found (tried: {where}). Install Debian's mingw-w64-common "
        f"(apt-get install mingw-w64-common) or pass --sdk-include DIR / set {INCLUDE_ENV}."
    )


def resolve_include_dirs(include_dirs: Sequence[Path | str] | None) -> tuple[Path, ...]:
    """The existing include dirs, resolved and without duplicates; SdkNotFound if none.

    Resolving symlinks matters: /usr/x86_64-w64-mingw32/include is often a
    link to /usr/share/mingw-w64/include, and indexing it twice would double
    every definition.
    """
    requested = [Path(path) for path in (default_include_dirs() if include_dirs is None else include_dirs)]
    if include_dirs is None and not requested:
        requested = list(_CANDIDATES)
    found: list[Path] = []
    for path in requested:
        if path.expanduser().is_dir():
            real = path.expanduser().resolve()
            if real not in found:
                found.append(real)
    if not found:
        raise _not_found(requested)
    return tuple(found)


def default_cache_dir() -> Path:
    """$SPECPROOF_CACHE, else $XDG_CACHE_HOME/specproof, else ~/.cache/specproof."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "specproof"
