"""What a reader extracts from a page, before it becomes a Spec.

Every format reader (sdk-api markdown, wdk-ddi markdown, learn-text) fills
the same `PageParts`; one builder (`spec_builder.py`) turns parts into a Spec. That
keeps the meaning-making (codes, clauses, mode, signature) in one place, so
the same function read from two formats gives the same spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["para", "item", "table", "code", "note", "heading"]


@dataclass
class Block:
    """A unit of section content in reading order.

    `text` is plain text (markup removed, whitespace folded) for para, item,
    note and heading blocks, and the raw code for code blocks. Tables keep
    `rows`: a list of rows, each a list of cell texts; line breaks inside a
    cell (`<br>`, one `<dt>` per line) are kept as "\\n" because they separate
    a code's name from its value. `header` is True when rows[0] is a header row.
    """

    kind: BlockKind
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    header: bool = False


@dataclass
class ParamPart:
    name: str
    annotation: str | None = None  # as written, e.g. "[in, optional]"; None when absent
    blocks: list[Block] = field(default_factory=list)
    problem: str | None = None  # why the heading could not be read as the format says (no name)


@dataclass
class PageParts:
    """Everything the spec builder needs, format-independent."""

    format: Literal["sdk-api", "wdk-ddi", "learn-text"]
    file: str
    digest: str
    api: str
    header: str | None = None
    uid: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    summary: str | None = None
    # requirement facts, keyed like the markdown front matter without "req."
    # (header, include-header, lib, dll, irql, target-type, target-min-winverclnt,
    # target-min-winversvr, kmdf-ver, umdf-ver, ddi-compliance, target-platform)
    req: dict[str, str] = field(default_factory=dict)
    description: list[Block] = field(default_factory=list)
    params: list[ParamPart] = field(default_factory=list)
    returns: list[Block] = field(default_factory=list)
    remarks: list[Block] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)
    prototype: str | None = None  # C declaration text when the page shows one
    return_type: str | None = None  # e.g. from "Type: **DWORD**" in the returns section
    # parts that could not be read as the format says ("line 11: a -param heading without a
    # parameter name"), each with what was done instead; the spec keeps them in source.problems
    problems: list[str] = field(default_factory=list)


class NotAFunction(Exception):
    """The page is valid but documents something other than a function; it is skipped."""


class PageError(Exception):
    """The page cannot be read; the message says why and what to do."""
