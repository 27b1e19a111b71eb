"""The requirements table of a learn-text copy, which arrives as `Key Value` lines.

A copy flattens each row of the table to one line (the key, a tab or
spaces, the value), or to the key alone with the value on the next line.
So the rows are recognised by their keys:

- A block keyed by a short word (Header, Library, DLL, IRQL) counts only
  with a tab after the key or a value of the expected shape (`x.h`,
  `x.lib`, `x.dll`, `..._LEVEL`), so "Header files ..." in the remarks
  stays a remark. After the requirements table, lines that are not
  requirement rows are the see-also list (that is where the page puts it,
  heading or not).

The keys kept become the spec's requirement facts, named as the markdown
sources' front matter names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..text import fold

__all__ = ["add_requirements", "req_row", "requirement_block", "strong_req_line"]

# a row's key, as the page writes it, to the fact it gives (None: a row the spec does not keep)
_REQ_NAMES: dict[str, str | None] = {
    "minimum supported client": "target-min-winverclnt",
    "minimum supported server": "target-min-winversvr",
    "target platform": "target-platform",
    "header": "header",
    "include header": "include-header",
    "library": "lib",
    "dll": "dll",
    "irql": "irql",
    "ddi compliance rules": "ddi-compliance",
    "minimum kmdf version": "kmdf-ver",
    "minimum umdf version": "umdf-ver",
    "unicode and ansi names": "unicode-ansi",
    "redistributable": "redist",
    # rows the page shows and the spec does not keep
    "requirement": None, "api set": None, "minimum supported phone": None, "end of client support": None,
    "end of server support": None, "type library": None, "idl": None, "namespace": None, "assembly": None,
    "product": None,
}
_REQ_LINE = re.compile(
    r"^(?P<key>" + "|".join(re.escape(k) for k in sorted(_REQ_NAMES, key=len, reverse=True)) + r")"
    r"\s*:?(?:(?P<sep>[\t ]+)(?P<value>\S.*?))?\s*$",
    re.I,
)
_REQ_FIRST_WORDS = frozenset(key.split()[0] for key in _REQ_NAMES)
# the value a short key needs, when no tab follows it, to be a row rather than a sentence
_SHORT_KEY_VALUES = {
    "header": re.compile(r"\.h\b", re.I),
    "include header": re.compile(r"\.h\b", re.I),
    "library": re.compile(r"\.lib\b", re.I),
    "dll": re.compile(r"\.(?:dll|sys|exe|drv)\b", re.I),
    "irql": re.compile(r"_LEVEL\b|\bIRQL\b|\bany\b|\bremarks\b", re.I),
    "requirement": re.compile(r"^value$", re.I),
    "idl": re.compile(r"\.idl\b", re.I),
}
_INCLUDE = re.compile(r"^(?P<header>.*?)\s*\(\s*include\s+(?P<include>[^)]*?)\s*\)\s*$", re.I)


def req_row(lines: list[str], i: int, strict: bool) -> tuple[str, str, int] | None:
    """(key, value, next index) for a requirement row at line i; the value may be on the next line."""
    s = lines[i].strip()
    match = _REQ_LINE.match(s)
    if not match:
        return None
    key = match.group("key").casefold()
    value = match.group("value") or ""
    tabbed = bool(match.group("sep") and "\t" in match.group("sep"))
    j = i + 1
    if not value:
        if j < len(lines) and lines[j].strip() and not _REQ_LINE.match(lines[j].strip()):
            value, tabbed, j = lines[j].strip(), True, j + 1
        elif key != "requirement":
            return None
    if strict and key in _SHORT_KEY_VALUES and not tabbed and not _SHORT_KEY_VALUES[key].search(value):
        return None
    return key, fold(value), j


def requirement_block(lines: list[str], i: int) -> tuple[list[tuple[str, str]], int] | None:
    """The (key, value) rows of a block made only of requirement rows from line i, and the next index; else None."""
    head = lines[i].split(None, 1)
    if not head or head[0].casefold() not in _REQ_FIRST_WORDS:
        return None
    j = i
    rows: list[tuple[str, str]] = []
    while j < len(lines) and lines[j].strip():
        parsed = req_row(lines, j, strict=True)
        if parsed is None:
            return None
        key, value, j = parsed
        rows.append((key, value))
    return (rows, j) if rows else None


def strong_req_line(s: str) -> bool:
    """A requirement row no table description would start with (multi-word keys, or tabbed)."""
    match = _REQ_LINE.match(s)
    return bool(match and match.group("value") and (" " in match.group("key") or "\t" in (match.group("sep") or "")))


def add_requirements(req: dict[str, str], rows: Iterable[tuple[str, str]]) -> None:
    """Put the facts of (key, value) rows into `req`; the first row of a key wins, rows not kept are dropped.

    `Header  x.h (include y.h)` gives the header and the header to include.
    """
    for name, value in rows:
        key = _REQ_NAMES.get(name)
        if not key or not value:
            continue
        if key == "header":
            include = _INCLUDE.match(value)
            if include:
                value = include.group("header")
                req.setdefault("include-header", include.group("include"))
        req.setdefault(key, value)
