"""The shapes one line of a learn-text copy can take, told from the line alone.

The title search, the chrome stripping and the scanner each ask what a line
is (a section heading, a language label over code, a note's title, a
`Type:` line, a parameter line) before they know where on the page they
are. The answers are written here once, so that the three agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .prototype import ANNOTATION

__all__ = [
    "BARE_NAME", "CLOSING", "CODE_LINE", "HEADINGS", "LANG_LABELS", "NOTE_WORDS", "PNAME_POST", "PNAME_PRE",
    "TYPE_LINE", "iter_lines", "next_text", "nonblank",
]

HEADINGS = {
    "syntax": "syntax", "parameters": "params", "return value": "returns", "return values": "returns",
    "remarks": "remarks", "examples": "examples", "example": "examples", "requirements": "req",
    "see also": "see",
}
"""A section heading's text (case-folded, no colon) to the section it opens."""
CLOSING = frozenset({"returns", "remarks", "examples", "req", "see"})
"""Sections after which no prototype or parameter line can come."""

LANG_LABELS = frozenset({"c++", "c", "cpp", "syntax", "c#", "idl", "vb", "json", "xml", "console"})
"""The language label the site shows over a code block, before its `Copy` button."""
CODE_LINE = re.compile(r"^(?:[ \t]|//|/\*|#|[{}])|[;{}(),]\s*$")
"""A line that reads as code: indented, a comment or directive, a brace, or ending as a statement does."""
NOTE_WORDS = frozenset({"note", "important", "warning", "caution", "tip"})
"""The title of a rendered alert, alone on its line."""
TYPE_LINE = re.compile(r"^Type:\s*(?P<type>\S.*?)\s*$")
"""`Type: DWORD`: the type of a parameter or of the return value."""

PNAME_PRE = re.compile(rf"^(?P<ann>{ANNOTATION})\s+(?P<name>[A-Za-z_]\w*|\.\.\.)$", re.I)
"""A parameter line with its annotation first: `[in] phContext`."""
PNAME_POST = re.compile(rf"^(?P<name>[A-Za-z_]\w*|\.\.\.)\s+(?P<ann>{ANNOTATION})$", re.I)
"""A parameter line with its annotation last: `phContext [in]`."""
BARE_NAME = re.compile(r"^[A-Za-z_]\w*$")
"""A line that is one identifier: a parameter line that lost its annotation, if the prototype names it."""


def iter_lines(text: str) -> Iterator[str]:
    """The lines of `text`, split on demand: detection reads only the first few of a long page."""
    start, end = 0, len(text)
    while start <= end:
        stop = text.find("\n", start)
        if stop < 0:
            stop = end
        yield text[start:stop]
        start = stop + 1


def nonblank(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(index, stripped text) of each line with text; NBSP and a stray BOM count as space."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped:
            if "\u00a0" in stripped or "\ufeff" in stripped:
                stripped = stripped.replace("\u00a0", " ").replace("\ufeff", "").strip()
                if not stripped:
                    continue
            yield index, stripped


def next_text(lines: list[str], i: int) -> str | None:
    """The next line after line i that has text, stripped; None at the end of the page."""
    for j in range(i + 1, len(lines)):
        if lines[j].strip():
            return lines[j].strip()
    return None
