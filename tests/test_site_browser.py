"""The built site in a real browser: Debian's chromium, driven by Playwright, on a local server.

The site is built from the committed specs and reference runs, plus one spec
whose doc text carries a script and markup, and served on 127.0.0.1. The test
reads the home page's counts and compares them with the results files,
walks Headers -> sspi.h -> DeleteSecurityContext and finds each test's
outcome for each implementation, searches for a function, a code and a
clause, checks the hostile text shows as text and runs nothing, and checks
that no request left the machine. Screenshots go to the test's tmp folder.

Playwright never downloads a browser here: it launches /usr/bin/chromium
(`apt-get install chromium`); the test skips, saying so, only when that is
missing.
"""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from specproof.site import nav
from specproof.site.mkdocs_build import build_site
from specproof.spec.model import Spec
from specproof.spec.yamlio import dump_spec

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SCRIPT = "<script>window.__specproof_pwned = 1</script>"
HOSTILE = f"Evil docs say {SCRIPT} and <img src=x onerror=\"window.__specproof_pwned = 2\"> | done"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"{CHROMIUM} is missing: apt-get install chromium (CI installs it)")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The committed site plus a hostile spec, built and served; yields (base URL, output folder)."""
    base = tmp_path_factory.mktemp("browser")
    specs = base / "specs"
    shutil.copytree(ROOT / "specs", specs)
    evil = Spec.model_validate({
        "api": "EvilFunction", "header": "evil.h", "summary": HOSTILE,
        "source": {"format": "sdk-api", "file": "evil.md", "digest": "sha256:0"},
        "clauses": [{"id": "R1", "section": "returns", "text": HOSTILE, "digest": "d", "kind": "normative"}],
    })
    (specs / "evil").mkdir()
    (specs / "evil" / "EvilFunction.yaml").write_text(dump_spec(evil), encoding="utf-8")
    docs = base / "docs"
    docs.mkdir()
    for name in ("index.md", "about.md"):
        shutil.copy(ROOT / "site" / name, docs / name)
    out = base / "public"
    build_site(specs, (), docs, out, ROOT / "mkdocs.yml", results_root=ROOT / "results")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", out
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser_page(site):
    base, _ = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.requests = requests  # type: ignore[attr-defined]
        yield page
        browser.close()
    outside = [url for url in requests if not url.startswith(base)]
    assert outside == [], f"requests left the machine: {outside}"


def _search(page, query: str) -> None:
    """Type a query into material's search box, as a reader does; until the search worker has read the
    index a query gets no answer, so it is typed again (at most three times)."""
    box = page.locator("input.md-search__input")
    box.click()
    for attempt in range(3):
        box.fill("")
        box.press_sequentially(query, delay=10)
        try:
            expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def _references() -> list[Path]:
    return sorted((ROOT / "results").glob("reference-*"))


def _results(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]


def test_home_counts_match_the_results(site, browser_page, tmp_path):
    base, _ = site
    page = browser_page
    page.goto(base)
    expect(page.locator("table#sp-counts")).to_be_visible()
    head = page.locator("table#sp-counts thead th").all_inner_texts()
    rows = [row.locator("td").all_inner_texts() for row in page.locator("table#sp-counts tbody tr").all()]
    columns = {impl: {row[0]: row[i] for row in rows} for i, impl in enumerate(head) if i}
    assert len(columns) == len(_references())
    for folder in _references():
        impl = json.loads((folder / "run.json").read_text())["impl"]
        counts = Counter(r["outcome"] for r in _results(folder))
        shown = {label: int(value) for label, value in columns[impl].items()
                 if label not in ("version", "platform", "ran", "total")}
        assert {o: n for o, n in shown.items() if n} == dict(counts), impl
        assert int(columns[impl]["total"]) == sum(counts.values())
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)


def test_function_page_shows_each_test_per_implementation(site, browser_page, tmp_path):
    base, _ = site
    page = browser_page
    page.goto(base)
    page.get_by_role("link", name="Headers", exact=True).first.click()
    page.get_by_role("link", name="sspi.h", exact=True).click()
    page.get_by_role("link", name="DeleteSecurityContext", exact=True).click()
    expect(page.locator("h1")).to_have_text("DeleteSecurityContext")
    head = page.locator("table#sp-results thead th").all_inner_texts()
    checked = 0
    for folder in _references():
        impl = json.loads((folder / "run.json").read_text())["impl"]
        column = head.index(impl)
        for record in _results(folder):
            if record["spec"] != "sspi/DeleteSecurityContext":
                continue
            cell = page.locator(f"tr#{nav.test_anchor(record['case'])} td").nth(column)
            expect(cell.locator(".sp-o")).to_have_text(record["outcome"])
            for seen in record["observed"]:
                expect(cell).to_contain_text(seen.get("value") or seen["fault"])
            checked += 1
    assert checked >= 2 * len(_references())
    page.screenshot(path=str(tmp_path / "DeleteSecurityContext.png"), full_page=True)


@pytest.mark.parametrize("query, expected", [
    ("DeleteSecurityContext", "DeleteSecurityContext"),
    ("SEC_E_INVALID_HANDLE", "Return codes"),
    ("already been deleted", "Clauses"),
])
def test_search_finds_functions_codes_and_clauses(site, browser_page, tmp_path, query, expected):
    base, _ = site
    page = browser_page
    page.goto(base)
    _search(page, query)
    expect(page.locator(".md-search-result")).to_contain_text(expected)
    page.screenshot(path=str(tmp_path / f"search-{query.split()[0]}.png"))
    if query == "DeleteSecurityContext":
        page.locator(".md-search-result__link").first.click()
        expect(page.locator("h1")).to_have_text("DeleteSecurityContext")


def test_doc_text_with_markup_shows_as_text(site, browser_page, tmp_path):
    base, _ = site
    page = browser_page
    page.goto(base + "generated/api/evil/EvilFunction.html")
    expect(page.locator("h1")).to_have_text("EvilFunction")
    expect(page.locator("article")).to_contain_text(SCRIPT)
    expect(page.locator("tr#c-r1")).to_contain_text(HOSTILE)
    assert page.evaluate("window.__specproof_pwned") is None
    page.screenshot(path=str(tmp_path / "evil.png"), full_page=True)
    page.goto(base)
    _search(page, "Evil docs")
    expect(page.locator(".md-search-result")).to_contain_text(SCRIPT)
    assert page.evaluate("window.__specproof_pwned") is None, "search results show the text, not markup"
