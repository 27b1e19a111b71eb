"""The compliance site: generated pages, escaping, findings, diffs, and a real mkdocs-material build.

Two sites are built once per module: a small one from specs and runs this
module writes (two implementations, one of them run twice, with every kind
of finding and hostile text in the docs), through the `specproof site build`
command, and one from the committed specs and reference runs. Counts and
outcomes are checked against the results files read here, not against
numbers written into the tests.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from specproof.cli import main
from specproof.site import escape, nav
from specproof.site.mkdocs_build import SiteBuildError, build_site, external_assets, run_mkdocs
from specproof.site.write_pages import generate
from specproof.site.load import load
from specproof.spec.yamlio import read_spec
from specproof.spec.model import ReturnCode, Spec
from specproof.spec.yamlio import dump_spec, iter_spec_files, load_spec

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "Returns <script>window.__pwned = 1</script> | or *not* `this` {: onclick=alert(1) } [x](javascript:alert(1))"


# -- a small input written here ----------------------------------------------------------------------

def _spec(api: str, header: str, **extra) -> Spec:
    data = {
        "api": api, "header": f"{header}.h", "summary": extra.pop("summary", f"{api} does one thing."),
        "dll": "Test.dll", "source": {"format": "sdk-api", "uid": f"NF:{header}.{api}", "file": f"x/{api}.md",
                                      "digest": "sha256:0"},
        "signature": {"returns": "STATUS", "params": [{"name": "hThing", "type": "HANDLE", "direction": "in",
                                                       "doc": "The thing. A | pipe and <b>bold</b>."}]},
        "returns": {"shape": "status", "codes": [
            {"name": "S_OK", "value": 0, "success": True, "clause": "R1"},
            {"name": "E_HANDLE", "value": 0x80070006, "clause": "R2"},
            {"name": "E_NEVER", "value": 0x80004005, "clause": "R3"},
        ]},
        "clauses": [
            {"id": "R1", "section": "returns", "text": "If the function succeeds, it returns S_OK.", "digest": "d1",
             "kind": "normative"},
            {"id": "R2", "section": "returns", "text": "E_HANDLE: the handle is not valid.", "digest": "d2",
             "kind": "normative"},
            {"id": "R3", "section": "returns", "text": HOSTILE, "digest": "d3", "kind": "normative"},
            {"id": "M1", "section": "remarks", "text": "The caller must close the thing.", "digest": "d4",
             "kind": "obligation"},
        ],
        **extra,
    }
    return Spec.model_validate(data)


def _result(spec: str, case: str, outcome: str, clauses=(), observed=(), **extra) -> dict:
    function = spec.rpartition("/")[2]
    return {"id": f"conformance/{spec.partition('/')[0]}/test.py::test_{function}__{case}", "spec": spec,
            "function": function, "case": case, "rule": "curated", "clauses": list(clauses),
            "level": extra.pop("level", "conformance"), "mode": "user", "outcome": outcome,
            "expected": extra.pop("expected", "returns S_OK"),
            "observed": [{"function": function, "documented": doc, "name": name, "value": value, **o}
                         for name, value, doc, *rest in observed for o in (rest[0] if rest else {},)],
            "duration": 0.001, **extra}


def _run(folder: Path, run_id: str, impl: str, version: str, started: str, results: list[dict],
         kernel_in_process: bool = False) -> None:
    folder.mkdir(parents=True)
    counts = Counter(r["outcome"] for r in results)
    meta = {"run_id": run_id, "impl": impl, "adapter": impl, "started": started, "finished": started,
            "counts": dict(counts), "implementation": {"name": impl, "version": version, "platform": "test",
                                                       "architecture": "x86_64", "kernel_mode": False,
                                                       "kernel_in_process": kernel_in_process}}
    (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")


def write_input(base: Path) -> tuple[Path, Path]:
    specs = base / "specs"
    stale_case = {"id": "close-twice", "covers": ["R2"], "stale": ["R2"], "expect": {"returns": "E_HANDLE"}}
    for spec in (_spec("CloseThing", "things", cases=[stale_case]), _spec("OpenThing", "things"),
                 _spec("GoneThing", "things"), _spec("Pipe|Name", "odd", summary=HOSTILE)):
        folder = specs / spec.path_key[0]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{spec.path_key[1]}.yaml").write_text(dump_spec(spec), encoding="utf-8")
    ok, bad = ("S_OK", "0x00000000", True), ("E_HANDLE", "0x80070006", True)
    weird = ("E_WEIRD", "0x8000FFFF", False, {"diagnostics": ["beta: <img src=x onerror=alert(1)>"]})
    common = [
        _result("things/OpenThing", "success", "pass", ["R1"], [ok]),
        _result("things/CloseThing", "success", "pass", ["R1"], [ok]),
        _result("things/CloseThing", "close-twice", "fail", ["R2"], [ok], expected="returns E_HANDLE",
                message="CloseThing returned S_OK; expected E_HANDLE <b>"),
    ]
    runs = base / "results"
    _run(runs / "alpha-old", "alpha-old", "alpha", "1.0", "2026-01-01T10:00:00+00:00", [
        *common,
        _result("things/OpenThing", "bad-handle", "not-implemented", ["R2"], message="OpenThing is not exported"),
    ])
    _run(runs / "alpha-new", "alpha-new", "alpha", "1.1", "2026-02-01T10:00:00+00:00", [
        *common, _result("things/OpenThing", "bad-handle", "pass", ["R2"], [(*bad, {
            "last_error": "0x00000006", "last_error_name": "ERROR_INVALID_HANDLE"})], expected="returns E_HANDLE"),
        _result("odd/Pipe_Name", "success", "pass", ["R1"], [ok]),
        *[_result("things/GoneThing", case, "not-implemented", ["R1"], message="GoneThing is not exported <i>")
          for case in ("success", "bad-handle")],
        _result("things/OpenThing", "kernel-call", "not-applicable", ["R1"], mode="kernel",
                message="alpha cannot run kernel-mode code"),
    ])
    _run(runs / "beta-1", "beta-1", "beta", "9.0", "2026-01-15T10:00:00+00:00", [
        *common[:2], _result("things/CloseThing", "close-twice", "xfail", ["R2"], [ok], departure="fail"),
        _result("things/OpenThing", "bad-handle", "undocumented", ["R2"], [weird], level="robustness",
                diagnostics=["beta: <img src=x onerror=alert(1)>"]),
        _result("odd/Pipe_Name", "success", "crash", ["R1"], message="faulted at 0xdeadbeef"),
        _result("things/OpenThing", "kernel-call", "pass", ["R1"], [ok], mode="kernel"),
    ], kernel_in_process=True)
    return specs, runs


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    """The small site, built with the command a user runs."""
    base = tmp_path_factory.mktemp("small")
    specs, runs = write_input(base)
    docs = base / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "site" / "index.md", docs / "index.md")
    shutil.copy(ROOT / "site" / "about.md", docs / "about.md")
    (docs / "notes.md").write_text("# Hand-written notes\n", encoding="utf-8")
    out = base / "public"
    result = CliRunner().invoke(main, [
        "site", "build", "--specs", str(specs), "--results", str(runs), "--docs", str(docs), "--out", str(out),
        "--config", str(ROOT / "mkdocs.yml")])
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return {"base": base, "specs": specs, "runs": runs, "docs": docs, "out": out, "output": result.output}


def page(site: dict, path: str) -> HTMLParser:
    return HTMLParser((site["out"] / path).read_text(encoding="utf-8"))


def results_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]


def table_rows(tree: HTMLParser, selector: str) -> tuple[list[str], list[list[str]]]:
    table = tree.css_first(selector)
    assert table is not None, selector
    head = [th.text(strip=True) for th in table.css("thead th")]
    rows = [[td.text(separator=" ", strip=True) for td in tr.css("td")] for tr in table.css("tbody tr")]
    return head, rows


# -- escaping ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, must_not_contain", [
    ("<script>alert(1)</script>", "<script"),
    ("a | b", "|"),
    ("*emphasis* and _under_", "*"),
    ("{: onclick=alert(1) }", "{"),
    ("[x](javascript:alert(1))", "["),
    ("`code`", "`"),
])
def test_text_is_escaped_for_markdown(raw, must_not_contain):
    assert must_not_contain not in escape.text(raw)


@pytest.mark.parametrize("raw", ["- item", "+ item", "> quote", "1. first", "=== rule", "# heading"])
def test_text_cannot_start_a_block(raw):
    import markdown

    rendered = markdown.Markdown(extensions=["tables"]).convert(escape.text(raw))
    assert rendered.startswith("<p>") and "<li>" not in rendered and "<h1>" not in rendered
    assert "<blockquote>" not in rendered and "<hr" not in rendered


def test_markdown_shows_the_text_as_written():
    import html

    import markdown

    rendered = markdown.Markdown(extensions=["tables"]).convert(escape.text(HOSTILE))
    assert html.unescape(re.sub(r"</?p>", "", rendered)) == HOSTILE


def test_passthrough_extension_only_saves_time():
    """A generated page renders to the same HTML with and without the pass-through extension."""
    import markdown

    from specproof.site.html import table

    text = "# T\n\n" + table(["a", "b"], [["<b>x</b>", "y | z"], ["1", "2"]]) + "\nAfter.\n"
    plain = markdown.Markdown(extensions=["tables"]).convert(text)
    fast = markdown.Markdown(extensions=["tables", "specproof.site.mdext"]).convert(text)
    without_markers = re.sub(r"<!-- /?specproof:html -->", "", plain)
    assert re.sub(r"\s+", "", without_markers) == re.sub(r"\s+", "", fast)
    assert "<td><b>x</b></td>" in fast and "specproof:html" not in fast


def test_passthrough_normalizes_only_the_text_around_blocks():
    """The blocks are set aside before Python-Markdown's whitespace normalizing, which still does the rest."""
    import markdown

    from specproof.site.html import h, table

    text = "# T\n\n\tindented code\r\n\n" + table(["a"], [[h("x\x02wzxhzdk:0\x03y\x1b")]]) + "\nAfter.\n"
    fast = markdown.Markdown(extensions=["specproof.site.mdext"]).convert(text)
    assert "<pre><code>indented code\n</code></pre>" in fast, "tabs and CR around blocks are normalized"
    assert "<td>x\u2402wzxhzdk:0\u2403y\u241b</td>" in fast, "control characters show as symbols"
    assert "\x02" not in fast and "\x03" not in fast and fast.endswith("<p>After.</p>")


# -- loading ----------------------------------------------------------------------------------------------

def test_fast_spec_reader_reads_what_the_model_loader_reads():
    paths = list(iter_spec_files(ROOT / "specs"))
    assert paths
    for path in paths:
        assert read_spec(path) == load_spec(path), path


def test_fast_spec_reader_reports_errors_like_the_loader(tmp_path):
    from specproof.spec.yamlio import SpecFileError

    bad = tmp_path / "x" / "Bad.yaml"
    bad.parent.mkdir()
    bad.write_text("spec: 1\napi: Bad\nheader: x.h\nsource: {format: nope, file: f, digest: d}\n")
    with pytest.raises(SpecFileError) as error:
        read_spec(bad)
    assert error.value.line == 4 and "source.format" in error.value.message


def test_newest_run_of_each_implementation_is_shown(tmp_path):
    specs, runs = write_input(tmp_path)
    data = load(specs, sorted(runs.iterdir()))
    assert [r.run_id for r in data.runs] == ["alpha-old", "beta-1", "alpha-new"]
    assert {impl: run.run_id for impl, run in data.latest.items()} == {"alpha": "alpha-new", "beta": "beta-1"}


def test_large_spec_sets_are_read_in_workers_with_the_same_result(tmp_path, monkeypatch):
    from specproof.site import load as load_module

    specs, runs = write_input(tmp_path)
    serial = load(specs, sorted(runs.iterdir()))
    monkeypatch.setattr(load_module, "PARALLEL_FROM", 1)
    parallel = load(specs, sorted(runs.iterdir()))
    assert parallel.specs == serial.specs and list(parallel.specs) == list(serial.specs)
    assert [r.run_id for r in parallel.runs] == [r.run_id for r in serial.runs]


# -- the generated folder ---------------------------------------------------------------------------------

def test_build_keeps_hand_written_pages_and_removes_stale_generated_ones(tmp_path):
    specs, runs = write_input(tmp_path)
    docs = tmp_path / "docs"
    (docs / "generated" / "api" / "gone").mkdir(parents=True)
    (docs / "generated" / ".specproof-generated").write_text("")
    (docs / "generated" / "api" / "gone" / "Old.md").write_text("# Old\n")
    (docs / "mine.md").write_text("# Mine\n")
    _, report = generate(specs, sorted(runs.iterdir()), docs)
    assert not (docs / "generated" / "api" / "gone").exists()
    assert (docs / "mine.md").read_text() == "# Mine\n"
    assert report.removed == 1 and report.written > 5
    _, again = generate(specs, sorted(runs.iterdir()), docs)
    assert again.written == 0 and again.removed == 0, "a second build over the same input rewrites nothing"


def test_function_pages_made_in_two_processes_are_the_ones_one_makes(tmp_path, monkeypatch):
    import specproof.site.write_pages as generation

    def written(docs: Path) -> dict[str, str]:
        return {p.relative_to(docs).as_posix(): p.read_text(encoding="utf-8")
                for p in (docs / "generated").rglob("*") if p.is_file() and p.name != generation.MARKER}

    specs, runs = write_input(tmp_path)
    monkeypatch.setattr(generation, "PARALLEL_PAGES_FROM", 10**9)
    _, one = generate(specs, sorted(runs.iterdir()), tmp_path / "one")
    monkeypatch.setattr(generation, "PARALLEL_PAGES_FROM", 1)
    _, two = generate(specs, sorted(runs.iterdir()), tmp_path / "two")
    assert written(tmp_path / "two") == written(tmp_path / "one")
    assert one.forked == 0 and two.forked > 0 and two.written == one.written


def test_a_generated_folder_specproof_did_not_make_is_left_alone(tmp_path):
    specs, runs = write_input(tmp_path)
    docs = tmp_path / "docs"
    (docs / "generated").mkdir(parents=True)
    (docs / "generated" / "precious.md").write_text("keep")
    with pytest.raises(SiteBuildError, match="not made by specproof"):
        generate(specs, sorted(runs.iterdir()), docs)
    assert (docs / "generated" / "precious.md").read_text() == "keep"


# -- the small site, built ----------------------------------------------------------------------------------

def test_build_prints_where_to_open_the_site(small):
    assert f"open {(small['out'] / 'index.html').resolve()}" in small["output"]
    assert (small["out"] / "notes.html").exists(), "hand-written pages are built too"


def counts_columns(tree: HTMLParser) -> dict[str, dict[str, str]]:
    """The home page's counts: implementation -> row label (version, ran, an outcome, total) -> cell."""
    head, rows = table_rows(tree, "table#sp-counts")
    return {impl: {row[0]: row[i] for row in rows} for i, impl in enumerate(head) if i}


def test_home_counts_match_the_results(small):
    columns = counts_columns(page(small, "index.html"))
    newest = {"alpha": "alpha-new", "beta": "beta-1"}
    assert sorted(columns) == sorted(newest)
    for impl, column in columns.items():
        counts = Counter(r["outcome"] for r in results_of(small["runs"] / newest[impl]))
        shown = {label: int(value) for label, value in column.items()
                 if label not in ("version", "platform", "ran", "total")}
        assert {o: n for o, n in shown.items() if n} == dict(counts), impl
        assert int(column["total"]) == sum(counts.values())
    assert columns["alpha"]["version"] == "1.1" and columns["alpha"]["platform"] == "test"
    totals_head, totals = table_rows(page(small, "index.html"), "table#sp-totals")
    assert dict(zip(totals_head, totals[0]))["functions"] == str(len(list(iter_spec_files(small["specs"]))))
    assert (small["out"] / "generated" / "charts" / "alpha.svg").read_text().startswith("<svg")


def test_function_page_shows_each_test_per_implementation(small):
    tree = page(small, "generated/api/things/CloseThing.html")
    head, _ = table_rows(tree, "table#sp-results")
    assert head == ["test", "level", "covers", "expected", "alpha", "beta"]
    row = tree.css_first("tr#t-close-twice").text(separator=" ")
    assert "fail" in row and "xfail" in row and "S_OK 0x00000000" in row
    assert "expected E_HANDLE <b>" in row, "messages are shown as text"
    codes = tree.css_first("#never-observed").text()
    assert "E_NEVER 0x80004005" in codes and "S_OK" not in codes
    clauses = {tr.attributes["id"]: tr.text(separator=" ") for tr in tree.css("table#sp-clauses tbody tr")}
    assert "close-twice" in clauses["c-r2"] and "stale" in clauses["c-r2"]
    assert "caller's obligation" in clauses["c-m1"]
    assert "not covered" in clauses["c-r3"]
    assert tree.css_first("#history") is not None, "alpha ran twice: the page has a history"


def test_a_message_every_test_had_is_shown_once(small):
    tree = page(small, "generated/api/things/GoneThing.html")
    summary = [li.text(separator=" ") for li in tree.css("h2#results + ul li")]
    assert any(s.startswith("alpha:") and "every test saying: GoneThing is not exported <i>" in s for s in summary)
    _, rows = table_rows(tree, "table#sp-results")
    assert len(rows) == 2 and all(row[4] == "not-implemented" for row in rows), "not repeated in each row"


def test_a_test_cell_shows_the_value_and_the_last_error_side_by_side(small):
    tree = page(small, "generated/api/things/OpenThing.html")
    head, _ = table_rows(tree, "table#sp-results")
    cell = tree.css_first(f"tr#{nav.test_anchor('bad-handle')}").css("td")[head.index("alpha")].text(separator=" ")
    cell = " ".join(cell.split())
    assert "E_HANDLE 0x80070006" in cell and "last error ERROR_INVALID_HANDLE 0x6" in cell
    beta = tree.css_first(f"tr#{nav.test_anchor('bad-handle')}").css("td")[head.index("beta")].text(separator=" ")
    assert "last error" not in beta, "a call that set no last error shows none"


def test_observed_but_undocumented_codes_are_listed(small):
    tree = page(small, "generated/api/things/OpenThing.html")
    listed = tree.css_first("#never-documented").next.text() if tree.css_first("#never-documented").next else ""
    assert "E_WEIRD 0x8000FFFF" in listed and "beta" in listed


def test_doc_and_result_text_never_becomes_markup(small):
    for path in small["out"].rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "<script>window.__pwned" not in html, path
        assert "<img src=x" not in html, path
        assert "onclick=alert" not in html or "{: onclick=alert(1) }" in HTMLParser(html).text(), path
    tree = page(small, "generated/api/odd/Pipe_Name.html")
    assert HOSTILE in tree.css_first("article").text(separator=""), "the hostile text is shown as written"
    assert HOSTILE in tree.css_first("tr#c-r3").text(separator=""), "pipes do not split the table"
    index = (small["out"] / "search" / "search_index.json").read_text()
    assert "<script>window" not in index and "&lt;script&gt;" in index


def test_findings(small):
    tree = page(small, "generated/findings.html")
    text = tree.css_first("article").text(separator=" ")
    _, disagreements = table_rows(tree, "article table")
    assert any(row[0] == "CloseThing" and row[1] == "R2" and row[3] == "2 of 2" for row in disagreements), \
        "both implementations depart from CloseThing's R2"
    assert not any(row[0] == "OpenThing" and row[1] == "R2" for row in disagreements), "alpha passes it"
    assert "E_WEIRD" in text and "0x8000FFFF" in text
    assert "close-twice" in text, "the stale case is listed"


def test_implementation_pages_list_every_non_passing_test_by_outcome(small):
    tree = page(small, "generated/impl/beta.html")
    _, rows = table_rows(tree, "article table:nth-of-type(2)")
    assert {row[0]: int(row[1].split()[0]) for row in rows} == dict(Counter(
        r["outcome"] for r in results_of(small["runs"] / "beta-1")))
    for outcome in ("xfail", "undocumented", "crash"):
        listed = page(small, f"generated/impl/beta/{outcome}.html").css_first("article").text(separator=" ")
        tests = [r["case"] for r in results_of(small["runs"] / "beta-1") if r["outcome"] == outcome]
        assert tests and all(case in listed for case in tests)
    assert not (small["out"] / "generated" / "impl" / "beta" / "pass.html").exists()


def test_diffs_show_changes_only(small):
    tree = page(small, "generated/diff/alpha-old--alpha-new.html")
    text = tree.css_first("article").text(separator=" ")
    assert "bad-handle" in text and "not-implemented" in text, "the test whose outcome changed"
    assert "Pipe_Name" in text, "a test only the new run ran"
    assert "close-twice" not in text, "unchanged tests are left out"
    assert (small["out"] / "generated" / "diff" / "alpha-new--beta-1.html").exists(), "implementations compared"


def test_search_index_has_functions_codes_and_clauses(small):
    docs = json.loads((small["out"] / "search" / "search_index.json").read_text())["docs"]
    by_location = {d["location"]: d for d in docs}
    page_url = "generated/api/things/CloseThing.html"
    assert by_location[page_url]["title"] == "CloseThing"
    assert "E_HANDLE 0x80070006" in by_location[page_url + "#return-codes"]["text"]
    assert "If the function succeeds, it returns S_OK." in by_location[page_url + "#clauses"]["text"]
    assert (small["out"] / "search" / "search_index.js").read_text().startswith("var __index = {")


def _local_links(site: dict):
    for path in site["out"].rglob("*.html"):
        if path.name == "404.html":  # served for any missing URL, so its links are absolute
            continue
        tree = HTMLParser(path.read_text(encoding="utf-8"))
        for node in tree.css("a[href]"):
            target = node.attributes["href"] or ""
            if target.startswith(("http:", "https:", "mailto:", "javascript:")) or not target:
                continue
            yield path, tree, target


def test_every_link_in_the_site_resolves(small):
    ids_cache: dict[Path, set[str]] = {}
    for path, tree, target in _local_links(small):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        assert resolved.exists(), f"{path}: broken link {target}"
        if anchor and resolved.suffix == ".html":
            if resolved not in ids_cache:
                ids_cache[resolved] = {n.attributes.get("id") for n in
                                       HTMLParser(resolved.read_text(encoding="utf-8")).css("[id]")}
            assert anchor in ids_cache[resolved], f"{path}: no #{anchor} in {resolved.name}"


def test_site_fetches_nothing_from_the_network(small):
    for path in small["out"].rglob("*.html"):
        assert external_assets(path.read_text(encoding="utf-8")) == [], path
    for path in small["out"].rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", path.read_text(encoding="utf-8")), path
    assert external_assets('<link rel="stylesheet" href="https://fonts.example/x.css">'), "the check can fail"


# -- the committed specs and reference runs -----------------------------------------------------------------

def test_committed_specs_and_reference_runs_build(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "site" / "index.md", docs / "index.md")
    shutil.copy(ROOT / "site" / "about.md", docs / "about.md")
    report = build_site(ROOT / "specs", (), docs, tmp_path / "public", ROOT / "mkdocs.yml",
                        results_root=ROOT / "results")
    references = sorted((ROOT / "results").glob("reference-*"))
    assert references and [f.name for f in report.run_folders] == [f.name for f in references]
    tree = HTMLParser((tmp_path / "public" / "generated" / "api" / "sspi" / "DeleteSecurityContext.html").read_text())
    for folder in references:
        impl = json.loads((folder / "run.json").read_text())["impl"]
        head, _ = table_rows(tree, "table#sp-results")
        column = head.index(impl)
        for record in results_of(folder):
            if record["spec"] != "sspi/DeleteSecurityContext":
                continue
            row = tree.css_first(f"tr#{nav.test_anchor(record['case'])}")
            cell = row.css("td")[column].text(separator=" ")
            assert cell.split()[0] == record["outcome"], (impl, record["case"])
            for seen in record["observed"]:
                assert (seen.get("value") or seen["fault"]) in cell
    # how each function fails, as its page says it (failure values with their clause; status codes)
    pointer = HTMLParser((tmp_path / "public" / "generated" / "api" / "sspi" / "InitSecurityInterfaceW.html")
                         .read_text()).css_first("#sp-failure").text(separator=" ")
    assert "failure value of its return" in pointer and "NULL 0x0" in " ".join(pointer.split())
    status = tree.css_first("#sp-failure").text()
    assert "a status code" in status


def test_main_job_ends_with_the_site(tmp_path, monkeypatch):
    """`specproof all` builds the site last and says where to open it (no adapter here: nothing runs)."""
    for name in ("specs", "conformance"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "results", tmp_path / "results", ignore=shutil.ignore_patterns("[!r]*", "r[!e]*"))
    (tmp_path / "site").mkdir()
    for name in ("index.md", "about.md"):
        shutil.copy(ROOT / "site" / name, tmp_path / "site" / name)
    config = (ROOT / "mkdocs.yml").read_text()
    (tmp_path / "mkdocs.yml").write_text(config)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("specproof.adapter.registry.installed", lambda: [])
    result = CliRunner().invoke(main, ["all"])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "public" / "index.html").resolve()
    assert result.output.rstrip().splitlines()[-1] == f"site: open {index}"
    assert index.exists()


def test_plain_mkdocs_build_makes_the_same_site(small, tmp_path):
    """The kit's mkdocs plugin is installed as an entry point, so `mkdocs build` (and `serve`) of the
    generated docs gives the home page's overview and the function pages' search entries too."""
    import subprocess
    import sys

    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["docs_dir"] = str(small["docs"])
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(tmp_path / "mkdocs.yml"),
                           "-d", str(tmp_path / "public")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = {"out": tmp_path / "public"}
    assert counts_columns(page(again, "index.html")) == counts_columns(page(small, "index.html"))
    ours, theirs = (json.loads((site["out"] / "search" / "search_index.json").read_text())["docs"]
                    for site in (small, again))
    assert ours == theirs


def _primary_nav(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index('<nav class="md-nav md-nav--primary"')
    return re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", text[start:text.index("</nav>", start)]))


def test_compact_nav_is_the_html_material_writes(small, tmp_path):
    """The plugin's nav template, used on pages outside the nav, writes what material's own would."""
    text = (ROOT / "mkdocs.yml").read_text()
    config = tmp_path / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^  - specproof( .*)?$", "  - specproof:\n      compact_nav: false", text, count=1))
    run_mkdocs(config, small["docs"], tmp_path / "public")
    for built in ("generated/api/things/CloseThing.html", "generated/api/things/index.html",
                  "generated/findings.html", "index.html", "notes.html"):
        assert _primary_nav(small["out"] / built) == _primary_nav(tmp_path / "public" / built), built
    compact, materials = ((site / "generated/api/things/CloseThing.html").read_text(encoding="utf-8")
                          for site in (small["out"], tmp_path / "public"))
    entry = '<span class="md-ellipsis">Headers</span>'  # the compact template writes it on one line
    assert entry in compact and entry not in materials, "the function page's nav came from the compact template"


def test_generated_pages_are_left_out_of_the_search_parse(small):
    docs = json.loads((small["out"] / "search" / "search_index.json").read_text())["docs"]
    generated = {d["location"].partition("#")[0] for d in docs if d["location"].startswith(nav.GENERATED)}
    functions = {nav.function_page(f"{p.parent.name}/{p.stem}")[:-3] + ".html"
                 for p in iter_spec_files(small["specs"])}
    assert generated == functions, "only the function pages, with the entries written from the specs"
    assert any(d["location"] == "index.html" for d in docs), "hand-written pages are parsed as usual"


def test_a_configuration_without_the_plugin_is_refused(small, tmp_path):
    text = (ROOT / "mkdocs.yml").read_text()
    (tmp_path / "mkdocs.yml").write_text(re.sub(r"(?m)^  - specproof( .*)?\n", "", text))
    with pytest.raises(SiteBuildError, match="`specproof` plugin is not in its `plugins` list"):
        run_mkdocs(tmp_path / "mkdocs.yml", small["docs"], tmp_path / "public")


def test_only_generated_files_can_be_included(small, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(small["docs"], docs)
    (docs / "index.md").write_text("# Home\n\n<!-- specproof:include ../secrets.md -->\n")
    with pytest.raises(SiteBuildError, match=r"index.md: `specproof:include ../secrets.md` names a file outside"):
        run_mkdocs(ROOT / "mkdocs.yml", docs, tmp_path / "public")
    (docs / "index.md").write_text("# Home\n\n<!-- specproof:include generated/_nothing.md -->\n")
    with pytest.raises(SiteBuildError, match=r"cannot include generated/_nothing.md .*run `specproof site build`"):
        run_mkdocs(ROOT / "mkdocs.yml", docs, tmp_path / "public")


def test_nav_lists_only_the_entry_pages():
    """A nav listing every page grows the build with the square of the page count: entry pages only."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    targets = [next(iter(item.values())) for item in config["nav"]]
    assert set(nav.ENTRY_PAGES) <= set(targets)
    assert all(t in nav.ENTRY_PAGES or not t.startswith(nav.GENERATED) for t in targets)
    assert len(targets) <= 8
    assert config["theme"]["font"] is False, "no web fonts: the site builds and reads offline"
    assert not {"privacy", "social"} & {p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]}


def test_chart_text_is_escaped():
    from specproof.site.charts import outcome_bars

    svg = outcome_bars({"pass": 3, "fail": 1}, "impl <script>")
    assert "<script>" not in svg and "impl &lt;script&gt;" in svg
    assert svg.index(">pass<") < svg.index(">fail<"), "outcomes in the kit's order"


def test_an_interrupted_run_does_not_hide_the_complete_one(tmp_path: Path):
    specs, runs = write_input(tmp_path)
    partial = [_result("things/OpenThing", "success", "crash", ["R1"])]
    _run(runs / "alpha-cut", "alpha-cut", "alpha", "1.2", "2026-03-01T10:00:00+00:00", partial)
    meta = json.loads((runs / "alpha-cut" / "run.json").read_text())
    meta.update(finished=None, counts=None)  # the process was killed before it closed the run
    (runs / "alpha-cut" / "run.json").write_text(json.dumps(meta))
    docs, out = tmp_path / "docs", tmp_path / "public"
    docs.mkdir()
    shutil.copy(ROOT / "site" / "index.md", docs / "index.md")
    shutil.copy(ROOT / "site" / "about.md", docs / "about.md")
    result = CliRunner().invoke(main, ["site", "build", "--specs", str(specs), "--results", str(runs), "--docs",
                                       str(docs), "--out", str(out), "--config", str(ROOT / "mkdocs.yml")])
    assert result.exit_code == 0, result.output
    home = HTMLParser((out / "index.html").read_text(encoding="utf-8"))
    _, rows = table_rows(home, "table#sp-counts")
    versions = rows[0][1:]
    assert versions[0] == "1.1", "alpha's newest complete run stands for it, not the newer interrupted one"
    text = home.css_first("article").text(separator=" ")
    assert "a newer run did not finish" in text and "alpha-cut" in text and "not closed" in text
    runs_page = HTMLParser((out / "generated" / "runs.html").read_text(encoding="utf-8"))
    _, listed = table_rows(runs_page, "article table")
    assert {row[0]: row[4] for row in listed}["alpha-cut"] == "not finished"
    assert {row[0]: row[4] for row in listed}["alpha-new"] == "complete"


def test_serve_says_why_it_cannot_listen(tmp_path: Path):
    import socket

    (tmp_path / "index.html").write_text("<p>site</p>")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["site", "serve", "--no-build", "--out", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use; choose another --port" in result.output
    result = CliRunner().invoke(main, ["site", "serve", "--no-build", "--out", str(tmp_path), "--port", "99999"])
    assert result.exit_code == 2 and "99999 is not in the range" in result.output


def test_the_run_and_the_site_judge_a_value_by_one_rule():
    """An open family or a condition row stands for every value no other code names, in the run and on the site."""
    from specproof.adapter.codebook import CodeBook
    from specproof.site.code_cells import matches
    from specproof.site.findings import Observation
    from specproof.results import Observed

    spec = _spec("OpenThing", "things")
    spec.returns.codes.append(ReturnCode(family="NTSTATUS", open=True, clause="R2"))
    book = CodeBook(load_sdk=False)

    def seen(value: int) -> Observation:
        observed = Observed("OpenThing", value=f"0x{value:08X}")
        return Observation("alpha", observed, None, "call")  # type: ignore[arg-type]

    by_code = {c.name or c.family: c for c in spec.returns.codes}
    for value, code in ((0, "S_OK"), (0x80070006, "E_HANDLE"), (0xC0000022, "NTSTATUS")):
        assert book.documented(spec, value) is True
        assert [name for name, c in by_code.items() if matches(spec, c, seen(value))] == [code]
    spec.returns.codes.pop()
    assert book.documented(spec, 0xC0000022) is False
    assert not any(matches(spec, c, seen(0xC0000022)) for c in spec.returns.codes)


def test_the_implementations_page_says_how_each_run_reached_its_implementation(tmp_path):
    from specproof.results.records import RunMeta
    from specproof.site.load import Run
    from specproof.site.pages import reached_by

    remote = Run("r", tmp_path, RunMeta(run_id="r", adapter="service", impl="wine", implementation={
        "name": "service", "details": {"transport": "tcp", "endpoint": "tcp://127.0.0.1:9000"}}))
    local = Run("l", tmp_path, RunMeta(run_id="l", adapter="wine", impl="wine", implementation={"name": "wine"}))
    assert reached_by(remote) == "service over tcp to tcp://127.0.0.1:9000"
    assert reached_by(local) == "wine"


def test_home_counts_kernel_mode_tests_apart_and_says_how_each_runs_them(small):
    head, rows = table_rows(page(small, "index.html"), "table#sp-kernel-counts")
    columns = {impl: {row[0]: row[i] for row in rows} for i, impl in enumerate(head) if i}
    assert columns["alpha"]["not-applicable"] == "1" and columns["alpha"]["pass"] == "0"
    assert columns["beta"]["pass"] == "1" and columns["beta"]["total"] == "1"
    head, rows = table_rows(page(small, "generated/implementations.html"), "table")
    kernel = {row[0]: row[head.index("kernel mode")] for row in rows}
    assert kernel == {"alpha": "no", "beta": "routines that need no driver, in an ordinary process"}
