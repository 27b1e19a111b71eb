"""`specproof site build` and `serve`: write the pages (write_pages.py), then build them with mkdocs-material.

mkdocs runs in-process with the project's mkdocs.yml (docs and output
folders can be overridden, so the tests build into a temporary folder),
strict by default: a broken link in a generated page is a bug.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .write_pages import SiteBuildError, WriteReport, generate
from .load import SiteData, SiteInputError, default_run_folders, find_run_folders

PLUGIN = "specproof"  # the kit's mkdocs plugin (mkdocs_plugin.py), by its entry point name


@dataclass
class BuildReport:
    data: SiteData
    pages: WriteReport
    generate_seconds: float
    mkdocs_seconds: float
    index: Path | None
    run_folders: list[Path] = field(default_factory=list)


def run_mkdocs(config_file: Path, docs: Path, out: Path, strict: bool = True) -> None:
    """Build the site with mkdocs-material, in-process, with the docs and output folders given."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    if not config_file.is_file():
        raise SiteBuildError(f"{config_file}: no mkdocs configuration; run from the project folder or pass --config")
    logger = logging.getLogger("mkdocs")
    handler = logging.StreamHandler(sys.stderr)  # mkdocs' own command sets this up; in-process we do
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("mkdocs %(levelname)s: %(message)s"))
    errors = _Errors()  # what mkdocs logged before it gave up goes into the exception's message
    logger.addHandler(handler)
    logger.addHandler(errors)
    try:
        config = load_config(str(config_file), docs_dir=str(docs.resolve()), site_dir=str(out.resolve()),
                             strict=strict)
        if PLUGIN not in config.plugins:
            raise SiteBuildError(f"{config_file}: the `{PLUGIN}` plugin is not in its `plugins` list; add it "
                                 "(the generated pages need it for the home page's overview and for search)")
        build(config)
    except (MkDocsException, SystemExit) as error:  # mkdocs' Abort is a click exception
        raise SiteBuildError(errors.explain(error)) from error
    except Exception as error:
        if type(error).__name__ == "Abort":
            raise SiteBuildError(errors.explain(error)) from error
        raise
    finally:
        logger.removeHandler(handler)
        logger.removeHandler(errors)


class _Errors(logging.Handler):
    """Keeps the error lines mkdocs logs: its exception then only says "Aborted with a BuildError!"."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.extend(line for line in record.getMessage().splitlines() if line.strip())

    def explain(self, error: BaseException) -> str:
        return "mkdocs build failed: " + "; ".join([*self.lines[-5:], str(error)])


def build_site(specs: Path = Path("specs"), results: Iterable[Path] = (), docs: Path = Path("site"),
               out: Path = Path("public"), config_file: Path = Path("mkdocs.yml"), strict: bool = True,
               results_root: Path = Path("results")) -> BuildReport:
    """Generate the pages and build the site; with no `results`, the reference runs under `results_root`."""
    given = list(results)
    folders = find_run_folders(given) if given else default_run_folders(results_root)
    start = time.perf_counter()
    data, written = generate(specs, folders, docs)
    generated = time.perf_counter()
    run_mkdocs(config_file, docs, out, strict)
    index = out / "index.html"
    return BuildReport(data, written, generated - start, time.perf_counter() - generated,
                       index if index.exists() else None, folders)


_ASSET_URL = re.compile(
    r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc\s*=\s*["']?(https?:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(https?:)?//"""
    r"""|@import\s+(?:url\()?\s*["']?(https?:)?//"""
    r"""|url\(\s*["']?(https?:)?//""",
    re.IGNORECASE)


def external_assets(html: str) -> list[str]:
    """Asset references in a page that would be fetched from the network (scripts, styles, fonts, images)."""
    return [html[m.start(): m.start() + 160] for m in _ASSET_URL.finditer(html)]


def serve(out: Path, host: str = "127.0.0.1", port: int = 8000, started=None) -> None:
    """Serve the built site until interrupted (a static server: rebuild with `specproof site build`).

    `started` is told the URL once the port is bound (port 0 binds a free one); a port in use raises
    OSError before that.
    """
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    if not (out / "index.html").is_file():
        raise SiteInputError(f"{out}/index.html does not exist: run `specproof site build` first")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    with ThreadingHTTPServer((host, port), handler) as server:
        if started is not None:
            started(f"http://{host}:{server.server_address[1]}/")
        server.serve_forever()


__all__ = ["BuildReport", "SiteBuildError", "SiteInputError", "build_site", "external_assets", "run_mkdocs",
           "serve"]
