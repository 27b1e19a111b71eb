"""Turning doc and result text into markdown that shows it as written.

Everything on the site that comes from a reference page or from a run (a
clause, a parameter's doc, an implementation's diagnostics) is text, never
markup: a page that says `<script>` or `|` or `{: onclick=...}` must show
those characters, not make a script, split a table or set an attribute.
So every piece of it goes through one of these functions before it is put
into a generated page; the page writers never paste raw text.

HTML's `&`, `<` and `>` become entities; characters that make markdown
structure (emphasis, code, links, attribute lists, table cells, headings,
lists, block quotes) become numeric entities too, which Python-Markdown
passes through untouched and the browser shows as the character. Entities
rather than backslashes: a backslash escape means something only for the
characters Python-Markdown knows, and not inside every context.
"""

from __future__ import annotations

import re

_INLINE = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "\\": "&#92;", "`": "&#96;", "*": "&#42;", "_": "&#95;", "{": "&#123;", "}": "&#125;",
    "[": "&#91;", "]": "&#93;", "|": "&#124;", "#": "&#35;",
})
# What a line may start with that makes it a block (list, quote, heading rule, ordered list).
_LINE_START = re.compile(r"^(?:[-+>=~]|\d+(?=[.)]))")
_SPACES = re.compile(r"\s+")
_NEEDS = re.compile(r"[&<>\\`*_{}\[\]|#]")


def text(value: object) -> str:
    """One line of text, safe anywhere inline: in a paragraph, a table cell, a heading or a link's label.

    Runs of whitespace (newlines too) become one space, so text can never
    end a table row or start a block.
    """
    line = _SPACES.sub(" ", str(value)).strip()
    if _NEEDS.search(line):
        line = line.translate(_INLINE)
    match = _LINE_START.match(line)
    if match:
        end = match.end()
        if line[0].isdigit():  # "1. foo" would start an ordered list: escape the dot after the number
            line = line[:end] + f"&#{ord(line[end])};" + line[end + 1:]
        else:
            line = f"&#{ord(line[0])};" + line[1:]
    return line


_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def slug(value: str) -> str:
    """A file or anchor name for a name from the docs or a run: letters, digits, '.', '_' and '-'."""
    cleaned = _SLUG.sub("-", value).strip("-.")
    return cleaned or "x"


def link(label: str, target: str) -> str:
    """A markdown link whose label is escaped text and whose target is a path the writers computed."""
    return f"[{text(label)}]({target})"
