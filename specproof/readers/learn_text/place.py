"""Placing the units of a learn-text copy into sections: which are description, parameters,
returns, remarks, requirements and see also.

A section starts at its heading where one survived the copy; otherwise the
text says where it starts (a returns statement, a return-code table, the
requirement keys). The rules chosen where a copy is ambiguous:

- Without a "Return value" heading the returns part starts at the first
  returns statement ("Returns ...", "If the function ...", "<Api> returns
  ...", "TRUE if ...", "None") or return-code table, but never inside a
  parameter's first unit: each parameter is assumed to own at least one,
  because out-parameter docs often begin "If the function succeeds".
- A page that kept "Syntax" or "Parameters" kept its headings: its returns
  end at the next heading. Otherwise (the seed kept only "Return value"
  and "See also") the returns end after the last return-code table (one
  headed Return code, Return value, Error code ...) plus trailing "For
  extended error information ..." sentences; with no table, at the first
  paragraph that no longer speaks of the result ("If ... returns",
  "Otherwise", "<Other> returns"); a void statement ends them at once.
- A `Type: DWORD` line in the returns part sets the return type and is not
  kept as a block (as the markdown reader does); in a parameter's docs it
  is kept as a paragraph.
- With the parameter lines lost, the prototype's names are used in order
  and the docs are shared out as `_share_docs` says, or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ...sdk.declarations import declared_name
from ..code_grammar import CODE_LIKE_NAME, CODE_NAME
from ..parts import Block, PageParts, ParamPart
from .requirements import add_requirements
from .scanner import Unit

__all__ = ["place"]

_RETURNS_START = re.compile(
    r"^(?:Returns?\b"
    r"|If (?:the|this) (?:function|method|macro|routine|call|operation)\b"
    r"|If\b[^,.]*\b(?:succe\w*|complet\w*|fail\w*)\b[^,.]*,\s*(?:this|the) (?:function|method|routine|call)"
    r" (?:returns|fails|succeeds)\b"
    r"|If successful\b|(?:On|Upon) (?:success|failure)\b"
    r"|(?:When|Once|After|On) [^,.]{1,40}, (?:it |this function |the function )?(?:returns|will return)\b"
    r"|(?:The|This) (?:function|method|macro|routine) (?:returns|always returns|does not return|doesn't return"
    r"|has no return|(?:can|may|might|will) return)"
    r"|The return value\b|None\.?$|No return value|Nothing\.?$"
    rf"|(?:TRUE|FALSE|NULL|Nonzero|Zero|S_OK|{CODE_LIKE_NAME}) (?:if|when|on success|on failure)\b)"
)
_OTHER_REPORTS = re.compile(
    r"^(?:[A-Z]\w+ (?:returns|may return|can return|will return)"
    rf"|{CODE_LIKE_NAME} (?:is|may be|can be|will be) returned)\b"
)
_VOID = re.compile(
    r"^(?:None\.?|Nothing\.?|No return value\.?)$|\b(?:does not|doesn't) return a value\b|has no return value"
)
_REMARK_OPENERS = re.compile(r"^(?:The caller|Callers?|You|For (?:more|all)|To |This function (?:is|can be))\b")
_RETURNISH = re.compile(r"\b(?:returns?|returned|return value|GetLastError|error codes?)\b", re.I)
_RETURNS_TAIL = re.compile(
    r"^(?:For (?:extended|more) (?:error )?information|To (?:get|retrieve) extended error information"
    r"|(?:Call|Use) GetLastError|If the (?:function|method|call) (?:fails|succeeds)|Otherwise,"
    r"|(?:The|This) (?:function|method) (?:can|may) also return|Other (?:error )?codes)"
)


def place(parts: PageParts, units: list[Unit], proto: list[tuple[str, str | None]]) -> None:
    """Decide which units are description, parameters, returns, remarks, requirements and see also."""
    n = len(units)
    heading_at = _first_headings(units)
    req_at = _first(units, lambda u: u.kind == "req")
    see_at = _first(units, lambda u: u.kind == "see")
    closing = [heading_at.get(name) for name in ("returns", "remarks", "examples", "req", "see")]
    boundary = min([i for i in closing + [req_at, see_at] if i is not None] + [n])
    first_table = _first(units[:boundary], lambda u: u.kind == "table" and u.name == "return")
    params_hard = boundary if first_table is None else first_table
    marks = (heading_at.get("syntax"), heading_at.get("params"), _first(units, lambda u: u.kind == "proto"),
             _first(units, lambda u: u.kind == "pname"))
    opening = [i for i in marks if i is not None and i < params_hard]
    if opening:
        pre_end = min(opening)
        pnames = [i for i in range(pre_end, params_hard) if units[i].kind == "pname"]
        search_from = _search_from(units, pre_end, params_hard, pnames, len(proto))
    else:  # no syntax and no parameters: the description runs up to the returns part
        pnames = []
        summary_at = _first(units[:params_hard], lambda u: u.kind == "para")
        search_from = 0 if summary_at is None else summary_at + 1
        pre_end = params_hard

    returns_at: int | None
    if heading_at.get("returns") is not None and heading_at["returns"] == boundary:
        returns_at = boundary
    else:
        returns_at = _soft_returns(units, search_from, params_hard, parts.api)
        if returns_at is None:
            returns_at = first_table
        returns_at = _with_type_line(units, returns_at, pre_end if opening else search_from, pnames)
    if not opening and returns_at is not None:
        pre_end = min(pre_end, returns_at)
    params_end = returns_at if returns_at is not None else params_hard

    _description(parts, units[:pre_end])
    region = units[pre_end:params_end]
    parts.params = _params(region, [i - pre_end for i in pnames], proto)
    if pnames:
        parts.description.extend(_blocks_of(region[:pnames[0] - pre_end]))

    after = params_end
    if returns_at is not None:
        trust = "syntax" in heading_at or "params" in heading_at
        after = _returns_end(units, returns_at, trust)
        _returns(parts, units[returns_at:after])
    ends = [i for i in (req_at, heading_at.get("req"), heading_at.get("see"), see_at) if i is not None and i >= after]
    remarks_end = min(ends + [n])
    parts.remarks = _blocks_of(units[after:remarks_end])
    add_requirements(parts.req, ((u.name, u.text) for u in units if u.kind == "req"))
    parts.see_also = _see_also(units)


def _first(units: list[Unit], test: Callable[[Unit], bool]) -> int | None:
    """Index of the first unit that passes `test`, or None."""
    return next((i for i, unit in enumerate(units) if test(unit)), None)


def _first_headings(units: list[Unit]) -> dict[str, int]:
    """Each section's first heading: section id to its unit's index."""
    found: dict[str, int] = {}
    for index, unit in enumerate(units):
        if unit.kind == "heading":
            found.setdefault(unit.name, index)
    return found


def _search_from(units: list[Unit], pre_end: int, end: int, pnames: list[int], count: int) -> int:
    """Where a returns statement may start: past each parameter's first unit (see the module docstring)."""
    if pnames:
        start = pnames[-1] + 1
        while start < end and units[start].kind == "heading":
            start += 1
        return min(start + 1, end)
    index = pre_end
    proto_at = _first(units[pre_end:end], lambda u: u.kind == "proto")
    if proto_at is not None:
        index = pre_end + proto_at + 1
    skipped = 0
    while index < end and skipped < count:
        if units[index].kind not in ("heading", "proto"):
            skipped += 1
        index += 1
    return index


def _soft_returns(units: list[Unit], start: int, end: int, api: str) -> int | None:
    """The first unit in [start, end) that opens the returns part."""
    short = declared_name(api)
    own = (f"{short} returns", f"{short} does not return", f"The {short} function returns")
    for index in range(start, end):
        unit = units[index]
        if unit.kind == "table" and unit.name == "return":
            return index
        if unit.kind == "para" and (_RETURNS_START.match(unit.text) or unit.text.startswith(own)):
            return index
    return None


def _with_type_line(units: list[Unit], returns_at: int | None, floor: int, pnames: list[int]) -> int | None:
    """A `Type:` line right before the returns statement belongs to it, unless it opens a parameter's docs."""
    if returns_at is None or returns_at - 1 < max(floor, 1) or units[returns_at - 1].kind != "type":
        return returns_at
    if (returns_at - 2) in pnames or units[returns_at - 2].kind in ("proto", "heading"):
        return returns_at
    return returns_at - 1


def _returns_end(units: list[Unit], start: int, trust_headings: bool) -> int:
    """End of the returns part: the next heading when the page kept its headings, else by content.

    A page that kept "Syntax" or "Parameters" kept its headings, so whatever
    follows the returns up to the next heading is returns. A page that kept
    only some (the seed kept "Return value" and "See also") is read by
    content, unless the next heading is Remarks.
    """
    n = len(units)
    hard = n
    for index in range(start + 1, n):
        unit = units[index]
        if unit.kind in ("req", "see") or unit.kind == "heading" and unit.name != "returns":
            hard = index
            break
    if hard < n and units[hard].kind == "heading" and (trust_headings or units[hard].name == "remarks"):
        return hard
    last_table = None
    for index in range(start, hard):
        if units[index].kind == "table" and units[index].name == "return":
            last_table = index
    if last_table is not None:
        end = last_table + 1
        while end < hard and units[end].kind == "para" and _RETURNS_TAIL.match(units[end].text):
            end += 1
        return end
    end = start + 1
    while end < hard and units[end - 1].kind in ("heading", "type"):
        end += 1  # the first statement after the heading (or the Type line) is returns whatever it says
    if _VOID.search(units[end - 1].text):
        return end  # "This function does not return a value": nothing more to say
    while end < hard and (units[end].kind == "type" or units[end].kind in ("para", "item", "note") and _still_returns(
            units[end].text)):
        end += 1
    return end


def _still_returns(text: str) -> bool:
    """Whether a paragraph after a returns statement (and no table) still speaks of the result."""
    if _RETURNS_START.match(text) or _RETURNS_TAIL.match(text):
        return True
    if _OTHER_REPORTS.match(text):
        return True  # "SspiGetAsyncCallStatus returns SEC_E_OK ...", "SEC_E_OK is returned ..."
    if text.startswith(("If ", "Otherwise")) and bool(_RETURNISH.search(text)):
        return True
    # "Until the call is completed, status is SEC_I_ASYNC_CALL_PENDING.": a short line naming a code
    return len(text) < 160 and bool(CODE_NAME.search(text)) and not _REMARK_OPENERS.match(text)


def _blocks_of(units: list[Unit]) -> list[Block]:
    """Content blocks of some units; an Examples heading is kept, as the markdown sources keep it."""
    blocks = []
    for unit in units:
        if unit.kind == "heading":
            if unit.name == "examples":
                blocks.append(Block("heading", unit.text))
        elif unit.kind == "type":
            blocks.append(Block("para", unit.text))
        elif unit.block is not None:
            blocks.append(unit.block)
    return blocks


def _description(parts: PageParts, units: list[Unit]) -> None:
    """The description's blocks, and its first paragraph as the summary."""
    parts.description = _blocks_of(units)
    parts.summary = next((u.text for u in units if u.kind == "para"), None)


def _params(units: list[Unit], pnames: list[int], proto: list[tuple[str, str | None]]) -> list[ParamPart]:
    """Parameters in prototype order, each with its docs; page order when there is no prototype."""
    if not pnames:
        docs = [u for u in units if u.kind not in ("heading", "proto")]
        shared = _share_docs(docs, len(proto))
        return [ParamPart(name, annotation, blocks) for (name, annotation), blocks in zip(proto, shared)]
    documented: dict[str, ParamPart] = {}
    for k, at in enumerate(pnames):
        unit = units[at]
        stop = pnames[k + 1] if k + 1 < len(pnames) else len(units)
        documented.setdefault(unit.name, ParamPart(unit.name, unit.annotation, _blocks_of(units[at + 1:stop])))
    result = []
    for name, annotation in proto:
        part = documented.pop(name, None) or ParamPart(name, None, [])
        part.annotation = part.annotation or annotation
        result.append(part)
    result.extend(documented.values())
    return result


def _share_docs(docs: list[Unit], count: int) -> list[list[Block]]:
    """Share the doc units among `count` unnamed parameters, or give up rather than guess.

    - as many units as parameters: one each (the common case);
    - one parameter: it gets everything;
    - a `Type:` line at the head of each parameter (exactly `count` of
      them, the first unit being one): each starts a parameter;
    - exactly `count` paragraphs, the first unit being one: each paragraph
      starts a parameter and keeps the tables, items and notes after it;
    - otherwise every parameter gets no docs: an empty doc reads as missing,
      a wrong one would read as true.
    """
    if count == 0:
        return []
    if len(docs) == count:
        return [_blocks_of([u]) for u in docs]
    if count == 1:
        return [_blocks_of(docs)]
    for kind in ("type", "para"):
        starts = [i for i, u in enumerate(docs) if u.kind == kind]
        if len(starts) == count and starts[0] == 0:
            bounds = starts + [len(docs)]
            return [_blocks_of(docs[bounds[k]:bounds[k + 1]]) for k in range(count)]
    return [[] for _ in range(count)]


def _returns(parts: PageParts, units: list[Unit]) -> None:
    """The returns part's blocks; a `Type:` line in it gives the return type instead."""
    for unit in units:
        if unit.kind == "type":
            parts.return_type = parts.return_type or unit.name
        elif unit.kind != "heading" and unit.block is not None:
            parts.returns.append(unit.block)


def _see_also(units: list[Unit]) -> list[str]:
    """Lines under a See also heading or, with the heading lost, after the requirements table."""
    return [u.text for u in units if u.kind == "see"]
