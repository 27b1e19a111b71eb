"""Which processes belong to a Wine prefix.

Every Wine process of a prefix (the wineserver, Wine's services, the helper)
carries `WINEPREFIX=<prefix>` in its environment, whoever started it, so
that is how a run finds, kills and proves gone what it started.
"""

from __future__ import annotations

import os
from pathlib import Path


def processes_of(prefix: Path) -> list[int]:
    """Process ids whose environment names `prefix` as WINEPREFIX (Linux /proc)."""
    wanted = b"WINEPREFIX=" + os.fsencode(str(prefix)) + b"\0"
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environ = handle.read() + b"\0"
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if b"\0" + wanted in b"\0" + environ:
            found.append(int(entry.name))
    return found
