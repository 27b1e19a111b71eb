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
- The nav: material renders the whole nav into every page through a
  template macro an entry, which cost about 0.3 ms a page for the six
  entry pages; ten thousand function pages are outside the nav, so for
  them the entries are written by a simpler template
  (templates/overrides/partials/nav.html), the same HTML (the tests compare
  it with material's). Any nav it does not cover goes to material's
  template; `compact_nav: false` turns it off.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority

from . import nav
from .load import SiteInputError
from .search import add_entries, read_entries

_INCLUDE = re.compile(r"^<!-- specproof:include (\S+) -->[ \t]*$", re.M)
_OVERRIDES = Path(__file__).parent / "templates" / "overrides"


class SiteConfig(Config):
    compact_nav = config_options.Type(bool, default=True)


class SitePlugin(BasePlugin[SiteConfig]):
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

    def on_env(self, env: Environment, *, config: Any, files: Any) -> Environment:
        if self.config.compact_nav:  # ours first; material's own, also as material/<name> for the fallback
            env.loader = ChoiceLoader([FileSystemLoader(str(_OVERRIDES)), PrefixLoader({"material": env.loader}),
                                       env.loader])
        return env

    @event_priority(-50)  # after material's search wrote the index (0), before offline copies it (-100)
    def on_post_build(self, *, config: Any) -> None:
        try:
            entries = read_entries(self.docs)
        except SiteInputError as error:
            raise PluginError(str(error)) from error
        add_entries(Path(config.site_dir), entries)
