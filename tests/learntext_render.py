"""Render PageParts as learn-text, the way a browser copy of a learn.microsoft.com page reads.

Tests use this to make learn-text pages from the markdown corpus, so the
same function can be read from both formats and compared. Each option
reproduces one way a real copy loses structure: section headings dropped,
parameter lines dropped, the prototype's `);` dropped, tables flattened to
one line per row, the requirements table as `Key Value` lines, CRLF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from specproof.readers.parts import Block, PageParts

SECTION_HEADINGS = ("Syntax", "Parameters", "Return value", "Remarks", "Requirements", "See also")

REQ_LABELS = {
    "target-min-winverclnt": "Minimum supported client",
    "target-min-winversvr": "Minimum supported server",
    "target-platform": "Target Platform",
    "target-type": "Target Platform",
    "header": "Header",
    "lib": "Library",
    "dll": "DLL",
    "irql": "IRQL",
    "ddi-compliance": "DDI compliance rules",
    "kmdf-ver": "Minimum KMDF version",
    "umdf-ver": "Minimum UMDF version",
}
DEFAULT_REQ_ORDER = (
    "target-min-winverclnt", "target-min-winversvr", "target-platform", "target-type", "header", "lib", "dll",
    "irql", "ddi-compliance", "kmdf-ver", "umdf-ver",
)
_NOTE_WORDS = ("Note", "Important", "Warning", "Caution", "Tip")
_VALUE = re.compile(r"^(?:0[xX][0-9A-Fa-f]+|-?\d+)[uUlL]*(?:\s*[-\u2010-\u2015]\s*(?:0[xX][0-9A-Fa-f]+|\d+)[uUlL]*)?$")
_OVERLOAD = re.compile(r"\(.*$")


def synthesize_prototype(parts: PageParts, param_type: str = "PVOID", annotate: bool = False) -> str:
    """A declaration for pages that show none (sdk-api sources have no syntax block).

    The types are placeholders; only the names and their order matter to the
    reader, which takes parameter names from the prototype when a copy has
    lost the parameter lines.
    """
    returns = parts.return_type or "HRESULT"
    name = _OVERLOAD.sub("", parts.api).rsplit(".", 1)[-1]
    if not parts.params:
        return f"{returns} {name}(void);"
    pieces = []
    for param in parts.params:
        if param.name == "...":
            pieces.append("  ...")
            continue
        prefix = f"{param.annotation} " if annotate and param.annotation else ""
        pieces.append(f"  {prefix}{param_type} {param.name}")
    return f"{returns} {name}(\n" + ",\n".join(pieces) + "\n);"


def render_learn_text(
    parts: PageParts,
    prototype: str | None = None,
    *,
    headings: bool | Iterable[str] = True,
    param_names: bool = True,
    param_style: str = "pre",
    close_prototype: bool = True,
    value_on_next_line: bool = True,
    cell_sep: str = " ",
    table_header: str = "tab",
    req_order: Iterable[str] | None = None,
    req_sep: str = " ",
    kind: str = "function",
    date: str | None = None,
    crlf: bool = False,
) -> str:
    """The learn-text copy of `parts`.

    - `prototype`: the syntax block; defaults to `parts.prototype`, then to
      `synthesize_prototype(parts)` when the page has parameters.
    - `headings`: True keeps all section headings, False drops them all, a
      collection keeps only those named (e.g. {"Return value", "See also"}).
    - `param_names`: keep the `[in] name` lines; `param_style` "pre" writes
      `[in] name`, "post" `name [in]`, "bare" just `name`.
    - `close_prototype`: keep the closing `);`.
    - tables are always flattened: `NAME<cell_sep>Description`; a name cell
      "NAME\\nVALUE" becomes a `NAME` line and a `VALUE<cell_sep>Description`
      line (`value_on_next_line`), or `NAME VALUE<cell_sep>Description`.
      `table_header`: "tab" (cells tab-separated), "space", or "first" (the
      first cell only, as in the seed's lone `Return code` line).
    - requirements as `Key<req_sep>Value` lines in `req_order`.
    """
    keep = _heading_filter(headings)
    out: list[str] = [f"{parts.api.replace('.', '::')} {kind} ({parts.header or 'unknown.h'})", ""]
    if date:
        out += [f"Last updated {date}", ""]
    description = list(parts.description)
    if parts.summary and not any(b.kind == "para" and b.text == parts.summary for b in description):
        description.insert(0, Block("para", parts.summary))
    _blocks(out, description, value_on_next_line, cell_sep, table_header)

    if prototype is None:
        prototype = parts.prototype or (synthesize_prototype(parts) if parts.params else None)
    if prototype:
        _heading(out, "Syntax", keep)
        text = prototype.rstrip()
        if not close_prototype:
            text = _drop_close(text)
        out += text.split("\n") + ["", ""]

    if parts.params:
        _heading(out, "Parameters", keep)
        for param in parts.params:
            if param_names:
                out += [_param_line(param.name, param.annotation, param_style), ""]
            _blocks(out, param.blocks, value_on_next_line, cell_sep, table_header)
            out.append("")

    if parts.returns or parts.return_type:
        _heading(out, "Return value", keep)
        if parts.return_type:
            out += [f"Type: {parts.return_type}", ""]
        _blocks(out, parts.returns, value_on_next_line, cell_sep, table_header)

    if parts.remarks:
        _heading(out, "Remarks", keep)
        _blocks(out, parts.remarks, value_on_next_line, cell_sep, table_header)

    req_lines = _requirements(parts.req, req_order, req_sep)
    if req_lines:
        _heading(out, "Requirements", keep)
        out += req_lines + [""]

    if parts.see_also:
        _heading(out, "See also", keep)
        out += list(parts.see_also)
    text = "\n".join(out).rstrip("\n") + "\n"
    return text.replace("\n", "\r\n") if crlf else text


def _heading_filter(headings: bool | Iterable[str]) -> frozenset[str]:
    if headings is True:
        return frozenset(SECTION_HEADINGS)
    if headings is False:
        return frozenset()
    return frozenset(headings)


def _heading(out: list[str], name: str, keep: frozenset[str]) -> None:
    if name in keep:
        out += [name, ""]


def _drop_close(prototype: str) -> str:
    """The declaration without its final `);` (a lone `);` line goes entirely)."""
    lines = prototype.split("\n")
    last = lines[-1].rstrip()
    if last.strip() in (");", ")"):
        return "\n".join(lines[:-1])
    for closer in (");", ")"):
        if last.endswith(closer):
            lines[-1] = last[: -len(closer)]
            break
    return "\n".join(lines)


def _param_line(name: str, annotation: str | None, style: str) -> str:
    if style == "bare" or not annotation:
        return name
    return f"{annotation} {name}" if style == "pre" else f"{name} {annotation}"


def _blocks(out: list[str], blocks: list[Block], next_line: bool, sep: str, header_style: str) -> None:
    for block in blocks:
        if block.kind == "table":
            out += _table(block, next_line, sep, header_style)
        elif block.kind == "code":
            out += ["C++", "Copy"] + block.text.rstrip("\n").split("\n")
        elif block.kind == "item":
            out.append(f"- {block.text}")
        elif block.kind == "note":
            text = block.text
            out += [text] if text.split(" ", 1)[0].rstrip(":") in _NOTE_WORDS else ["Note", text]
        else:
            out.append(block.text)
        out.append("")


def _table(block: Block, next_line: bool, sep: str, header_style: str) -> list[str]:
    rows = block.rows
    lines: list[str] = []
    if block.header and rows:
        header, rows = rows[0], rows[1:]
        if header_style == "tab":
            lines.append("\t".join(header))
        elif header_style == "space":
            lines.append(" ".join(header))
        else:
            lines.append(header[0])
    for row in rows:
        if not row:
            continue
        name, *rest = row[0].split("\n")
        tail = sep.join(cell.split("\n")[0] for cell in row[1:] if cell)
        extra = [line for cell in row[1:] for line in cell.split("\n")[1:]]
        values = bool(rest) and all(_VALUE.match(line) for line in rest)
        if rest and (next_line or not values):
            # a browser puts each line of a cell on its own line; the description follows the last
            lines.append(name)
            lines += rest[:-1]
            lines.append(rest[-1] + (sep + tail if tail else ""))
        else:
            lead = " ".join([name] + rest)
            lines.append(lead + (sep + tail if tail else ""))
        lines += extra
    return lines


def _requirements(req: dict[str, str], order: Iterable[str] | None, sep: str) -> list[str]:
    lines = []
    seen_labels: set[str] = set()
    for key in order or DEFAULT_REQ_ORDER:
        value = req.get(key)
        label = REQ_LABELS.get(key)
        if not value or not label or label in seen_labels:
            continue
        seen_labels.add(label)
        if key == "header" and req.get("include-header"):
            value = f"{value} (include {req['include-header']})"
        lines.append(f"{label}{sep}{value}")
    return lines
