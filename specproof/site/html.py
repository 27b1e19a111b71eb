"""The HTML pieces generated pages are made of: tables, links, outcome badges.

Tables are written as HTML rather than as markdown pipe tables: on a
function page Python-Markdown's table extension took about 11 of the 15 ms
the page cost to convert, and mkdocs builds ten thousand of them. Each
table is one block between the `mdext` markers, so Python-Markdown passes
it through as written. Everything put into a cell is escaped here
(`h`), so text from docs and runs stays text; the writers pass only
strings made by these functions as cells.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
from typing import Iterable

from .escape import slug
from .mdext import END, START
from .nav import split_anchor


_SPECIAL = re.compile(r"[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# C0 controls but tab, newline and carriage return, and DEL, as the Unicode symbols for them (U+2400...):
# invalid in HTML, and STX and ETX are how Python-Markdown marks its placeholders.
_CONTROLS = {c: 0x2400 + c for c in (*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20))} | {0x7f: 0x2421}


def h(value: object) -> str:
    """Text as HTML: `&`, `<`, `>` and quotes escaped, control characters shown as their symbols."""
    text = value if type(value) is str else str(value)
    return html.escape(text.translate(_CONTROLS), quote=True) if _SPECIAL.search(text) else text


def href(source: str, target: str) -> str:
    """The built URL of `target` (a docs path, .md, with an optional #anchor) as seen from page `source`.

    Links in HTML blocks are not rewritten by mkdocs, so they name the built file: with
    `use_directory_urls: false` (mkdocs.yml) page X.md becomes X.html.
    """
    if target and "#" not in target:  # most links: no anchor to split off
        return _relative(target, posixpath.dirname(source))
    target, anchor = split_anchor(target)
    return _relative(target, posixpath.dirname(source)) + anchor if target else anchor


@functools.lru_cache(maxsize=65536)
def _relative(target: str, folder: str) -> str:
    if target.endswith(".md"):
        target = target[:-3] + ".html"
    return posixpath.relpath(target, folder or ".")


def a(source: str, target: str, label: str) -> str:
    """A link whose label is text (escaped here)."""
    return f'<a href="{h(href(source, target))}">{h(label)}</a>'


@functools.lru_cache(maxsize=64)
def badge(outcome: str) -> str:
    return f'<span class="sp-o sp-o-{h(slug(outcome))}">{h(outcome)}</span>'


def table(head: Iterable[str], rows: Iterable[Iterable[str]], ids: Iterable[str | None] | None = None,
          name: str = "", bare: bool = False, head_markup: bool = False) -> str:
    """A table block; `head` is text (escaped here), each row's cells are HTML made with these helpers.

    `name` becomes the table's id (not a class: mkdocs-material styles only tables without one);
    `bare`: the table alone, to go inside a larger block; `head_markup`: the head cells are HTML made
    with these helpers too (a link), not text.
    """
    head = list(head)
    out = ["<table>" if not name else f'<table id="{h(name)}">']
    if any(head):  # a table of facts (name, value) has no header row
        out.append("<thead><tr>" + "".join(f"<th>{c if head_markup else h(c)}</th>" for c in head) + "</tr></thead>")
    out.append("<tbody>")
    id_list = list(ids) if ids is not None else None
    for index, row in enumerate(rows):
        row_id = id_list[index] if id_list is not None else None
        opening = f'<tr id="{h(row_id)}">' if row_id else "<tr>"
        out.append(opening + "".join(f"<td>{c}</td>" for c in row).replace("\n", " ") + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out) if bare else block("\n".join(out))


def block(markup: str) -> str:
    """Any HTML the writers made, as one pass-through block (blank lines dropped: they would end it
    for a Python-Markdown without the extension)."""
    body = "\n".join(line for line in markup.split("\n") if line.strip())
    return f"{START}\n{body}\n{END}\n"


def para(markup: str, cls: str = "") -> str:
    """A paragraph of HTML the writers made, as its own block."""
    opening = f'<p class="{h(cls)}">' if cls else "<p>"
    return block(f"{opening}{markup}</p>")


def crumbs(source: str, home: str, *trail: tuple[str, str | None], bare: bool = False) -> str:
    """A breadcrumb line: Home > ... > this page; each step a (label, page or None for the current page)."""
    steps = [a(source, home, "Home")]
    steps += [a(source, target, label) if target else h(label) for label, target in trail]
    line = '<p class="sp-crumbs">' + " › ".join(steps) + "</p>"
    return line if bare else block(line)


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def lines(value: str, limit: int | None = None) -> str:
    """Multi-line text in a cell: escaped, paragraphs as line breaks."""
    text = cut(value, limit) if limit else value
    parts = [" ".join(p.split()) for p in text.replace("\r", "").split("\n\n")]
    return "<br>".join(h(p) for p in parts if p)
