"""Markdown (with embedded HTML) to plain-text blocks.

The docs mix CommonMark, GFM pipe tables and raw HTML (`<table>` with
`<dl><dt>` cells, `<b>`, `<a>`, `<br>`). The markdown is rendered to HTML
by cmark-gfm (GitHub's C implementation, raw HTML passed through) and the
HTML is read with selectolax's lexbor parser: both are C, which matters at
tens of thousands of pages (markdown-it-py took 3.7 ms a page, this 0.3 ms).

CommonMark ends an HTML block at the first blank line, and the docs' HTML
tables have blank lines inside cells (an indented line after one would turn
into a code block), so HTML tables are lifted out before rendering and read
on their own. Line breaks inside a table cell (`<br>`, one `<dt>` or `<li>`
per item) are kept, because they separate a code's name from its value.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .gfm import to_html as _html
from .parts import Block
from .text import fold

_HTML_TABLE = re.compile(r"<table\b.*?</table\s*>", re.I | re.S)
_FENCE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.M | re.S)
_PLACEHOLDER = "SPECPROOFTABLE{}X"
_PLACEHOLDER_RE = re.compile(r"^SPECPROOFTABLE(\d+)X$")
_BREAK = "\x1e"  # stands for a line break inside a cell until the cell is folded
_HTML_BREAKS = re.compile(r"<br\s*/?>|</(?:dt|dd|p|li|div)\s*>|<(?:p|li|div|dt)\b[^>]*>", re.I)
# The same tags found by their "<" alone, so the marker goes in from C without a Python call per
# tag; the two differ only where an opening tag holds another "<", which _NESTED_TAG finds first.
_BREAK_TAG_START = re.compile(r"<(?=br\s*/?>|/(?:dt|dd|p|li|div)\s*>|(?:p|li|div|dt)\b[^>]*>)", re.I)
_NESTED_TAG = re.compile(r"<(?:p|li|div|dt)\b[^>]*<", re.I)
_ALERT = re.compile(r"^(?:\[!(?:NOTE|TIP|IMPORTANT|CAUTION|WARNING)\]|(?:Note|Tip|Important|Caution|Warning)\b:?)\s*", re.I)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LISTS = frozenset({"ul", "ol"})


def _parse(html: str) -> LexborNode | None:
    if _NESTED_TAG.search(html):
        marked = _HTML_BREAKS.sub(lambda m: _BREAK + m.group(0), html)
    else:
        marked = _BREAK_TAG_START.sub(_BREAK + "<", html)
    return LexborHTMLParser(marked).body


def _text(node: LexborNode) -> str:
    """Prose text of a node: markup dropped, white space folded."""
    return fold(node.text(deep=True).replace(_BREAK, " "))


def _cell(node: LexborNode) -> str:
    """A table cell's text: white space folded, explicit line breaks kept as "\\n"."""
    parts = (fold(part) for part in node.text(deep=True).split(_BREAK))
    return "\n".join(p for p in parts if p)


def _table(node: LexborNode) -> Block | None:
    rows: list[list[str]] = []
    header = False
    for index, tr in enumerate(node.css("tr")):
        cells = [c for c in tr.iter() if c.tag in ("th", "td")]
        if index == 0:
            header = bool(cells) and (all(c.tag == "th" for c in cells) or tr.parent is not None
                                      and tr.parent.tag == "thead")
        rows.append([_cell(c) for c in cells])
    rows = [row for row in rows if any(row)]
    return Block("table", rows=rows, header=header) if rows else None


def html_table_rows(html: str) -> tuple[list[list[str]], bool]:
    """Rows of an HTML table as lists of cell texts; True when the first row is a header."""
    body = _parse(html)
    table = body.css_first("table") if body is not None else None
    block = _table(table) if table is not None else None
    return (block.rows, block.header) if block else ([], False)


#: How deep blocks are taken apart: real pages nest a few levels; below this a block's text is one
#: paragraph, so a page of a thousand nested quotes or lists is read, not a RecursionError.
MAX_DEPTH = 64


def _list_items(node: LexborNode, blocks: list[Block], depth: int = 0) -> None:
    for li in node.iter():
        if li.tag != "li":
            continue
        nested = [child for child in li.iter() if child.tag in _LISTS] if depth < MAX_DEPTH else []
        own = [child for child in li.iter(include_text=True) if child.tag not in _LISTS or depth >= MAX_DEPTH]
        text = fold(" ".join(fold(c.text(deep=True).replace(_BREAK, " ")) for c in own))
        if text:
            blocks.append(Block("item", text))
        for sub in nested:
            _list_items(sub, blocks, depth + 1)


_BLOCK_TAGS = frozenset({"p", "ul", "ol", "blockquote", "pre", "table", "div", "section", "dl", "dd", "dt",
                         "h1", "h2", "h3", "h4", "h5", "h6", "article", "hr"})
_BLOCK_SELECTOR = ", ".join(sorted(_BLOCK_TAGS - {"dt", "dd", "hr"}))


def _walk(node: LexborNode, blocks: list[Block], tables: list[str], quoted: bool = False, depth: int = 0) -> None:
    """Blocks of a node's children; runs of inline content (text, links, bold) make one paragraph."""
    run: list[str] = []
    deeper = depth + 1

    def flush() -> None:
        if not run:
            return
        text = fold(" ".join(run))
        run.clear()
        placeholder = _PLACEHOLDER_RE.match(text) if text.startswith("SPECPROOFTABLE") else None
        if placeholder:
            rows, header = html_table_rows(tables[int(placeholder.group(1))])
            if rows:
                blocks.append(Block("table", rows=rows, header=header))
        elif text and quoted:
            text = _ALERT.sub("", text)
            if text:  # a lone "Warning" lead-in belongs to the note that follows
                blocks.append(Block("note", text))
        elif text:
            blocks.append(Block("para", text))

    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "pre" and child.css_first("code") is None:
            # raw HTML <pre> in the docs sets a path or a value inside a sentence, not a code sample
            run.append(child.text(deep=True).replace(_BREAK, " "))
            continue
        if tag == "-text":
            text = child.text_content or ""
            if run or not text.isspace():  # white space before a paragraph starts adds nothing to it
                run.append(text.replace(_BREAK, " "))
            continue
        if tag not in _BLOCK_TAGS:
            run.append(child.text(deep=True).replace(_BREAK, " "))
            continue
        flush()
        if depth >= MAX_DEPTH:  # nested past any real page: the rest is one paragraph
            run.append(child.text(deep=True).replace(_BREAK, " "))
            flush()
        elif tag in ("p", "dt", "dd"):
            run.append(child.text(deep=True).replace(_BREAK, " "))
            flush()
        elif tag in _LISTS:
            _list_items(child, blocks, depth)
        elif tag == "blockquote":
            _walk(child, blocks, tables, True, deeper)
        elif tag == "pre":
            blocks.append(Block("code", child.text(deep=True).replace(_BREAK, "")))
        elif tag in _HEADINGS:
            blocks.append(Block("heading", _text(child)))
        elif tag == "table":
            table = _table(child)
            if table is not None:
                blocks.append(table)
        elif child.css_first(_BLOCK_SELECTOR) is not None:
            _walk(child, blocks, tables, quoted or "alert" in (child.attributes.get("class") or ""), deeper)
        elif "alert" in (child.attributes.get("class") or ""):
            _walk(child, blocks, tables, True, deeper)
        else:
            run.append(child.text(deep=True).replace(_BREAK, " "))
            flush()
    flush()


def to_blocks(markdown: str) -> list[Block]:
    """Blocks of a section's markdown in reading order."""
    tables: list[str] = []
    if "<table" in markdown or "<TABLE" in markdown:
        fences = [(m.start(), m.end()) for m in _FENCE_BLOCK.finditer(markdown)]

        def lift(match: re.Match[str]) -> str:
            if any(start <= match.start() < end for start, end in fences):
                return match.group(0)
            tables.append(match.group(0))
            return f"\n\n{_PLACEHOLDER.format(len(tables) - 1)}\n\n"

        markdown = _HTML_TABLE.sub(lift, markdown)
    html = _html(markdown)
    body = _parse(html)
    blocks: list[Block] = []
    if body is not None:
        _walk(body, blocks, tables)
    return blocks


def link_texts(markdown: str) -> list[str]:
    """Texts of a section's links in order; the plain lines when it has no links (a see-also list)."""
    body = _parse(_html(markdown))
    if body is None:
        return []
    links = [_text(a) for a in body.css("a")]
    if links:
        return [link for link in links if link]
    if "<table" in markdown or "<TABLE" in markdown:
        blocks = to_blocks(markdown)  # tables are read apart
    else:
        blocks = []
        _walk(body, blocks, [])
    return [b.text for b in blocks if b.kind in ("para", "item") and b.text]


def blocks_text(blocks: list[Block]) -> str:
    """All prose of some blocks as one string (code and tables left out)."""
    return " ".join(b.text for b in blocks if b.kind in ("para", "item", "note"))
