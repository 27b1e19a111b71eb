"""The site's own lines in a learn-text copy: set aside, with the page date they carry.

A whole-page copy keeps what the site shows around the article (metadata,
"In this article", read time, the footer), in the reader's language; none
of it is content, but the metadata holds the page's date:

- Right after the title come the article's metadata (Article, date,
  contributors, Feedback) and the "In this article" list of the page's
  headings: short lines with no sentence punctuation before the first
  content line are dropped when they hold a date (dd.mm.yyyy read day
  first, d/m/yyyy day first only when the first number is over 12, as
  en-us writes month first), and a run of heading names with nothing
  between them (or one that the body repeats, after such a line) is that
  list, not the page's headings.
- Elsewhere, the short lines the site adds ("Last updated", a date alone,
  "In this article", "Feedback", "3 minutes to read") are blanked.
- The page ends where the footer starts (`FOOTER`).
"""

from __future__ import annotations

import re

from ..text import iso_date
from .lines import CODE_LINE, HEADINGS, LANG_LABELS, NOTE_WORDS, TYPE_LINE, nonblank
from .requirements import strong_req_line

__all__ = ["FOOTER", "head_chrome", "strip_chrome"]

_DATE_LINE = re.compile(r"^(?:Last updated(?: on)?:?\s*)?(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})$", re.I)
_CHROME = frozenset({"in this article", "article", "feedback", "table of contents", "exit focus mode",
                     "commentaires", "comentarios"})
_READ_TIME = re.compile(r"^\d+ (?:minutes? to read|contributors?)$", re.I)
FOOTER = frozenset({
    "was this page helpful?", "additional resources", "submit and view feedback for",
    "war diese seite hilfreich?", "zusätzliche ressourcen", "cette page a-t-elle été utile ?",
    "cette page a-t-elle été utile?", "ressources supplémentaires", "¿le resultó útil esta página?",
    "¿le ha resultado útil esta página?", "recursos adicionales",
})
"""Where the copied page ends and the site's own footer starts (the line, case-folded)."""
# a date in the article's metadata, in the reader's locale: 02/22/2024, 22/02/2024, 22.02.2024, 2024-02-22
_META_DATE = re.compile(r"(?<![\d/.])(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?![\d/.])|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SENTENCE_END = frozenset(".:;!?,)]")


def head_chrome(lines: list[str]) -> tuple[list[str], str | None]:
    """Blank the article's metadata and "In this article" list after the title; return the page date.

    From the title to the first content line: chrome-like lines (`_chrome_like`,
    in whatever language) and the list of the page's headings. A run of two or
    more heading names with nothing between them, none named twice, is that
    list; so is a single one right after chrome-like lines when the body
    repeats it. The lines are
    dropped only when they hold a date or such a list, which is how the site
    lays out the metadata; otherwise they are left to `strip_chrome`.
    """
    marked: list[int] = []
    date = None
    toc = False
    run: set[str] = set()  # the headings of the list being read; a list names each once
    numbered = list(nonblank(lines[:200]))
    for k, (index, s) in enumerate(numbered):
        folded = s.casefold().rstrip(":")
        if folded in HEADINGS:
            nxt = numbered[k + 1][1] if k + 1 < len(numbered) else ""
            if folded not in run and (run or nxt.casefold().rstrip(":") in HEADINGS or (
                marked and any(line.strip() == s for line in lines[index + 1:])
            )):
                toc = True
                run.add(folded)
                marked.append(index)
                continue
            break
        run = set()
        if not _chrome_like(s):
            break
        date = date or _meta_date(s)
        marked.append(index)
    if not (date or toc):
        return lines, None
    kept = list(lines)
    for index in marked:
        kept[index] = ""
    return kept, date


def strip_chrome(lines: list[str]) -> tuple[list[str], str | None]:
    """Drop the lines a copy adds around the content (dates, 'In this article'); return the page date."""
    date = None
    kept = []
    for line in lines:
        stripped = line.strip()
        if not stripped or len(stripped) > 40:  # every chrome line is short
            kept.append(line)
            continue
        dated = _DATE_LINE.match(stripped) if stripped[0].isdigit() or stripped[0] in "Ll" else None
        if dated:
            date = date or iso_date(dated.group(1))
            kept.append("")
        elif stripped.casefold() in _CHROME or stripped[0].isdigit() and _READ_TIME.match(stripped):
            kept.append("")
        else:
            kept.append(line)
    return kept, date


def _meta_date(s: str) -> str | None:
    """The ISO date in a metadata line, in any of the site's locales; None if it holds none."""
    match = _META_DATE.search(s)
    if not match:
        return None
    if match.group(5):
        return "-".join(match.group(5, 6, 7))
    a, sep, b, year = int(match.group(1)), match.group(2), int(match.group(3)), int(match.group(4))
    day, month = (a, b) if sep == "." or a > 12 else (b, a)  # en-us is month first; dotted locales day first
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _chrome_like(s: str) -> bool:
    """A short line that is not content: no sentence punctuation, no code, not a heading or a note."""
    if len(s) > 60 or s[-1] in _SENTENCE_END or "(" in s or "\t" in s or s[0] in "[#/{":
        return False
    folded = s.casefold().rstrip(":")
    if folded in HEADINGS or folded in NOTE_WORDS or s == "Copy" or folded in LANG_LABELS:
        return False
    return not (TYPE_LINE.match(s) or strong_req_line(s) or CODE_LINE.search(s))
