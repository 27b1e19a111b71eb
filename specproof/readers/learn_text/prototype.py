"""The declaration on a learn-text page: finding its lines, and the parameter names it gives.

A copy keeps the syntax block as plain lines and may lose its closing `);`,
so the declaration is found by what it says, not by a code fence:

- The prototype is the block starting at the line that declares the
  function (`... Name(` with nothing but a type before it and no sentence
  after), or the block right after a "Syntax" heading (a typedef such as
  `VOID (*PFN_X)(...)` does not name the function).

The parameter names it gives decide which lines of the page are parameter
lines, and give the parameters their order; they are read by the kit's one
C declaration grammar (`sdk.declarations.page_parameters`), as the SDK
headers are.
"""

from __future__ import annotations

import re

__all__ = ["ANNOTATION", "is_proto_line", "take_prototype"]

_PROTO_PREFIX = re.compile(r"^[\w \t*&:]*$")
ANNOTATION = (
    r"\[\s*(?:in|out|inout|optional|opt|reserved|retval|in\s*/\s*out)"
    r"(?:\s*[,/]\s*(?:in|out|inout|optional|opt|reserved|retval))*\s*\]"
)
"""A parameter's bracket annotation, `[in]`, `[out, optional]`, `[in/out]` (pattern text, matched ignoring case)."""
_NAME_GROUP = re.compile(r"^\s*(?:\w+\s+)*\*?\s*\w+\s*$")
def is_proto_line(line: str, name: str) -> bool:
    """Whether the line opens the declaration of `name`, not prose that mentions `name(`."""
    index = line.find(name)
    while index >= 0:
        end = index + len(name)
        before_ok = index == 0 or not (line[index - 1].isalnum() or line[index - 1] == "_")
        rest = line[end:].lstrip()
        if before_ok and rest.startswith("(") and _PROTO_PREFIX.match(line[:index]):
            open_at = end + (len(line[end:]) - len(rest))
            _, close = _balanced(line, open_at)
            if close >= 0:
                return line[close + 1:].strip() in ("", ";")
            return not rest.rstrip().endswith(".") and ". " not in rest
        index = line.find(name, end)
    return False


def take_prototype(lines: list[str], i: int, name: str) -> tuple[str, int]:
    """The declaration from line i to the one closing its parameter list, or to a blank line; and the next index.

    A copy that lost the closing parenthesis still ends the declaration at the
    blank line after it.
    """
    taken: list[str] = []
    j = i
    while j < len(lines) and lines[j].strip():
        taken.append(lines[j])
        j += 1
        if ")" not in taken[-1]:
            continue
        text = "\n".join(taken)
        start = _open_paren(text, name)
        if start >= 0 and _balanced(text, start)[1] >= 0:
            break
    return "\n".join(taken), j


def _open_paren(text: str, name: str | None) -> int:
    """Index of the '(' that opens the parameter list.

    After `name` when the text has it; otherwise the first group, skipping a
    typedef's `(*PFN_NAME)` so that `VOID (*PFN_X)(int a)` gives `(int a)`.
    """
    if name:
        match = re.search(rf"(?<![\w]){re.escape(name)}\s*\(", text)
        if match:
            return match.end() - 1
    start = text.find("(")
    while start >= 0:
        inside, close = _balanced(text, start)
        if close < 0 or not _NAME_GROUP.match(inside) or not text[close + 1:].lstrip().startswith("("):
            return start
        start = text.index("(", close + 1)
    return start


def _balanced(text: str, start: int) -> tuple[str, int]:
    """Text inside the parentheses opening at `start`, and the index of the closing one (-1 if missing)."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1:index], index
    return text[start + 1:], -1
