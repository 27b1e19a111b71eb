"""Search entries for the function pages, made from the specs rather than parsed from the pages.

The site uses mkdocs-material's search (its index, its worker, its UI).
Its plugin indexes a page by parsing the page's HTML with html.parser,
which cost 5 to 8 ms a function page, more than mkdocs-material spends
building a plain page; at ten thousand functions that alone broke the
build-time goal (`benchmarks/site`). So function pages are left out of
the plugin's parse (`search: exclude` in their metadata) and their
entries, in the plugin's own format, are written from the spec, which
already holds the text a reader searches for: the function's name and
summary, its return codes with their values, its clauses and its
parameters. They are written to `generated/_search.json`; the kit's
mkdocs plugin (mkdocs_plugin.py) marks the pages excluded (in their
metadata, so the pages need no front matter, which mkdocs would parse with
pure-Python YAML) and appends the entries to the index. Text is
HTML-escaped: material shows an entry's text as HTML.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from ..spec.model import Spec
from . import nav
from .html import href
from .code_cells import code_label, code_value
from .load import SiteInputError


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


def entries_file(entries: list[dict[str, str]]) -> str:
    """The text of `generated/_search.json`: every function page's entries, in page order."""
    return json.dumps(entries, ensure_ascii=False, separators=(",", ":"))


def read_entries(docs: Path) -> list[dict[str, str]]:
    """The entries `specproof site build` wrote into the docs folder (none before a build)."""
    path = docs / nav.SEARCH_ENTRIES
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except ValueError as error:
        raise SiteInputError(f"{path}: not JSON ({error}); run `specproof site build` to write it anew") from error


def add_entries(site_dir: Path, entries: list[dict[str, str]]) -> int:
    """Append entries to the built search index."""
    index_file = site_dir / "search" / "search_index.json"
    if not entries or not index_file.is_file():
        return 0
    index = json.loads(index_file.read_text(encoding="utf-8"))
    index["docs"].extend(entries)
    index_file.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")
    return len(entries)
