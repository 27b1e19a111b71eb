"""Reader for learn-text: a learn.microsoft.com reference page copied from a browser as plain text.

A browser copy keeps the words and loses the structure, and not always the
same structure. Section headings may survive or not; the syntax block may
lose its closing `);`; the parameter lines (`[in] phContext`) may be gone;
each table row becomes one line (`NAME Description`, or `NAME` alone with
the value, and maybe the description, on the next line); the requirements
table becomes `Key Value` lines. So the reader depends on none of those
marks. It first cuts the page into units (headings, the prototype,
parameter lines, flattened tables, requirement rows, paragraphs), then
places the section boundaries: at a heading where one survived, otherwise
by what the text says (a returns statement, a return-code table, the
requirement keys).

This module is the reader's face; each step lives in a module named for it,
whose docstring gives the rules chosen where a copy is ambiguous:

- `title`: the title line, behind any site chrome, and the page kinds read;
- `chrome`: the site's own lines (metadata, "In this article", footer) and the page date;
- `lines`: what one line is, told from the line alone;
- `scanner`: the body's lines cut into units;
- `prototype`: the declaration's lines and the parameters it names;
- `tables`: flattened tables read back into cells, by the return-code grammar of `codes`;
- `requirements`: the requirements table's `Key Value` rows;
- `place`: the units placed into description, parameters, returns, remarks, requirements and see also.
"""

from __future__ import annotations

from ...sdk.declarations import declared_name
from ..parts import NotAFunction, PageError, PageParts
from ..text import decode_page, digest_bytes
from .chrome import head_chrome, strip_chrome
from .lines import iter_lines, nonblank
from .place import place
from .scanner import Scanner
from .title import FUNCTION_KINDS, KNOWN_KINDS, find_title

__all__ = ["looks_like_learn_text", "read_learn_text"]


def looks_like_learn_text(text: str) -> bool:
    """True when the text is a copied reference page: a `Name function (header.h)` title, no front matter.

    The title is the first line, or a later one behind the site's chrome (see `learn_title.find_title`).
    Only the first lines are read unless such a title-like line shows up, so this stays cheap on other pages.
    """
    first, found, _ = find_title(nonblank(iter_lines(text.lstrip("\ufeff"))))
    if first is None or found is None:
        return False
    return found[1].group("kind").lower() in KNOWN_KINDS


def read_learn_text(raw: bytes, file: str, text: str | None = None) -> PageParts:
    """Read one learn-text page into PageParts; NotAFunction for other page kinds, PageError when unreadable.

    `text` is the page already decoded, when the caller decoded it to tell the format.
    """
    text = decode_page(raw) if text is None else text
    lines = [line.rstrip() for line in text.split("\n")]
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise PageError("empty page: there is nothing to read")
    first = lines[start].strip()
    if first.startswith("---"):
        raise PageError("the page starts with YAML front matter: it is a markdown source, not a learn-text copy")
    _, found, unproven = find_title(nonblank(lines))
    if found is None:
        message = ("no title line: a learn-text page starts with 'Name function (header.h)', "
                   f"this one with {first[:80]!r}")
        if unproven is not None:
            message += (f"; the title-like line {unproven[1][:80]!r} (line {unproven[0] + 1}) is followed by no "
                        "Syntax, Parameters, Return value or Requirements, prototype or parameter line")
        raise PageError(message)
    at, title = found
    title_line = lines[at].strip()
    kind = title.group("kind").lower()
    if kind not in FUNCTION_KINDS:
        raise NotAFunction(f"a {kind} page ({title_line}), not a function")
    api = title.group("name")  # the documented name: `IFoo::Bar` keeps its `::`
    parts = PageParts(format="learn-text", file=file, digest=digest_bytes(raw), api=api,
                      header=title.group("header"))
    head, meta_date = head_chrome(lines[at + 1:])
    body, body_date = strip_chrome(head)
    parts.date = meta_date or body_date
    scanner = Scanner(body, declared_name(api))
    units = scanner.run()
    parts.prototype = scanner.prototype
    place(parts, units, scanner.proto_params)
    return parts
