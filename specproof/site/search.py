"""Search entries for the function pages, made from the specs rather than parsed from the pages.

The site uses mkdocs-material's search (its index, its worker, its UI).
Its plugin indexes a page by parsing the page's HTML with html.parser,
which cost 5 to 8 ms a function page, more than mkdocs-material spends
building a plain page; at ten thousand functions that alone broke the
build-time goal (`benchmarks/site`). So function pages are left out of
the plugin's parse (`search: exclude` in their front matter) and their
entries, in the plugin's own format, are written from the spec, which
already holds the text a reader searches for: the function's name and
summary, its return codes with their values, its clauses and its
parameters. `SpecEntries`, a plugin `specproof site build` adds to the
mkdocs configuration it builds with, marks the pages excluded (in their
metadata, so the pages need no front matter, which mkdocs would parse with
pure-Python YAML) and appends their entries to the index before the
offline plugin copies it for file:// use. Built with plain `mkdocs build`,
the pages are indexed by the plugin's parse instead: slower, same search.
Text is HTML-escaped: material shows an entry's text as HTML.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from mkdocs.plugins import BasePlugin, event_priority

from ..spec.model import Spec
from .html import href
from .codes import code_label, code_value


def function_entries(spec: Spec, page: str) -> list[dict[str, str]]:
    """The entries of one function page, one per section as the plugin would make them."""
    url = href("", page)
    entries = [{"location": url, "title": spec.api,
                "text": f"<p>{escape(' '.join(spec.summary.split()))}</p><p>{escape(spec.header)}"
                        + (f" {escape(spec.dll)}" if spec.dll else "") + "</p>"}]
    if spec.returns.codes:
        entries.append({"location": f"{url}#return-codes", "title": "Return codes",
                        "text": " ".join(escape(f"{code_label(c)} {code_value(c)}".strip())
                                         for c in spec.returns.codes)})
    if spec.clauses:
        entries.append({"location": f"{url}#clauses", "title": "Clauses",
                        "text": " ".join(f"<p>{escape(c.id)}: {escape(' '.join(c.text.split()))}</p>"
                                         for c in spec.clauses)})
    if spec.signature.params:
        entries.append({"location": f"{url}#parameters", "title": "Parameters",
                        "text": " ".join(f"<p>{escape(p.name)} {escape(p.type or '')}: "
                                         f"{escape(' '.join(p.doc.split()))}</p>" for p in spec.signature.params)})
    return entries


class SpecEntries(BasePlugin):
    """Search entries from the specs for the function pages; see the module's docstring."""

    def __init__(self, entries: dict[str, list[dict[str, str]]]) -> None:
        super().__init__()
        self.entries = entries  # page's source path (docs-relative, .md) -> its entries

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Any) -> str:
        if page.file.src_uri in self.entries:
            page.meta["search"] = {"exclude": True}
        return markdown

    @event_priority(-50)  # after material's search wrote the index (0), before offline copies it (-100)
    def on_post_build(self, *, config: Any) -> None:
        add_entries(Path(config.site_dir), [e for entries in self.entries.values() for e in entries])


def add_entries(site_dir: Path, entries: list[dict[str, str]]) -> int:
    """Append entries to the built search index."""
    index_file = site_dir / "search" / "search_index.json"
    if not entries or not index_file.is_file():
        return 0
    index = json.loads(index_file.read_text(encoding="utf-8"))
    index["docs"].extend(entries)
    index_file.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")
    return len(entries)
