"""Wine prefixes: one template made once, a private copy per adapter instance.

Making a prefix takes several seconds and about 700 MB, so it is done once
per Wine version and cached. Each adapter instance (each xdist worker)
works in its own copy, so two workers never share a wineserver or a
registry. The copy hard-links the files Wine only reads (PE binaries and
national-language tables, nearly all of the size) and copies the rest
(registry, configuration), which takes tens of milliseconds, not seconds.

The wineserver of a copy is started with a short persistence (`-p5`): if
the run is killed outright and nothing can clean up, the helper sees its
stdin close and exits, and the server and Wine's services follow a few
seconds later, so not even a SIGKILL leaves Wine processes behind.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .procs import processes_of
from .toolchain import Wine, cache_root, locked

#: Bumped when the template's recipe changes, so old templates are not reused.
RECIPE = 1
WINDOWS_VERSION = "win10"
#: Seconds the wineserver outlives its last process.
PERSISTENCE = 5
#: Files Wine only reads at run time: shared with the template by hard link.
SHARED_SUFFIXES = frozenset({".dll", ".exe", ".drv", ".sys", ".nls", ".tlb", ".ocx", ".cpl", ".acm", ".ax",
                             ".ds", ".ttf", ".ttc", ".fon", ".msstyles", ".manifest", ".mui"})


class PrefixError(RuntimeError):
    """Wine could not make or start a prefix; the message names the command and its output."""


def wine_env(wine: Wine, prefix: Path, debug: str = "-all") -> dict[str, str]:
    """The environment every Wine process of a prefix runs with: headless, quiet, no installers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINE") and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({
        "WINEPREFIX": str(prefix),
        "WINELOADER": str(wine.loader),
        "WINESERVER": str(wine.server),
        "WINEARCH": "win64",
        "WINEDEBUG": debug,
        # no Mono or Gecko installers; no winedbg (it would dump a crash report into our pipe); no menus
        "WINEDLLOVERRIDES": "mscoree,mshtml=;winedbg.exe,winemenubuilder.exe=d",
    })
    return env


def _run(command: list[str], env: dict[str, str], what: str, timeout: float = 300) -> None:
    # stderr goes to a file, not a pipe: wineserver daemonizes and its child would hold a pipe open
    with tempfile.TemporaryFile() as errors:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=errors, timeout=timeout)
        if done.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-10:]
            raise PrefixError(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n" + "\n".join(tail))


def template(wine: Wine) -> Path:
    """The cached template prefix for this Wine, made now if missing (Windows 10, no installers)."""
    slug = re.sub(r"[^\w.]+", "_", wine.version()).strip("_")
    target = cache_root() / f"prefix-{slug}-{WINDOWS_VERSION}-r{RECIPE}"
    if (target / "system.reg").exists():
        return target
    with locked("template"):
        if (target / "system.reg").exists():
            return target
        partial = target.with_name(target.name + f".{os.getpid()}.tmp")
        shutil.rmtree(partial, ignore_errors=True)
        env = wine_env(wine, partial)
        try:
            _run([str(wine.loader), "wineboot", "--init"], env, "creating a Wine prefix (wineboot --init)")
            _run([str(wine.loader), "winecfg", "-v", WINDOWS_VERSION], env, f"setting Windows version {WINDOWS_VERSION}")
            _run([str(wine.server), "-w"], env, "waiting for the prefix's wineserver to save and exit")
        except BaseException:
            subprocess.run([str(wine.server), "-k"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if not (partial / "system.reg").exists():
            raise PrefixError(f"wineboot made no registry in {partial}")
        os.replace(partial, target)
    return target


def _copy(source: Path, target: Path) -> None:
    """Copy a prefix: hard links for read-only binaries, real copies for everything Wine may write."""
    for folder, dirnames, filenames in os.walk(source):
        here = Path(folder)
        there = target / here.relative_to(source)
        there.mkdir(exist_ok=True)
        for name in dirnames + filenames:
            path = here / name
            if path.is_symlink():
                (there / name).symlink_to(os.readlink(path))
                if name in dirnames:
                    dirnames.remove(name)
            elif name in filenames:
                if path.suffix.lower() in SHARED_SUFFIXES:
                    os.link(path, there / name)
                else:
                    shutil.copy2(path, there / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Prefix:
    """A private copy of the template, with its own wineserver; removed by `remove()`."""

    def __init__(self, wine: Wine, path: Path) -> None:
        self.wine = wine
        self.path = path

    @classmethod
    def create(cls, wine: Wine) -> Prefix:
        source = template(wine)
        instances = cache_root() / "instances"
        instances.mkdir(parents=True, exist_ok=True)
        cls.sweep(wine, instances)
        path = instances / f"{os.getpid()}-{secrets.token_hex(4)}"
        _copy(source, path)
        return cls(wine, path)

    @staticmethod
    def sweep(wine: Wine, instances: Path) -> None:
        """Remove copies left by runs that were killed (their owning process is gone)."""
        for stale in instances.iterdir():
            pid = stale.name.split("-", 1)[0]
            if stale.name.startswith("trash-") or pid.isdigit() and not _alive(int(pid)):
                Prefix(wine, stale).stop()
                shutil.rmtree(stale, ignore_errors=True)

    def env(self, debug: str = "-all") -> dict[str, str]:
        return wine_env(self.wine, self.path, debug)

    def start(self, warm: Path) -> None:
        """Start the wineserver and Wine's services, output discarded.

        Services started by the helper itself would inherit its pipe and hold
        it open; started here, by one quiet run of `warm` (the helper, which
        exits at once on an empty stdin), they write to /dev/null.
        """
        env = self.env()
        _run([str(self.wine.server), f"-p{PERSISTENCE}"], env, "starting the wineserver", timeout=60)
        _run([str(self.wine.loader), str(warm)], env, "starting Wine's services", timeout=300)

    def stop(self) -> None:
        """Kill every process of this prefix (the wineserver too) and wait until none is left.

        SIGKILL rather than `wineserver -k`, which spends most of a second
        on a prefix that is about to be deleted anyway.
        """
        deadline = time.monotonic() + 10
        sockets = set()
        while (left := processes_of(self.path)) and time.monotonic() < deadline:
            for pid in left:
                try:
                    cwd = os.readlink(f"/proc/{pid}/cwd")  # the wineserver works in its socket folder
                    if Path(cwd).name.startswith("server-"):
                        sockets.add(cwd)
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, FileNotFoundError, PermissionError):
                    pass
            time.sleep(0.01)
        for folder in sockets:
            shutil.rmtree(folder, ignore_errors=True)

    def remove(self) -> None:
        """Stop, then delete the copy in a detached `rm` so the run does not wait for the disk."""
        self.stop()
        trash = self.path.with_name("trash-" + self.path.name)
        try:
            os.replace(self.path, trash)
        except FileNotFoundError:
            return
        subprocess.Popen(["rm", "-rf", str(trash)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
