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
    bodies: list[list[str]] = [[]]  # bodies[0] is the preamble, bodies[i + 1] belongs to sections[i]
    fence: str | None = None
    for number, line in enumerate(body.split("\n"), 1):
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
        elif fence is None:
            heading = _HEADING.match(line)
            section = _section_of(heading, line, number) if heading and heading.group(2) else None
            if section is not None:
                sections.append(section)
                bodies.append([])
                continue
        bodies[-1].append(line)
    for section, lines in zip(sections, bodies[1:]):
        section.text = "\n".join(lines)
    return "\n".join(bodies[0]), sections


def _section_of(heading: re.Match[str], line: str, number: int) -> Section | None:
    """The section a `#… -name` heading opens; None when the dash starts no name."""
    if line.lstrip(" #\t")[1:2] in (" ", "\t"):  # "##### - Arg.X": a parameter's sub-field
        return Section("subfield", heading.group(2).strip(), "", number)
    named = _NAME.match(heading.group(2))
    if named is None:
        return None
    return Section(canonical(named.group(1)), named.group(2).strip(), "", number)
