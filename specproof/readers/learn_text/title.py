"""The title of a learn-text page: where it is, and the function, kind and header it names.

The title is how a copied page is told from any other text, and the only
place the page names its function and header, so it is found before
anything else is read:

- Kinds. Only `function`, `method` and `macro` titles (and `inline function`,
  `function-like macro`) are read. Everything else (structure, enumeration,
  callback function, interface, class, IOCTL, ...) raises NotAFunction:
  a callback function page documents a function *type* the caller writes,
  not a function anyone can call. A method's api is its documented name,
  `IFoo::Bar`, as the title writes it.
- Site chrome before the title. A whole-page copy starts with the site's own
  lines (skip link, browser banner, breadcrumbs, action words such as Edit /
  Share via / Bearbeiten / Partager via, "Table of contents"), in the
  reader's language. They are not matched by word: the title is the first
  line, among the first `_TITLE_WINDOW` lines with text, that reads as a
  title (`Name function (header.h)`, a known kind) and is followed, before
  any other title-like line and within `_STRUCTURE_REACH` lines, by the
  page's structure (a Syntax, Parameters, Return value or Requirements
  heading, the prototype of that name, a parameter line or a requirement
  row); everything before it is ignored. A title on the first line needs no
  such proof. (The chrome after the title is `learn_chrome`'s.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...sdk.declarations import declared_name
from .lines import PNAME_POST, PNAME_PRE
from .prototype import is_proto_line
from .requirements import strong_req_line

__all__ = ["FUNCTION_KINDS", "KNOWN_KINDS", "find_title"]

_TITLE = re.compile(
    r"^(?P<name>(?:~?[A-Za-z_][\w~-]*::)*(?:operator\S+?|~?[A-Za-z_][\w~-]*)(?:\([^()]*\))?)"
    r"\s+(?P<kind>[A-Za-z][A-Za-z -]{0,40}?)\s+"
    r"\((?P<header>[\w.\-/]+\.(?:h|hpp|hxx|idl|inl))\)\s*$"
)
FUNCTION_KINDS = frozenset({"function", "method", "macro", "inline function", "function-like macro"})
"""The title kinds of pages this reader reads."""
_OTHER_KINDS = frozenset({
    "structure", "struct", "enumeration", "enum", "union", "callback function", "callback",
    "function pointer", "interface", "class", "ioctl", "constant", "constants", "property",
    "event", "message", "notification", "typedef", "delegate", "attribute", "namespace",
    "control code", "object", "record", "field", "data type",
})
KNOWN_KINDS = FUNCTION_KINDS | _OTHER_KINDS
"""Every title kind of a reference page: a page of another kind is a learn-text copy all the same."""

# how far into a copy the title may sit, behind the site's chrome (non-blank lines), and how far
# after it the page's structure must show (a description runs some tens of lines, not hundreds)
_TITLE_WINDOW = 60
_STRUCTURE_REACH = 400
# the headings that prove a page follows a title line (see the module docstring)
_STRUCTURE_HEADINGS = frozenset({"syntax", "parameters", "return value", "return values", "requirements"})


def find_title(
    numbered: Iterator[tuple[int, str]],
) -> tuple[str | None, tuple[int, re.Match[str]] | None, tuple[int, str] | None]:
    """(first line, (index, match) of the title, a title-like line that had no page after it).

    The first non-blank line is the title when it reads as one. Otherwise the
    copy may start with the site's chrome: the title is the first of the
    first `_TITLE_WINDOW` lines that reads as a title of a known kind and is
    followed, before the next such line and within `_STRUCTURE_REACH` lines,
    by a line of the page's structure (`_structure_line`). A title-like line
    deep in a body is never taken, nor one with no page after it. Lines are
    read only as far as needed.
    """
    head = next(numbered, None)
    if head is None:
        return None, None, None
    first_index, first = head
    if first.startswith("---"):
        return first, None, None
    match = _TITLE.match(first)
    if match:
        return first, (first_index, match), None
    seen = pending_at = 1
    pending: tuple[int, re.Match[str], str] | None = None  # the latest title-like line, awaiting its page
    unproven: tuple[int, str] | None = None
    for index, s in numbered:
        seen += 1
        if s[-1] == ")":
            match = _TITLE.match(s)
            if match and match.group("kind").lower() in KNOWN_KINDS:
                if pending is not None and unproven is None:
                    unproven = (pending[0], pending[1].group(0))
                if seen > _TITLE_WINDOW:
                    pending = None  # what follows belongs to this title, too deep in the text to be one
                    break
                pending = (index, match, declared_name(match.group("name")))
                pending_at = seen
                continue
        if pending is not None:
            if _structure_line(s, pending[2]):
                return first, (pending[0], pending[1]), None
            if seen - pending_at >= _STRUCTURE_REACH:
                break
        elif seen >= _TITLE_WINDOW:
            break
    if pending is not None and unproven is None:
        unproven = (pending[0], pending[1].group(0))
    return first, None, unproven


def _structure_line(s: str, name: str) -> bool:
    """A line only a reference page's body has: a main section heading, the prototype of `name`,
    a parameter line (`[in] hContext`) or a requirement row."""
    if len(s) <= 20 and s.casefold().rstrip(":") in _STRUCTURE_HEADINGS:
        return True
    if name in s and is_proto_line(s, name):
        return True
    if len(s) <= 80 and (PNAME_PRE.match(s) or PNAME_POST.match(s)):
        return True
    return strong_req_line(s)
