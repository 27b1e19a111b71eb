"""Sentences of the returns and remarks sections, as numbered clauses.

A clause is the unit a test cites and the unit whose change makes a curated
case stale, so each one gets an id (R1.. for returns, M1.. for remarks, in
page order; `ingest` keeps ids stable across doc revisions by matching
digests), its text, a digest of its normalised text and a kind:

- `obligation`: something the caller must or must not do;
- `normative`: something the implementation does or returns;
- `informative`: everything else (references, background, examples).
"""

from __future__ import annotations

import re

from .parts import Block
from .text import fold

_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|approx|No|Fig|cf|Inc|Ltd|Dr|Mr|Ms|St)|\b[A-Z])\.$")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[*_<]?[A-Z0-9])")

_INFORMATIVE = re.compile(
    r"^(?:for more information|for details|for an example|for example|for a list|see\b|to learn|"
    r"this (?:function|routine|method) is (?:a|the) (?:specific )?(?:implementation|version)|"
    r"the following (?:example|code)|starting with|beginning with|in windows\b|"
    r"\S+ is a specific implementation)", re.I)
_CALLER = re.compile(
    r"\b(?:callers?|applications?|drivers?|clients?|you|the calling (?:thread|process|application|driver))\b", re.I)
_MODAL = re.compile(
    r"\b(?:must|should|needs?|has to|have to|is responsible|are responsible|is required|are required|cannot|"
    r"can't|may not)\b", re.I)
_OBLIGATION = re.compile(
    r"^(?:do not|don't|never|always|be sure|make sure|ensure|avoid|call|use|set|specify|pass|free|release)\b"
    r"|\b(?:this|the) (?:parameter|value|buffer|handle|pointer|member) must\b"
    r"|\bit is the caller's responsibility\b|\bmust be (?:called|freed|released|closed|deleted)\b",
    re.I,
)
_NORMATIVE = re.compile(
    r"\b(?:returns?|returned|return value|fails?|failed|succeeds?|succeeded|error|invalid|not valid|no longer|"
    r"deleted?|deletes|frees?|freed|closes?|closed|releases?|released|terminates?|allocates?|sets?|"
    r"will|cannot|is not|are not|does not|only|always|never|must)\b|\b[A-Z]+_[A-Z0-9_]+\b",
    re.I,
)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations such as "e.g." inside."""
    text = fold(text)
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        if _ABBREVIATIONS.search(candidate.rstrip("\"')]")):
            continue
        pieces.append(text[start : match.start()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def kind_of(sentence: str) -> str:
    if _INFORMATIVE.search(sentence):
        return "informative"
    caller = _CALLER.search(sentence)
    if caller and _MODAL.search(sentence, caller.end()) or _OBLIGATION.search(sentence):
        return "obligation"
    if _NORMATIVE.search(sentence):
        return "normative"
    return "informative"


def row_text(row: list[str], header: list[str] | None) -> str:
    """A table row as one sentence: `NAME (0x..): description`."""
    cells = [fold(cell.replace("\n", " ")) for cell in row]
    if len(cells) >= 2:
        return f"{cells[0]}: {' '.join(c for c in cells[1:] if c)}".strip()
    return cells[0] if cells else ""


def block_sentences(block: Block) -> list[str]:
    """The sentences of a prose block; a list item or note stays one unit when short."""
    if block.kind in ("para", "item", "note"):
        return split_sentences(block.text)
    return []
