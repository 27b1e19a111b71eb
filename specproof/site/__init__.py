"""The publish stage: specs and runs in, a static compliance site (mkdocs-material) out.

`load` reads the spec set and the runs; `findings` and `compare` work out what
the pages say about the docs and between runs; `pages` writes the markdown
(with `escape` and `html` keeping doc and result text text), `charts` the
SVG charts, `nav` where everything lives; `search` indexes the function
pages from their specs; `generate` writes `site/generated/`, `build` runs
mkdocs; `mkdocs_plugin` is the kit's mkdocs plugin (includes, search
entries, the nav's plain entries).
"""

from .mkdocs_build import BuildReport, SiteBuildError, build_site, serve
from .load import SiteInputError

__all__ = ["BuildReport", "SiteBuildError", "SiteInputError", "build_site", "serve"]
