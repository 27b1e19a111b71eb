"""Splitting a markdown page body into its `## -name` sections.

The docs repositories mark sections with headings whose text starts with a
dash (`## -returns`, `### -param name [in]`). In the wild they come at
levels 2 to 5, duplicated, out of order and misspelled (`## -see-aextension`),
sometimes with content glued to the heading; a heading inside a code fence
is code, not a heading. This module only finds sections; it does not read them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]*-[ \t]*(.*?)[ \t#]*$")
_NAME = re.compile(r"^([A-Za-z][A-Za-z-]*)(.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CANDIDATE = re.compile(r"\n {0,3}(?:#|```|~~~)")  # after a "\n": found by a fast scan for it

KNOWN = (
    "description", "parameters", "param", "syntax", "prototype", "returns", "remarks",
    "see-also", "requirements", "examples", "struct-fields", "enum-fields", "field",
    "callback", "ioctlparameters", "inheritance",
)


@dataclass
class Section:
    name: str  # canonical name ("see-also"), "subfield" for `- Arg.X`, or the raw name when unknown
    arg: str  # what follows the name on the heading line (a param's "name [in]")
    text: str  # the section's body up to the next section heading
    line: int  # 1-based line of the heading in the body


def canonical(raw: str) -> str:
    """Map a section name, possibly misspelled, to a known one."""
    name = raw.lower().strip("-")
    if name in KNOWN:
        return name
    if name.startswith("see-a"):
        return "see-also"
    close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.75)
    return close[0] if close else name


def split_sections(body: str) -> tuple[str, list[Section]]:
    """Return (text before the first section, sections in page order)."""
    sections: list[Section] = []
    starts: list[tuple[int, int]] = []  # (offset of a section heading's line, offset of the line after it)
    fence: str | None = None
    number, counted = 1, 0
    # only a line that starts with "#", "```" or "~~~" can be a heading or a fence
    for candidate in _CANDIDATE.finditer("\n" + body):
        begin = candidate.start()  # in `body`, where the line starts
        end = body.find("\n", begin)
        end = len(body) if end < 0 else end
        line = body[begin:end]
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
        elif fence is None:
            heading = _HEADING.match(line)
            if heading and heading.group(2):
                number += body.count("\n", counted, begin)
                counted = begin
                section = _section_of(heading, line, number)
                if section is not None:
                    sections.append(section)
                    starts.append((begin, end + 1))
    if not starts:
        return body, sections
    # a section's text runs from the line after its heading to the end of the line before the next
    ends = [start - 1 for start, _ in starts[1:]] + [len(body)]
    for section, (_, text_start), text_end in zip(sections, starts, ends):
        section.text = body[text_start:text_end]
    first = starts[0][0]
    return body[: first - 1] if first else "", sections


def _section_of(heading: re.Match[str], line: str, number: int) -> Section | None:
    """The section a `#… -name` heading opens; None when the dash starts no name."""
    if line.lstrip(" #\t")[1:2] in (" ", "\t"):  # "##### - Arg.X": a parameter's sub-field
        return Section("subfield", heading.group(2).strip(), "", number)
    named = _NAME.match(heading.group(2))
    if named is None:
        return None
    return Section(canonical(named.group(1)), named.group(2).strip(), "", number)
