"""Tables on a learn-text page, which a browser copy flattens to one line per row (or less).

A copied table has lost its cell borders: a row is `NAME Description`, or
`NAME` alone with the value, and maybe the description, on the next line.
Reading it back into cells takes knowing what a code looks like, which is
the return-code grammar of `codes` (`ROW_CODE`, `VALUE`), and a few rules:

- A table starts at a header line (`Return code`, `Return code/value
  Description`, tab-separated cells) followed by a row. A row starts with a
  code (SEC_E_OK, FWP_E_* error code, Other NTSTATUS codes,
  HRESULT_FROM_WIN32(X), TRUE) or a value, but not when a plain lower-case
  word follows ("SEC_E_OK is returned ..." is prose). A value after the
  name goes into the name cell as "NAME\\nVALUE", like the markdown
  readers' `<dt>` cells, except in tables of three or more columns, where
  it is a cell of its own. Consecutive bare name lines are one cell naming
  several codes. Lines that start no row continue the description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..code_grammar import ROW_CODE, VALUE
from ..parts import Block
from ..text import fold
from .lines import HEADINGS, next_text
from .requirements import strong_req_line

__all__ = ["is_row_start", "is_table_header", "read_table"]

_ROW = re.compile(rf"^(?P<name>{ROW_CODE})(?=$|[\t ])[\t ]*(?P<rest>.*)$")
_PROSE_WORD = re.compile(r"^[a-z]+\b")  # "TRUE if ...", "SEC_E_OK is returned ...": a sentence, not a row
_VALUE_LINE = re.compile(rf"^(?P<value>{VALUE})(?=$|[\t ])[\t ]*(?P<rest>.*)$")  # `0x80090301 The ...`
_RETURN_HEADER = re.compile(
    r"^(?P<first>(?:return|error|status|result)\s+(?:code|value|status)s?(?:/value)?|error\s+codes?|codes?)"
    r"(?P<rest>(?:\t+[^\t]+)+|\s+(?:description|meaning))?$",
    re.I,
)
_PLAIN_HEADER = re.compile(
    r"^(?:value|flag|flags|constant|constant/value|name|bit|member|field|term|type)\s+(?:meaning|description)$", re.I
)
_HEADER_SPLIT = re.compile(r"^(?P<first>.*?)\s+(?P<second>description|meaning)$", re.I)
_RETURN_TABLE_HEAD = re.compile(r"^(?:return|error|status|result|codes?\b)", re.I)


def is_table_header(lines: list[str], i: int, s: str) -> bool:
    """Whether line i (stripped: `s`) is a table's header line: a header's words, then a row."""
    if len(s) > 60 and "\t" not in s:  # header cells are short
        return False
    if not (_RETURN_HEADER.match(s) or _PLAIN_HEADER.match(s) or _tab_header(s)):
        return False
    nxt = next_text(lines, i)
    if nxt is None or HEADINGS.get(nxt.casefold()):
        return False
    return is_row_start(nxt) or ("\t" in s and "\t" in nxt and _tab_header(s))


def read_table(lines: list[str], i: int, header_line: str) -> tuple[Block, str, int]:
    """The table whose header is line i: its block, its kind ("return" for a return-code table, else "")
    and the index after it. Rows run until a blank line not followed by another row."""
    header = _header_cells(header_line)
    width = max(2, len(header))
    tabbed = "\t" in header_line  # a copied table: any tabbed line is a row
    rows: list[list[str]] = [header]
    row: _Row | None = None
    j, n = i + 1, len(lines)
    while j < n:
        s = lines[j].strip()
        if not s:
            k = j
            while k < n and not lines[k].strip():
                k += 1
            following = lines[k].strip() if k < n else ""
            if not following or HEADINGS.get(following.casefold()) or not (
                is_row_start(following) or tabbed and "\t" in following
            ):
                break
            j = k
            continue
        if HEADINGS.get(s.casefold()) or strong_req_line(s):
            break
        j += 1
        if row is not None and row.bare():
            value = _VALUE_LINE.match(s)
            if value:  # `NAME` then `0x80090301 Description`
                row.value = value.group("value")
                row.add(value.group("rest"), width)
                continue
        start = _row_match(s, width)
        if start is None and tabbed and "\t" in s:
            start = (s.split("\t", 1)[0].strip(), "", s.split("\t", 1)[1], True)
        if start is None:
            if row is None:
                j -= 1
                break
            row.add(s, width)  # a description's next line
            continue
        name, value_text, rest, value_led = start
        if row is not None and row.bare() and not value_led:
            row.names.append(name)  # several codes in one cell, one per line
        else:
            if row is not None:
                rows.append(row.cells(width))
            row = _Row([name])
        row.value = value_text
        row.add(rest, width)
    if row is not None:
        rows.append(row.cells(width))
    kind = "return" if _RETURN_TABLE_HEAD.match(header[0]) else ""
    return Block("table", rows=rows, header=True), kind, j


def is_row_start(s: str) -> bool:
    """Whether the line starts a table row (see `_row_match`)."""
    return _row_match(s) is not None


def _tab_header(s: str) -> bool:
    """A header row copied with tabs: two to four short cells that are not sentences."""
    if "\t" not in s:
        return False
    cells = [c.strip() for c in s.split("\t") if c.strip()]
    return 2 <= len(cells) <= 4 and all(len(c) <= 40 and not c.endswith(".") for c in cells)


def _header_cells(line: str) -> list[str]:
    """The header's cells: the tabbed ones, or `first` and Description/Meaning, or the line and Description."""
    if "\t" in line:
        return [fold(c) for c in line.split("\t") if c.strip()]
    split = _HEADER_SPLIT.match(line)
    if split:
        return [split.group("first"), split.group("second")]
    return [fold(line), "Description"]


def _row_match(s: str, width: int = 2) -> tuple[str, str, str, bool] | None:
    """(name, value, rest, led by a value) when the line starts a table row, else None.

    A value right after the name (`SEC_E_OK 0x00000000 The ...`) is the
    name's; a line that reads as a sentence ("TRUE if ...", "SEC_E_OK is
    returned ...") is not a row.
    """
    match = _ROW.match(s)
    if match:
        name, rest = fold(match.group("name")), match.group("rest")
        if _PROSE_WORD.match(rest):
            return None
        if rest and not (width > 2 and "\t" in rest):
            value = _VALUE_LINE.match(rest)
            if value:
                return name, value.group("value"), value.group("rest"), False
        return name, "", rest, False
    match = _VALUE_LINE.match(s)
    if match and not _PROSE_WORD.match(match.group("rest")):
        return match.group("value"), "", match.group("rest"), True
    return None


@dataclass(slots=True)
class _Row:
    """One table row being read: its name lines, value, description lines and any further cells."""

    names: list[str]
    value: str = ""
    text: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)

    def bare(self) -> bool:
        """Only a name so far: a value, a description or another name may follow on the next line."""
        return not (self.value or self.text or self.more)

    def add(self, text: str, width: int) -> None:
        """Tab-separated text fills a wide table's columns; otherwise the description grows."""
        text = text.strip()
        if not text:
            return
        if width > 2 and "\t" in text and not self.text and not self.more:
            cells = [c.strip() for c in text.split("\t")]
            self.text.append(cells[0])
            self.more.extend(cells[1:])
            return
        self.text.append(fold(text))

    def cells(self, width: int) -> list[str]:
        """The row as `width` cells: the value joins the name's cell unless a wide table gives it a column."""
        name = "\n".join(self.names)
        description = "\n".join(self.text)
        if self.value and width > 2 and not self.more:
            cells = [name, self.value, description]  # a wide table gives the value its own column
        else:
            cells = [name + ("\n" + self.value if self.value else ""), description] + self.more
        if len(cells) > width:
            cells = cells[:width - 1] + [" ".join(cells[width - 1:])]
        return cells + [""] * (width - len(cells))
