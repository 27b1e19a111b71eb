"""Reading header text the way the C preprocessor sees it.

Both the define index and the prototype parser work on text where
backslash-newlines are spliced and comments are gone, in that order
(translation phases 2 and 3). Doing it once here keeps a commented-out
``#define`` or a prototype spread over continued lines from fooling either
of them. String and character literals are matched too, so that ``"*/*"``
in a string is not taken for a comment.
"""

from __future__ import annotations

import re
from pathlib import Path

_COMMENT_OR_LITERAL = re.compile(
    r'"(?:\\.|[^"\\\n])*"'
    r"|'(?:\\.|[^'\\\n])*'"
    r"|/\*.*?\*/"
    r"|//[^\n]*",
    re.S,
)


def _keep_literals(match: re.Match[str]) -> str:
    text = match.group(0)
    return " " if text[0] == "/" else text


def splice_lines(text: str) -> str:
    """Normalise line ends and join backslash-continued lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\\\n" in text:
        text = text.replace("\\\n", "")
    return text


def strip_comments(text: str) -> str:
    """Replace each comment by one space, as the preprocessor does."""
    if "/" not in text:
        return text
    return _COMMENT_OR_LITERAL.sub(_keep_literals, text)


def read_header(path: Path) -> str:
    """Header text, spliced and without comments.

    Headers are ASCII in practice; latin-1 never fails to decode, so an odd
    byte in a comment or a copyright line cannot make a header unreadable.
    """
    return strip_comments(splice_lines(path.read_bytes().decode("latin-1")))
