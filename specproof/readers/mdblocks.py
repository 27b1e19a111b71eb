"""Markdown (with embedded HTML) to plain-text blocks.

The docs mix CommonMark, GFM pipe tables and raw HTML (`<table>` with
`<dl><dt>` cells, `<b>`, `<a>`, `<br>`). CommonMark ends an HTML block at
the first blank line, and the docs' HTML tables have blank lines inside
cells, so a markdown parser alone would cut such a table into pieces. HTML
tables are therefore lifted out first and read with selectolax; the rest is
parsed by markdown-it-py. Line breaks inside a table cell (`<br>`, one `<dt>`
per item) are kept, because they separate a code's name from its value.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from .parts import Block
from .text import fold

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")
_HTML_TABLE = re.compile(r"<table\b.*?</table\s*>", re.I | re.S)
_FENCE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.M | re.S)
_PLACEHOLDER = "SPECPROOFTABLE{}X"
_PLACEHOLDER_RE = re.compile(r"^SPECPROOFTABLE(\d+)X$")
_BREAK = "\x1e"  # stands for a line break inside a cell until the cell is folded
_HTML_BREAKS = re.compile(r"<br\s*/?>|</(?:dt|dd|p|li|div)\s*>|<(?:p|li|div)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_ALERT = re.compile(r"^\[!(NOTE|TIP|IMPORTANT|CAUTION|WARNING)\]\s*", re.I)
_BR_INLINE = re.compile(r"^</?(?:br|li|p|dt|dd|div|ul|ol)\b[^>]*>$", re.I)


def _cell_lines(text: str) -> str:
    """Fold a cell's white space but keep its explicit line breaks."""
    parts = (fold(part) for part in text.split(_BREAK))
    return "\n".join(p for p in parts if p)


def html_table_rows(html: str) -> tuple[list[list[str]], bool]:
    """Rows of an HTML table as lists of cell texts; True when the first row is a header."""
    tree = HTMLParser(_HTML_BREAKS.sub(lambda m: _BREAK + m.group(0), html))
    rows: list[list[str]] = []
    header = False
    for index, tr in enumerate(tree.css("tr")):
        cells = tr.css("th, td")
        if index == 0:
            header = bool(cells) and all(cell.tag == "th" for cell in cells)
        rows.append([_cell_lines(cell.text(deep=True)) for cell in cells])
    return [row for row in rows if any(row)], header


def _html_text(html: str) -> str:
    """Text of an HTML fragment outside tables (a `<dl>`, a `<div>`), tags dropped."""
    tree = HTMLParser(html)
    body = tree.body
    return fold(body.text(deep=True, separator=" ") if body is not None else _TAG.sub(" ", html))


def inline_text(children: list | None, in_cell: bool = False) -> str:
    """Plain text of an inline token's children: markup dropped, `<br>` kept in cells."""
    out: list[str] = []
    for token in children or ():
        kind = token.type
        if kind in ("text", "code_inline"):
            out.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "html_inline":
            if _BR_INLINE.match(token.content.strip()):
                out.append(_BREAK if in_cell else " ")
        elif kind == "image":
            out.append(token.content)
    text = "".join(out)
    if in_cell:
        return _cell_lines(text)
    if "<" in text and ">" in text:
        text = _TAG.sub("", text)
    return fold(text)


def to_blocks(markdown: str) -> list[Block]:
    """Blocks of a section's markdown in reading order."""
    tables: list[str] = []

    def lift(match: re.Match[str]) -> str:
        tables.append(match.group(0))
        return f"\n\n{_PLACEHOLDER.format(len(tables) - 1)}\n\n"

    if "<table" in markdown or "<TABLE" in markdown:
        fences = [(m.start(), m.end()) for m in _FENCE_BLOCK.finditer(markdown)]

        def lift_outside_fences(match: re.Match[str]) -> str:
            if any(start <= match.start() < end for start, end in fences):
                return match.group(0)
            return lift(match)

        markdown = _HTML_TABLE.sub(lift_outside_fences, markdown)

    blocks: list[Block] = []
    tokens = _MD.parse(markdown)
    list_depth = 0
    quote_depth = 0
    row: list[str] | None = None
    rows: list[list[str]] = []
    table_has_head = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
        elif kind == "heading_open":
            blocks.append(Block("heading", inline_text(tokens[i + 1].children)))
            i += 2
        elif kind == "paragraph_open":
            inline = tokens[i + 1]
            placeholder = _PLACEHOLDER_RE.match(inline.content.strip())
            if placeholder:
                table_rows, header = html_table_rows(tables[int(placeholder.group(1))])
                if table_rows:
                    blocks.append(Block("table", rows=table_rows, header=header))
            else:
                text = inline_text(inline.children)
                if text:
                    if quote_depth:
                        alert = _ALERT.match(text)
                        blocks.append(Block("note", _ALERT.sub("", text) if alert else text))
                    else:
                        blocks.append(Block("item" if list_depth else "para", text))
            i += 2
        elif kind in ("fence", "code_block"):
            blocks.append(Block("code", token.content))
        elif kind == "html_block":
            text = _html_text(token.content)
            if text:
                blocks.append(Block("para", text))
        elif kind == "table_open":
            rows, table_has_head = [], False
        elif kind == "thead_open":
            table_has_head = True
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            if row is not None and any(row):
                rows.append(row)
            row = None
        elif kind in ("th_open", "td_open"):
            if row is not None:
                row.append(inline_text(tokens[i + 1].children, in_cell=True))
            i += 2
        elif kind == "table_close":
            blocks.append(Block("table", rows=rows, header=table_has_head))
        i += 1
    return blocks


def blocks_text(blocks: list[Block]) -> str:
    """All prose of some blocks as one string (code and tables left out)."""
    return " ".join(b.text for b in blocks if b.kind in ("para", "item", "note"))
