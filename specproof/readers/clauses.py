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
# The word lists below are also shortcuts: in an ASCII sentence, a word of the
# sentence (a run of \w, any case) that is in a list matches that pattern.
_CALLER_WORDS = frozenset({"caller", "callers", "application", "applications", "driver", "drivers", "client",
                           "clients", "you"})
_CALLER = re.compile(
    rf"\b(?:{'|'.join(sorted(_CALLER_WORDS))}|the calling (?:thread|process|application|driver))\b", re.I)
_MODAL = re.compile(
    r"\b(?:must|should|needs?|has to|have to|is responsible|are responsible|is required|are required|cannot|"
    r"can't|may not)\b", re.I)
_OBLIGATION_LEAD = re.compile(
    r"(?:do not|don't|never|always|be sure|make sure|ensure|avoid|call|use|set|specify|pass|free|release)\b", re.I)
_OBLIGATION_PHRASE = re.compile(  # each needs "must" or "responsibility"
    r"\b(?:this|the) (?:parameter|value|buffer|handle|pointer|member) must\b"
    r"|\bit is the caller's responsibility\b|\bmust be (?:called|freed|released|closed|deleted)\b",
    re.I,
)
_NORMATIVE_WORDS = frozenset({
    "return", "returns", "returned", "fail", "fails", "failed", "succeed", "succeeds", "succeeded", "error",
    "invalid", "delete", "deleted", "deletes", "free", "frees", "freed", "close", "closes", "closed", "release",
    "releases", "released", "terminate", "terminates", "allocate", "allocates", "set", "sets", "will", "cannot",
    "only", "always", "never", "must",
})
_NORMATIVE = re.compile(  # the phrases need "not" or "longer", the code names an underscore
    rf"\b(?:{'|'.join(sorted(_NORMATIVE_WORDS))}|not valid|no longer|is not|are not|does not)\b"
    r"|\b[A-Z]+_[A-Z0-9_]+\b",
    re.I,
)
_WORD = re.compile(r"\w+")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations such as "e.g." inside."""
    text = fold(text)
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip().rstrip("\"')]")
        if _ABBREVIATIONS.search(candidate, max(0, len(candidate) - 8)):  # "approx." at most, before the end
            continue
        pieces.append(text[start : match.start()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _words(sentence: str) -> frozenset[str] | None:
    """The lower-cased words of an ASCII sentence; None for other text.

    Only in ASCII does lower-casing agree with the patterns' case-insensitive
    matching (which folds the long s and the Kelvin sign into "s" and "k").
    """
    return frozenset(_WORD.findall(sentence.lower())) if sentence.isascii() else None


def kind_of(sentence: str) -> str:
    """The clause kind of a sentence.

    The patterns above decide; the word set only skips a pattern that cannot
    match (a word it needs is missing) or that must match (it has one of the
    pattern's own words), which keeps this cheap on long remarks.
    """
    if _INFORMATIVE.search(sentence):
        return "informative"
    words = _words(sentence)
    if words is None or not words.isdisjoint(_CALLER_WORDS) or "calling" in words:
        caller = _CALLER.search(sentence)
        if caller and _MODAL.search(sentence, caller.end()):
            return "obligation"
    if _OBLIGATION_LEAD.match(sentence):
        return "obligation"
    if (words is None or "must" in words or "responsibility" in words) and _OBLIGATION_PHRASE.search(sentence):
        return "obligation"
    if words is not None:
        if not words.isdisjoint(_NORMATIVE_WORDS):
            return "normative"
        if "_" not in sentence and "not" not in words and "longer" not in words:
            return "informative"
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
