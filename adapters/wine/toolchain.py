"""Finding Wine and the cross-compiler, and building the helper once.

The helper's C source ships with the adapter; the binary never does. It is
compiled on first use with `x86_64-w64-mingw32-gcc` and cached outside the
checkout, keyed by the source's digest and the compiler's version, so a new
compiler or an edited helper gives a new binary and nothing stale is run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

#: Debian/Ubuntu packages the adapter needs (winbind: Samba's ntlm_auth, for NTLM contexts).
PACKAGES = ("wine64", "gcc-mingw-w64-x86-64", "winbind")
INSTALL_COMMAND = ("sudo apt-get update && sudo apt-get install -y --no-install-recommends "
                   + " ".join(PACKAGES))
COMPILER = "x86_64-w64-mingw32-gcc"
SOURCE = Path(__file__).with_name("helper.c")
FLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")
LIBS = ("-lpsapi",)

_LOADERS = ("/usr/lib/wine/wine64", "/usr/lib64/wine/wine64", "/opt/wine-stable/bin/wine64")
_DLL_DIRS = ("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows", "/usr/lib/wine/x86_64-windows",
             "/usr/lib64/wine/x86_64-windows", "/opt/wine-stable/lib/wine/x86_64-windows",
             "/opt/wine-stable/lib64/wine/x86_64-windows")


class ToolMissing(RuntimeError):
    """Wine or the cross-compiler is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Wine:
    """Where this machine's 64-bit Wine lives."""

    loader: Path  # the wine64 loader (not the `wine` shell wrapper, which guesses WINEDEBUG)
    server: Path
    dlls: Path  # Wine's PE DLLs, read by pefile to find stubs without running anything

    def version(self) -> str:
        return _version(str(self.loader))


@lru_cache(maxsize=None)
def _version(loader: str) -> str:
    out = subprocess.run([loader, "--version"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "WINEDEBUG": "-all"})
    return out.stdout.strip() or out.stderr.strip() or "unknown"


def _first(candidates: list[str | None]) -> Path | None:
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def find_wine() -> Wine:
    """This machine's Wine (`SPECPROOF_WINE` may name the wine64 loader), or ToolMissing."""
    named = os.environ.get("SPECPROOF_WINE")
    if named and not Path(named).exists():
        raise ToolMissing(f"SPECPROOF_WINE names {named}, which does not exist; point it at a wine64 loader "
                          f"or unset it; to install Wine: {INSTALL_COMMAND}")
    loader = _first([named, shutil.which("wine64"), *_LOADERS])
    if loader is None:
        raise ToolMissing(f"Wine's 64-bit loader (wine64) is not installed; install it with: {INSTALL_COMMAND}")
    loader = loader.resolve()
    server = _first([str(loader.with_name("wineserver")), shutil.which("wineserver")])
    if server is None:
        raise ToolMissing(f"wineserver is not installed next to {loader}; install Wine with: {INSTALL_COMMAND}")
    dlls = _first([str(loader.parent.parent / "x86_64-linux-gnu/wine/x86_64-windows"),
                   str(loader.parent / "x86_64-windows"), *_DLL_DIRS])
    if dlls is None:
        raise ToolMissing(f"Wine's 64-bit PE DLLs (x86_64-windows) are not found near {loader}; "
                          f"install Wine with: {INSTALL_COMMAND}")
    return Wine(loader, server, dlls)


def find_compiler() -> Path:
    path = shutil.which(COMPILER)
    if path is None:
        raise ToolMissing(f"{COMPILER} is not installed (it builds the Wine helper); install it with: "
                          f"{INSTALL_COMMAND}")
    return Path(path)


def cache_root() -> Path:
    """Where built helpers and Wine prefixes are kept: SPECPROOF_CACHE, else the XDG cache."""
    explicit = os.environ.get("SPECPROOF_CACHE")
    if explicit:
        return Path(explicit) / "wine"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "specproof" / "wine"


def cache_problem() -> str | None:
    """Why the cache cannot hold the helper and prefixes (a read-only or missing home), or None."""
    root = cache_root()
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing or root} is not writable, and the wine adapter keeps its helper and Wine prefixes in {root}"
    try:  # access() answers for permissions only; a read-only mount shows when something is made
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        return f"{root} is not writable ({error.strerror or error}), and the wine adapter keeps its helper and " \
               "Wine prefixes there"
    return None


@contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock in the cache: two workers starting at once build or create things once."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as handle:
        if sys.platform == "win32":  # msvcrt locks a byte range: the first byte stands for the file
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after ten seconds; another worker is still building
                    continue
            try:
                yield
            finally:
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def helper_key(compiler: Path) -> str:
    version = subprocess.run([str(compiler), "--version"], capture_output=True, text=True,
                             timeout=60).stdout.splitlines()[:1]
    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), "\n".join(version).encode(), " ".join(FLAGS + LIBS).encode()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def build_helper() -> Path:
    """The helper's .exe, compiled now if the cache has none for this source and compiler."""
    compiler = find_compiler()
    target = cache_root() / f"helper-{helper_key(compiler)}.exe"
    if target.exists():
        return target
    with locked("build"):
        if target.exists():
            return target
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        done = subprocess.run([str(compiler), *FLAGS, "-o", str(partial), str(SOURCE), *LIBS],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"{COMPILER} could not build {SOURCE}:\n{done.stderr.strip()}")
        os.replace(partial, target)
    return target
