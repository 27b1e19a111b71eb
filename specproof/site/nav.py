"""Where each generated page lives, and how pages link to each other.

Navigation is measured, not guessed: mkdocs-material renders the whole
`nav` into every page, so a nav that lists every function makes the build
grow with the square of the number of pages (100 pages 0.9 s, 1,000 pages
20 s on the CI machine). The site's `nav` (in mkdocs.yml) therefore lists
only the handful of entry pages below, and everything else is reached the
way a reader browses a reference: home -> headers -> a header's index ->
a function, with a breadcrumb line on every generated page and search
over all function pages.

All generated pages live under `generated/` in the docs folder; nothing
else there is touched by a build.
"""

from __future__ import annotations

import posixpath

from .escape import slug

GENERATED = "generated"
HOME = "index.md"  # hand-written; it includes HOME_SNIPPET (see mkdocs_plugin.py)
HOME_SNIPPET = f"{GENERATED}/_home.md"  # not a page of its own (excluded in mkdocs.yml)
SEARCH_ENTRIES = f"{GENERATED}/_search.json"  # the function pages' search entries (see search.py)
HEADERS = f"{GENERATED}/headers.md"
FINDINGS = f"{GENERATED}/findings.md"
IMPLEMENTATIONS = f"{GENERATED}/implementations.md"
RUNS = f"{GENERATED}/runs.md"
ASSETS = f"{GENERATED}/assets"

#: The entry pages mkdocs.yml's nav lists (besides hand-written ones); checked by the tests.
ENTRY_PAGES = (HOME, HEADERS, FINDINGS, IMPLEMENTATIONS, RUNS)


def header_index(stem: str) -> str:
    return f"{GENERATED}/api/{slug(stem)}/index.md"


def function_page(spec_key: str) -> str:
    stem, _, api = spec_key.partition("/")
    return f"{GENERATED}/api/{slug(stem)}/{slug(api)}.md"


def impl_page(impl_slug: str) -> str:
    return f"{GENERATED}/impl/{impl_slug}.md"


def impl_outcome_page(impl_slug: str, outcome: str) -> str:
    return f"{GENERATED}/impl/{impl_slug}/{slug(outcome)}.md"


def diff_page(a_slug: str, b_slug: str) -> str:
    return f"{GENERATED}/diff/{a_slug}--{b_slug}.md"


def chart(impl_slug: str) -> str:
    return f"{GENERATED}/charts/{impl_slug}.svg"


def test_anchor(case: str) -> str:
    return "t-" + slug(case).lower()


def clause_anchor(clause_id: str) -> str:
    return "c-" + slug(clause_id).lower()


def split_anchor(target: str) -> tuple[str, str]:
    """`page.md#x` -> (`page.md`, `#x`); no anchor -> (target, "")."""
    path, mark, anchor = target.partition("#")
    return path, mark + anchor


def rel(source: str, target: str) -> str:
    """The relative link from page `source` to file `target` (both relative to the docs folder)."""
    target, anchor = split_anchor(target)
    return posixpath.relpath(target, posixpath.dirname(source) or ".") + anchor if target else anchor


def unique_slugs(names: list[str]) -> dict[str, str]:
    """A file name for each implementation or run name; names that slug alike get a number."""
    taken: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = slug(name)
        candidate, n = base, 2
        while candidate.lower() in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate.lower())
        taken[name] = candidate
    return taken
