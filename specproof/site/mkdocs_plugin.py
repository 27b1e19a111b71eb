"""The `specproof` mkdocs plugin: what the generated pages need from the mkdocs build.

mkdocs.yml lists it (installed with the kit as the `specproof` entry point
of `mkdocs.plugins`), so `specproof site build`, `mkdocs build` and `mkdocs
serve` build the same site from what `specproof site build` generated:

- Includes: a line `<!-- specproof:include generated/X.md -->` in a
  hand-written page is replaced by that generated file (the home page
  shows the generated overview this way). One line, one file under the
  docs folder's `generated/`: a Python-Markdown extension (pymdownx's
  snippets) did the same but scanned every line of every page, ten
  thousand function pages, for its syntax.
- Search: every generated page is left out of material's search parse,
  and the function pages' entries, written from the specs into
  `generated/_search.json` (see search.py for why), are added to the index
  before the offline plugin copies it for file:// use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority

from . import nav
from .load import SiteInputError
from .search import add_entries, read_entries

_INCLUDE = re.compile(r"^<!-- specproof:include (\S+) -->[ \t]*$", re.M)


class SitePlugin(BasePlugin):
    """See the module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.docs = Path()

    def on_config(self, config: Any) -> Any:
        self.docs = Path(config.docs_dir)
        return config

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Any) -> str:
        if page.file.src_uri.startswith(nav.GENERATED + "/"):
            page.meta["search"] = {"exclude": True}
            return markdown
        if "<!-- specproof:include" not in markdown:
            return markdown
        return _INCLUDE.sub(lambda m: self._included(m.group(1), page.file.src_uri), markdown)

    def _included(self, target: str, source: str) -> str:
        if not target.startswith(nav.GENERATED + "/") or ".." in target.split("/"):
            raise PluginError(f"{source}: `specproof:include {target}` names a file outside "
                              f"{nav.GENERATED}/; only generated files can be included")
        path = self.docs / target
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise PluginError(f"{source}: cannot include {target} ({error.strerror}); "
                              "run `specproof site build` to generate it") from error

    @event_priority(-50)  # after material's search wrote the index (0), before offline copies it (-100)
    def on_post_build(self, *, config: Any) -> None:
        try:
            entries = read_entries(self.docs)
        except SiteInputError as error:
            raise PluginError(str(error)) from error
        add_entries(Path(config.site_dir), entries)
