"""The read stage: one reader per page format, chosen automatically.

`read_page` tells the format from the text itself (markdown sources start
with YAML front matter; a learn-text copy has a `Name function (header.h)`
title, first or behind the site's chrome a whole-page copy starts with), so
a user can point `ingest` at any mix of files.
"""

from __future__ import annotations

from .parts import NotAFunction, PageError, PageParts

__all__ = ["NotAFunction", "PageError", "PageParts", "read_page"]


def read_page(raw: bytes, file: str) -> PageParts:
    """Read one page in whichever supported format it is."""
    from .learn_text import looks_like_learn_text, read_learn_text
    from .markdown import read_markdown
    from .text import decode_page

    text = decode_page(raw)  # fails early, and alike for every format, on empty or binary input
    if text.lstrip().startswith("---"):
        return read_markdown(raw, file, text)
    if looks_like_learn_text(text):
        return read_learn_text(raw, file, text)
    raise PageError(
        "unknown page format: neither markdown with front matter (sdk-api, wdk-ddi) "
        "nor a copied reference page with a 'Name function (header.h)' title (first, or within the first "
        "lines after the site's chrome, followed by the page's Syntax, Parameters, Return value or Requirements)"
    )
