"""Charts of outcome counts, as small standalone SVG files.

Written by hand rather than by a plotting library: the site must build
offline and show nothing fetched from the network, a bar chart of at most
ten outcomes is a few rectangles, and text in it (an implementation's name
comes from a run) is XML-escaped like every other text on the site.
"""

from __future__ import annotations

from typing import Mapping
from xml.sax.saxutils import escape

from ..outcomes import OUTCOMES

#: One colour per outcome, shared by the charts and the outcome badges (site CSS).
COLOURS = {
    "pass": "#2e7d32", "fail": "#c62828", "undocumented": "#ef6c00", "crash": "#6a1b9a", "timeout": "#ad1457",
    "not-implemented": "#757575", "not-applicable": "#9e9e9e", "xfail": "#1565c0", "xpass": "#f9a825",
    "error": "#000000",
}

_ROW, _LABEL, _BAR, _GAP = 22, 130, 260, 6


def outcome_bars(counts: Mapping[str, int], title: str) -> str:
    """A horizontal bar per outcome that occurred, in the kit's outcome order, with its count at the end."""
    rows = [(o, counts[o]) for o in OUTCOMES if counts.get(o)]
    rows += sorted((o, n) for o, n in counts.items() if o not in OUTCOMES and n)
    total = sum(n for _, n in rows)
    biggest = max((n for _, n in rows), default=1)
    width = _LABEL + _BAR + 110
    height = _GAP * 2 + _ROW * max(len(rows), 1) + 18
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    y = 18 + _GAP
    for outcome, count in rows:
        length = max(2, round(_BAR * count / biggest))
        colour = COLOURS.get(outcome, "#424242")
        share = f"{100 * count / total:.0f}%" if total else ""
        parts.append(f'<text x="{_LABEL - 6}" y="{y + 15}" text-anchor="end">{escape(outcome)}</text>')
        parts.append(f'<rect x="{_LABEL}" y="{y + 3}" width="{length}" height="{_ROW - 6}" fill="{colour}">'
                     f"<title>{escape(outcome)}: {count}</title></rect>")
        parts.append(f'<text x="{_LABEL + length + 6}" y="{y + 15}">{count} ({share})</text>')
        y += _ROW
    if not rows:
        parts.append(f'<text x="0" y="{y + 15}">no results</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
