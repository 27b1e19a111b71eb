"""Cutting the body of a learn-text copy into units, in one pass over its lines.

A copy's headings may be gone, so the scanner does not decide sections: it
says what each piece is (a heading, the prototype, a parameter line, a
table, requirement rows, a `Type:` line, a paragraph, an item, a note, a
code block, a see-also entry) and leaves placing them to `learn_place`.
The rules it reads lines by:

- Each line is one block: a browser copy does not wrap paragraphs. A lone
  "Note" line makes the next line a note; a code block follows a `Copy`
  line and runs across blank lines while the text still reads as code.
- Parameter lines are `[in] name`, `name [in]` or a bare `name`. When the
  prototype names parameters, only those names count, so a one-word
  paragraph ("Reserved") or an old page's sub-entry is never taken for a
  parameter. (With the lines lost, `learn_place` uses the prototype's
  names in order.)
- Past the returns, remarks, examples, requirements or see-also heading,
  or past the requirements table, no line is a prototype or a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...sdk.declarations import page_parameters
from ..parts import Block
from ..text import fold
from .chrome import FOOTER
from .lines import (
    BARE_NAME, CLOSING, CODE_LINE, HEADINGS, LANG_LABELS, NOTE_WORDS, PNAME_POST, PNAME_PRE, TYPE_LINE, next_text,
)
from .prototype import is_proto_line, take_prototype
from .requirements import req_row, requirement_block
from .tables import is_row_start, is_table_header, read_table

__all__ = ["Scanner", "Unit"]

_ITEM = re.compile(r"^(?:[-*\u2022\u00b7\u25e6\u25aa]\s+|\d{1,2}[.)]\s+)")
_NOTE = re.compile(r"^(?:Note|Important|Warning|Caution|Tip)\b\s*:?\s+\S")


@dataclass(slots=True)
class Unit:
    """One piece of the page in reading order, before sections are placed."""

    kind: str  # heading proto pname table req type para item note code see
    text: str = ""
    name: str = ""  # heading: section id; pname: parameter; req: key; table: "return" for a return-code table
    annotation: str | None = None
    block: Block | None = None


class Scanner:
    """Cuts the body into units in one pass; knows just enough context to read each line."""

    def __init__(self, lines: list[str], name: str) -> None:
        self.lines = lines
        self.name = name
        self.units: list[Unit] = []
        self.prototype: str | None = None
        self.proto_params: list[tuple[str, str | None]] = []
        self.state: str | None = None
        self.closed = False  # past the syntax and parameters: no prototype or parameter lines any more
        self.code_next = False

    def run(self) -> list[Unit]:
        """The units of the whole body; `prototype` and `proto_params` are set on the way."""
        i, n = 0, len(self.lines)
        while i < n:
            stripped = self.lines[i].strip()
            i = self._step(i, stripped) if stripped else i + 1
        return self.units

    # each _step returns the index of the next line to read
    def _step(self, i: int, s: str) -> int:
        heading = self._heading(i, s)
        if heading:
            self.units.append(Unit("heading", s, name=heading))
            self.state = heading
            self.closed = self.closed or heading in CLOSING
            return i + 1
        if self.state == "see":
            if s.casefold() in FOOTER:
                return len(self.lines)
            self.units.append(Unit("see", s))
            return i + 1
        if self.state == "req":
            return self._lenient_req(i, s)
        if s == "Copy":
            self.code_next = True
            return i + 1
        if s.casefold() in LANG_LABELS and next_text(self.lines, i) == "Copy":
            return i + 1
        if self.prototype is None and not self.closed and (
            self.name in s and is_proto_line(s, self.name) or self._after("syntax")
        ):
            self.code_next = False
            return self._prototype(i)
        if self.code_next:
            self.code_next = False
            return self._code(i)
        if self._block_start(i):
            found = requirement_block(self.lines, i)
            if found is not None:
                rows, end = found
                for key, value in rows:
                    self.units.append(Unit("req", value, name=key))
                self.state = "req"  # the requirements table: what follows is requirements, then see also
                self.closed = True
                return end
        if is_table_header(self.lines, i, s):
            block, kind, end = read_table(self.lines, i, s)
            self.units.append(Unit("table", s, name=kind, block=block))
            return end
        typed = TYPE_LINE.match(s)
        if typed:
            self.units.append(Unit("type", s, name=typed.group("type").strip("*` ")))
            return i + 1
        if not self.closed and self._param_line(s):
            return i + 1
        return self._prose(i, s)

    def _after(self, heading: str) -> bool:
        """True right after the given heading, before any other unit."""
        return bool(self.units) and self.units[-1].kind == "heading" and self.units[-1].name == heading

    def _block_start(self, i: int) -> bool:
        """Whether line i starts a block: the first line, or one after a blank line."""
        return i == 0 or not self.lines[i - 1].strip()

    def _heading(self, i: int, s: str) -> str | None:
        """The section a heading line opens, or None."""
        section = HEADINGS.get(s.casefold().rstrip(":"))
        if section == "returns" and i + 1 < len(self.lines) and is_row_start(self.lines[i + 1].strip()):
            return None  # "Return value" over a table's rows is the table's header
        return section

    def _prototype(self, i: int) -> int:
        """The declaration from the line naming the function to the one closing it, or to a blank line."""
        self.prototype, j = take_prototype(self.lines, i, self.name)
        self.proto_params = page_parameters(self.prototype, self.name)
        self.units.append(Unit("proto", self.prototype))
        return j

    def _code(self, i: int) -> int:
        """A code block after a `Copy` button line: it runs across blank lines while the text still reads as code."""
        j, end, n = i, i, len(self.lines)
        while j < n:
            if self.lines[j].strip():
                end = j + 1
                j += 1
                continue
            k = j
            while k < n and not self.lines[k].strip():
                k += 1
            following = self.lines[k].strip() if k < n else ""
            if not following or not CODE_LINE.search(self.lines[k]) or HEADINGS.get(following.casefold()) or (
                self.prototype is None and self.name in following and is_proto_line(following, self.name)
            ):
                break
            j = k
        self.units.append(Unit("code", block=Block("code", "\n".join(self.lines[i:end]) + "\n")))
        return end

    def _param_line(self, s: str) -> bool:
        """Take the line as a parameter line if it is one (see the module docstring)."""
        if len(s) > 80:  # a parameter line is a name and at most an annotation
            return False
        match = PNAME_PRE.match(s) or PNAME_POST.match(s)
        names = {name for name, _ in self.proto_params}
        if match and (not names or match.group("name") in names):
            self.units.append(Unit("pname", s, name=match.group("name"), annotation=match.group("ann")))
            return True
        if BARE_NAME.match(s) and s in names:
            self.units.append(Unit("pname", s, name=s))
            return True
        return False

    def _prose(self, i: int, s: str) -> int:
        """A paragraph, list item or note: one line each, as a browser copies them (it does not wrap lines)."""
        j = i + 1
        if s.casefold() in NOTE_WORDS and j < len(self.lines) and self.lines[j].strip():
            # a rendered alert: its title on one line, the text on the next
            s = self.lines[j].strip()
            kind = "note"
            j += 1
        elif _NOTE.match(s):
            kind = "note"
        elif _ITEM.match(s):
            kind, s = "item", _ITEM.sub("", s, count=1)
        else:
            kind = "para"
        text = fold(s) if "  " in s or "\t" in s else s
        self.units.append(Unit(kind, text, block=Block(kind, text)))  # type: ignore[arg-type]
        return j

    def _lenient_req(self, i: int, s: str) -> int:
        """Under a Requirements heading every tabbed or keyed line is a row; other lines are see-also entries."""
        parsed = req_row(self.lines, i, strict=False)
        if parsed is not None:
            key, value, j = parsed
            self.units.append(Unit("req", value, name=key))
            return j
        if "\t" in s:
            return i + 1  # a row with a key this reader does not keep
        if s.casefold() in FOOTER:
            return len(self.lines)
        self.units.append(Unit("see", s))
        return i + 1
