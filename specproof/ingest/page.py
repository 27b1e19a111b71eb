"""What one page gives, shared by the stage's parts: the result a reader or the cache hands the main loop.

The main loop (pipeline.py), the readers in the workers (read.py) and the page
cache (cache.py) all speak of these; keeping them here lets each of those
import this module rather than each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..spec.model import Spec

MAX_PAGE_BYTES = 4 * 1024 * 1024
NO_SDK_NOTE = "SDK headers not used (--no-sdk): code values come from the pages only"
FORMAT_RANK = {"learn-text": 0, "sdk-api": 1, "wdk-ddi": 1}


@dataclass
class PageResult:
    """What one page gave: a rendered spec, a skip or a failure with its reason.

    Workers send the spec already merged with the file on disk and rendered
    as YAML: text pickles far faster than a model, and dumping is the most
    expensive step left, so it belongs on every core, not on the main one.
    """

    file: str
    status: str  # "spec" | "kept" (the spec on disk is from a newer page) | "skipped" | "failed"
    reason: str = ""
    target: str = ""
    text: str = ""
    rank: tuple[str, int] = ("", 0)
    stale: list[tuple[str, list[str]]] = field(default_factory=list)
    existed: bool = False  # a spec file was there already (so the main process compares before writing)
    digest: bytes | None = None  # sha256 of the page's bytes; None: not to be cached (an OS error, say)
    source: str = ""  # the spec's source digest (which decides "kept" against another page's spec)


# Positions in a cache entry (a tuple: marshal stores and loads those fastest; see cache.py).
DIGEST, STATUS, REASON, TARGET, RANK, SOURCE, STALE, WON, SIZE, MTIME, INODE = range(11)


def too_large(size: int) -> str:
    return (f"{size / 1048576:.1f} MB is too large for a reference page (limit "
            f"{MAX_PAGE_BYTES // 1048576} MB); check that this is the page you meant")


def spec_path(out: Path, spec: Spec) -> Path:
    """Where a spec's file goes under `out` (its folder and stem, as the model names them)."""
    folder, stem = spec.path_key
    return out / folder / f"{stem}.yaml"


def page_digest(raw: bytes | memoryview) -> bytes:
    """What the cache keys a page's result by: the sha256 of its bytes."""
    return hashlib.sha256(raw).digest()


def rank(spec: Spec) -> tuple[str, int]:
    """Which of two pages of one function wins: the newer doc date, then markdown over a text copy."""
    return (spec.source.date or "", FORMAT_RANK.get(spec.source.format, 0))


def keeps_newer(on_disk: tuple[str, int], on_disk_source: object, page: tuple[str, int], page_source: object) -> bool:
    """Whether the spec on disk stays: it comes from a page that ranks higher and is another page.

    The readers decide it against the file (read.py); the page cache decides it again for the
    results it stores (cache.py), so both ask here.
    """
    return on_disk > page and on_disk_source != page_source
