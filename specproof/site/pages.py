"""The generated pages, one writer per kind of page.

Each writer returns a page's markdown: headings, paragraphs and lists in
markdown (text through `escape`), tables and other structures as HTML
blocks (text through `html.h`); see `html` for why tables are HTML.
`other_files` and `function_files` give every page by its path under the
docs folder, the latter with the function pages' search entries (see
`search`); `generate` puts them together, in two processes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from markdown.extensions.toc import slugify

from ..derive.rules import rules_skipped
from ..outcomes import FAILING, OUTCOMES
from ..results import Observed, TestResult
from ..spec.model import Spec
from . import nav
from .charts import outcome_bars
from .code_cells import code_label, code_value, matches
from .compare import Diff, diffs, history_runs
from .escape import link, text
from .findings import Findings, Observation, api_index, findings, observations
from .html import a, badge, block, crumbs, cut, h, lines, para, table
from .load import Run, SiteData
from .search import function_entries

_DIAGNOSTICS = 400  # characters of a test's message or diagnostics shown in a results cell


def code_html(observed: Observed) -> str:
    """An observed value as a reader wants it: its symbolic name and its hex value (or the fault)."""
    if observed.fault and not observed.value:
        return f"<em>faulted: {h(observed.fault)}</em>"
    if observed.name and observed.value:
        shown = f"<code>{h(observed.name)} {h(observed.value)}</code>"
    else:
        shown = f"<code>{h(observed.value or observed.name or '?')}</code>"
    return shown + last_error_html(observed)


_SIGNALS = {
    "status": "by its return value, a status code (the codes above)",
    "value": "by a failure value of its return; the reason is the thread's last error",
    "error-code": "by returning the error code itself (ERROR_SUCCESS when it succeeds)",
    "none": "it reports no failure",
    "unknown": "the page does not say",
}


def failure_html(spec: Spec, source: str) -> str:
    """How the page says the function fails: its failure values and whether GetLastError gives the reason."""
    failure = spec.returns.failure

    def cite(clause: str | None) -> str:
        return f" ({a(source, f'#{nav.clause_anchor(clause)}', clause)})" if clause and spec.clause(clause) else ""

    parts = [f"<strong>How it fails:</strong> {h(_SIGNALS[failure.signal])}."]
    if failure.values:
        values = ", ".join(
            ("any nonzero value" if v.nonzero else f"<code>{h(v.name or '')}"
             + (f" 0x{v.value:X}" if v.value is not None else " (no value)") + "</code>") + cite(v.clause)
            for v in failure.values)
        parts.append(f"Failure values: {values}.")
    if failure.last_error is True:
        parts.append("The page says to call GetLastError for the reason" + cite(failure.last_error_clause) + ".")
    elif failure.last_error is False:
        parts.append("The page says the function gives no reason in the last error"
                     + cite(failure.last_error_clause) + ".")
    return '<p id="sp-failure">' + " ".join(parts) + "</p>"


def last_error_html(observed: Observed) -> str:
    """The last error the call set, by name and hex next to each other (`ERROR_INVALID_HANDLE 0x6`)."""
    if observed.last_error is None:
        return ""
    try:
        value = f"0x{int(observed.last_error, 16):X}"
    except ValueError:  # a results file written by other means: shown as it is
        value = observed.last_error
    named = f"{h(observed.last_error_name)} {h(value)}" if observed.last_error_name else h(value)
    return f' <span class="sp-lasterror">last error <code>{named}</code></span>'


def observed_html(result: TestResult) -> str:
    """Every value a test observed, naming the function when it is not the one under test."""
    parts = []
    for o in result.observed:
        who = "" if o.function == result.function and o.phase == "call" else (
            f"{h(o.function)} " + ("completion " if o.phase == "completion" else ""))
        mark = "" if o.documented is not False else " <em>undocumented</em>"
        parts.append(f"{who}{code_html(o)}{mark}")
    return "<br>".join(parts)


def diagnostics_html(result: TestResult) -> str:
    """The run's message and the diagnostics printed during the test, shortened, as small text."""
    seen: list[str] = list(result.diagnostics)
    for o in result.observed:
        seen.extend(d for d in o.diagnostics if d not in seen)
    parts = []
    if result.message:
        parts.append(h(cut(result.message, _DIAGNOSTICS)))
    if seen:
        parts.append(h(cut(" | ".join(seen), _DIAGNOSTICS)))
    return f'<div class="sp-diag">{"<br>".join(parts)}</div>' if parts else ""


def result_cell(result: TestResult | None, diagnostics: bool = True) -> str:
    """A test's outcome, what it observed and (unless shown elsewhere) its message and diagnostics."""
    if result is None:
        return "not run"
    seen = observed_html(result)
    return badge(result.outcome) + (f"<br>{seen}" if seen else "") + (diagnostics_html(result) if diagnostics else "")


def shared_diagnostics(results: list[TestResult]) -> str:
    """The message and diagnostics every one of these tests had, when there are several and they are the same
    (a function an implementation does not export says so in each test): shown once, not in every row."""
    texts = {diagnostics_html(r) for r in results}
    return texts.pop() if len(texts) == 1 and len(results) > 1 else ""


def short_time(stamp: str) -> str:
    """2026-11-21T12:23:18+00:00 -> 2026-11-21 12:23 UTC."""
    if len(stamp) >= 16 and stamp[10] == "T":
        zone = " UTC" if stamp.endswith(("+00:00", "Z")) else stamp[19:]
        return f"{stamp[:10]} {stamp[11:16]}{zone}"
    return stamp


def counts_line(counts: Counter[str]) -> str:
    total = sum(counts.values())
    if not total:
        return "no tests"
    return ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]) + f" (of {total})"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"




@dataclass
class Context:
    """What several writers share: the data, the findings and who links where."""

    data: SiteData
    impl_slugs: dict[str, str]
    run_slugs: dict[str, str]
    seen: dict[str, list[Observation]]
    findings: Findings
    diffs: list[Diff]
    history: list[Run]

    @property
    def runs(self) -> list[Run]:
        return [self.data.latest[i] for i in self.data.impls]

    def function_a(self, source: str, spec_key: str | None, case: str | None = None,
                   label: str | None = None) -> str:
        """A link to a function's page (at a test's row), or the plain name when there is no spec for it."""
        name = label or (spec_key or "?").rpartition("/")[2]
        if spec_key is None or spec_key not in self.data.specs:
            return h(name)
        return a(source, nav.function_page(spec_key) + (f"#{nav.test_anchor(case)}" if case else ""), name)

    def diff_path(self, d: Diff) -> str:
        return nav.diff_page(self.run_slugs[d.a.run_id], self.run_slugs[d.b.run_id])


def kernel_words(info: dict) -> str:
    """How an implementation runs kernel-mode routines, in the words of its run record."""
    if info.get("kernel_mode"):
        return "yes"
    if info.get("kernel_in_process"):
        return "routines that need no driver, in an ordinary process"
    return "no"


# -- home ------------------------------------------------------------------------------------------

def home_snippet(ctx: Context) -> str:
    """The generated part of the home page (index.md includes it): implementations, counts, charts, totals."""
    source = nav.HOME
    data = ctx.data
    present = [o for o in OUTCOMES if any(run.counts[o] for run in ctx.runs)]
    out = ["## Implementations\n\n"]
    if not ctx.runs:
        out.append("No runs were given: build with `specproof site build --results results/<run>`.\n")
    else:
        # one column per implementation, one row per outcome: outcomes are many, implementations few
        rows = [["version", *[h(run.version or "?") for run in ctx.runs]],
                ["platform", *[h(run.platform or "?") for run in ctx.runs]],
                ["ran", *[h(short_time(run.started)) for run in ctx.runs]]]
        rows += [[badge(o), *[str(run.counts[o]) for run in ctx.runs]] for o in present]
        rows.append(["total", *[str(sum(run.counts.values())) for run in ctx.runs]])
        head = ["implementation", *[a(source, nav.impl_page(ctx.impl_slugs[run.impl]), run.impl) for run in ctx.runs]]
        out.append(table(head, rows, name="sp-counts", head_markup=True))
        kernel = [Counter(r.outcome for r in run.results if r.mode == "kernel") for run in ctx.runs]
        if any(kernel):
            shown = [o for o in OUTCOMES if any(k[o] for k in kernel)]
            out.append("\n### Kernel-mode tests\n\n")
            out.append(para("Of the tests above, those of kernel-mode routines; an implementation without a "
                            "kernel runs the routines that need no driver around them, and the rest say what "
                            "they need (" + a(source, nav.IMPLEMENTATIONS, "kernel mode") + ")."))
            rows = [[badge(o), *[str(k[o]) for k in kernel]] for o in shown]
            rows.append(["total", *[str(sum(k.values())) for k in kernel]])
            out.append(table(head, rows, name="sp-kernel-counts", head_markup=True))
        out.append(para("Architectures, kernel mode and run details: "
                        + a(source, nav.IMPLEMENTATIONS, "Implementations") + "."))
        out.append("\nEach implementation's newest complete run; every test counts once, under its outcome "
                   f"([what the outcomes mean]({nav.rel(source, 'about.md')}#outcomes)).\n")
        for run in ctx.runs:
            newer = [r for r in data.runs if r.impl == run.impl and not r.complete
                     and (r.started, r.run_id) > (run.started, run.run_id)]
            if newer:
                out.append(f"\n{text(run.impl)}: a newer run did not finish and is not counted here: "
                           + ", ".join(f"{text(r.run_id)} ({plural(len(r.results), 'test')}, "
                                       f"{'interrupted' if r.meta.interrupted else 'not closed'})"
                                       for r in newer)
                           + f" ([Runs]({nav.rel(source, nav.RUNS)})).\n")
            elif not run.complete:
                out.append(f"\n{text(run.impl)}: its newest run, {text(run.run_id)}, did not finish "
                           f"({plural(len(run.results), 'test')}).\n")
        for run in ctx.runs:
            chart = nav.chart(ctx.impl_slugs[run.impl])
            out.append(f"\n![Outcomes of {text(run.impl)}]({nav.rel(source, chart)})\n")
    tests = len({r.id for run in ctx.runs for r in run.results})
    clauses = Counter(c.kind for spec in data.specs.values() for c in spec.clauses)
    headers = len({spec.path_key[0] for spec in data.specs.values()})
    codes = sum(len(spec.returns.codes) for spec in data.specs.values())
    out.append("\n## The spec set\n\n")
    out.append(table(["functions", "headers", "tests", "clauses", "return codes"],
                     [[str(len(data.specs)), str(headers), str(tests), str(sum(clauses.values())), str(codes)]],
                     name="sp-totals"))
    out.append(f"\nClauses: {clauses['normative']} normative, {clauses['obligation']} caller obligations, "
               f"{clauses['informative']} informative. "
               f"Browse the functions [by header]({nav.rel(source, nav.HEADERS)}).\n")
    f = ctx.findings
    target = nav.rel(source, nav.FINDINGS)
    out.append("\n## Where the docs look wrong\n\n")
    out.append(f"- [{plural(len(f.disagreements), 'clause')}]({target}#{_finding_anchor('disagreements')}) "
               "every implementation that ran departs from\n")
    out.append(f"- [{plural(len(f.undocumented), 'return value')}]({target}#{_finding_anchor('undocumented')}) "
               "the docs do not list\n")
    out.append(f"- [{plural(len(f.stale), 'curated case')}]({target}#{_finding_anchor('stale')}) "
               "written for clauses whose text has since changed\n")
    out.append(f"- [{plural(len(f.unresolved), 'code')}]({target}#{_finding_anchor('unresolved')}) "
               "named by the docs that no SDK header defines\n")
    return "".join(out)


# -- headers -----------------------------------------------------------------------------------------

def _impl_summary(results: Iterable[TestResult]) -> str:
    """A compact per-implementation cell: passes out of all, then what departed."""
    counts = Counter(r.outcome for r in results)
    total = sum(counts.values())
    if not total:
        return "—"
    bad = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if o in FAILING and counts[o])
    return h(f"{counts['pass']}/{total} pass" + (f" ({bad})" if bad else ""))


def headers_page(ctx: Context, by_header: dict[str, list[str]]) -> str:
    source = nav.HEADERS
    out = [crumbs(source, nav.HOME, ("Headers", None)), "\n# Headers\n\n",
           f"{plural(len(by_header), 'header')}, {plural(len(ctx.data.specs), 'function')}; "
           "results from each implementation's newest run.\n\n"]
    rows = []
    for stem, keys in by_header.items():
        specs = [ctx.data.specs[k] for k in keys]
        row = [a(source, nav.header_index(stem), specs[0].header), str(len(keys)),
               str(sum(len(s.clauses) for s in specs))]
        for run in ctx.runs:
            grouped = ctx.data.results_by_spec(run)
            row.append(_impl_summary(r for k in keys for r in grouped.get(k, ())))
        rows.append(row)
    out.append(table(["header", "functions", "clauses", *[run.impl for run in ctx.runs]], rows))
    return "".join(out)


def header_page(ctx: Context, stem: str, keys: list[str]) -> str:
    source = nav.header_index(stem)
    header = ctx.data.specs[keys[0]].header
    out = [crumbs(source, nav.HOME, ("Headers", nav.HEADERS), (header, None)),
           f"\n# {text(header)}\n\n"]
    rows = []
    for key in keys:
        spec = ctx.data.specs[key]
        row = [a(source, nav.function_page(key), spec.api), h(cut(" ".join(spec.summary.split()), 160)),
               h(spec.mode)]
        for run in ctx.runs:
            row.append(_impl_summary(ctx.data.results_by_spec(run).get(key, ())))
        rows.append(row)
    out.append(table(["function", "summary", "mode", *[run.impl for run in ctx.runs]], rows))
    return "".join(out)


# -- function ------------------------------------------------------------------------------------------

def source_url(spec: Spec) -> str | None:
    """The rendered reference page the spec was read from, on learn.microsoft.com."""
    uid = spec.source.uid or ""
    prefix, _, rest = uid.partition(":")
    folder, _, name = rest.partition(".")
    if not folder or not name or not prefix:
        return None
    page = f"{prefix.lower()}-{folder.lower()}-{name.lower()}"
    if not all(c.isalnum() or c in "-_." for c in page):
        return None
    if spec.source.format == "wdk-ddi":
        return f"https://learn.microsoft.com/windows-hardware/drivers/ddi/{folder.lower()}/{page}"
    return f"https://learn.microsoft.com/windows/win32/api/{folder.lower()}/{page}"


def signature(spec: Spec) -> str:
    params = spec.signature.params
    shown = [f"{spec.signature.returns or '?'} {spec.api}("]
    for i, p in enumerate(params):
        annotation = f"{p.annotation} " if p.annotation else ""
        shown.append(f"  {annotation}{p.type or '?'} {p.name}{',' if i < len(params) - 1 else ''}")
    shown.append(");")
    if not params:
        shown = [f"{spec.signature.returns or '?'} {spec.api}(void);"]
    return '<pre class="sp-sig"><code>' + "\n".join(h(line) for line in shown) + "</code></pre>"


#: The findings page's sections; the home page links to each.
FINDINGS_SECTIONS = {"disagreements": "Clauses every implementation departs from",
                     "undocumented": "Return values the docs do not list",
                     "stale": "Cases written for text that has changed",
                     "unresolved": "Codes no SDK header defines"}


def _finding_anchor(section: str) -> str:
    """The id Python-Markdown's toc gives the section's heading (what mkdocs validates links against)."""
    return slugify(FINDINGS_SECTIONS[section], "-")


_SECTIONS = (("results", "Results"), ("return-codes", "Return codes"), ("clauses", "Clauses"),
             ("parameters", "Parameters"), ("history", "History"))


def function_page(ctx: Context, key: str, spec: Spec) -> str:
    """A function's page: the doc's summary, signature, results, codes, clauses, parameters and history.

    Markdown gives only the title; the body is one HTML block. Ten thousand of these pages are built, and
    every markdown heading, paragraph or table on them cost Python-Markdown and the theme's table of
    contents time per page (`benchmarks/site`); the sections are linked from a line at the top instead.
    """
    source = nav.function_page(key)
    trail = crumbs(source, nav.HOME, ("Headers", nav.HEADERS), (spec.header, nav.header_index(spec.path_key[0])),
                   (spec.api, None))
    body = [f"<p>{lines(part)}</p>" for part in spec.summary.split("\n\n") if part.strip()]
    url = source_url(spec)
    facts = [f'<a href="{h(url)}">{h(spec.source.format)} reference page</a>' if url else
             f"read from {h(spec.source.file)} ({h(spec.source.format)})"]
    if spec.source.date:
        facts.append(f"dated {h(spec.source.date)}")
    facts.append(f"{h(spec.mode)} mode")
    for label, value in (("library", spec.library), ("DLL", spec.dll)):
        if value:
            facts.append(f"{label} {h(value)}")
    body.append("<p>Source: " + " · ".join(facts) + "</p>")
    if spec.source.problems:
        body.append("<p>Read with problems (the page departs from its format here):</p><ul>"
                    + "".join(f"<li>{h(problem)}</li>" for problem in spec.source.problems) + "</ul>")
    body.append(signature(spec))
    history = bool(ctx.history)
    body.append('<p class="sp-toc">On this page: ' + " · ".join(
        f'<a href="#{anchor}">{title}</a>' for anchor, title in _SECTIONS if anchor != "history" or history) + "</p>")

    # results: one row per test, one column per implementation
    results = {run.impl: {r.case: r for r in ctx.data.results_by_spec(run).get(key, ())} for run in ctx.runs}
    first: dict[str, TestResult] = {}
    for run in ctx.runs:
        for case, result in results[run.impl].items():
            first.setdefault(case, result)
    cases = list(first)
    body.append('<h2 id="results">Results</h2>')
    if not ctx.runs:
        body.append("<p>No runs were given.</p>")
    elif not cases and rules_skipped(spec):
        body.append(f"<p>No call tests: {h(rules_skipped(spec))}.</p>")
    elif not cases:
        body.append("<p>No implementation ran a test of this function.</p>")
    else:
        shared = {run.impl: shared_diagnostics(list(results[run.impl].values())) for run in ctx.runs}
        body.append("<ul>" + "".join(
            f"<li>{h(run.impl)}: {h(counts_line(Counter(r.outcome for r in results[run.impl].values())))}"
            + (f", every test saying:{shared[run.impl]}" if shared[run.impl] else "") + "</li>"
            for run in ctx.runs) + "</ul>")
        rows = []
        for case in cases:
            covers = " ".join(a(source, f"#{nav.clause_anchor(c)}", c) if spec.clause(c) else h(c)
                              for c in first[case].clauses)
            rows.append([h(case), h(first[case].level), covers or "—", h(cut(first[case].expected, 200)),
                         *[result_cell(results[run.impl].get(case), not shared[run.impl]) for run in ctx.runs]])
        body.append(table(["test", "level", "covers", "expected", *[run.impl for run in ctx.runs]], rows,
                          ids=[nav.test_anchor(c) for c in cases], name="sp-results", bare=True))

    # return codes, documented and observed
    seen = ctx.seen.get(key, [])
    body.append('<h2 id="return-codes">Return codes</h2>')
    if spec.returns.codes:
        rows = []
        for code in spec.returns.codes:
            notes = ["success" if code.success else "", "" if code.phase == "call" else f"at {code.phase}",
                     f"via {code.reported_by}" if code.reported_by else "", code.note or ""]
            clause = (a(source, f"#{nav.clause_anchor(code.clause)}", code.clause)
                      if code.clause and spec.clause(code.clause) else h(code.clause or ""))
            hits = [f"{run.impl} {n}" for run in ctx.runs
                    if (n := sum(1 for o in seen if o.impl == run.impl and matches(spec, code, o)))]
            rows.append([h(code_label(code)), h(code_value(code)), h(", ".join(n for n in notes if n)), clause,
                         h(", ".join(hits))])
        body.append(f"<p>Shape: {h(spec.returns.shape)}.</p>")
        body.append(table(["code", "value", "notes", "clause", "returned (tests)"], rows, name="sp-codes",
                          bare=True))
    else:
        body.append(f"<p>The docs list no return codes (shape: {h(spec.returns.shape)}).</p>")
    if ctx.runs:
        never = [c for c in spec.returns.codes if c.name and not any(matches(spec, c, o) for o in seen)]
        body.append('<p id="never-observed"><strong>Documented, never observed:</strong> ' + (", ".join(
            h(f"{c.name} {code_value(c)}".strip()) for c in never) or "none") + "</p>")
        undocumented: dict[tuple[str, str], dict[str, list[TestResult]]] = {}
        for o in seen:
            if o.observed.documented is False:
                tests = undocumented.setdefault((o.observed.value or "?", o.observed.name or ""), {}) \
                    .setdefault(o.impl, [])
                if all(o.result is not r for r in tests):
                    tests.append(o.result)
        if undocumented:
            items = []
            for (value, name), by_impl in sorted(undocumented.items()):
                where = "; ".join(f"{h(impl)} in " + ", ".join(
                    ctx.function_a(source, r.spec, r.case, r.case) for r in tests) for impl, tests in by_impl.items())
                items.append(f"<li><code>{h(name)} {h(value)}</code>: {where}</li>")
            body.append('<p id="never-documented"><strong>Observed, never documented:</strong></p><ul>'
                        + "".join(items) + "</ul>")
        else:
            body.append('<p id="never-documented"><strong>Observed, never documented:</strong> none</p>')
    body.append(failure_html(spec, source))

    # clauses and the tests that cover them
    covering: dict[str, list[str]] = {}
    for case in cases:
        for clause_id in first[case].clauses:
            covering.setdefault(clause_id, []).append(case)
    if not ctx.runs:
        for curated in spec.cases:
            for clause_id in curated.covers:
                covering.setdefault(clause_id, []).append(curated.id)
    body.append('<h2 id="clauses">Clauses</h2>')
    if spec.clauses:
        stale = {c: curated.id for curated in spec.cases for c in curated.stale}
        rows = []
        for clause in spec.clauses:
            tests = covering.get(clause.id, [])
            if tests:
                cover = ", ".join(a(source, f"#{nav.test_anchor(t)}", t) for t in tests)
            elif clause.kind == "obligation":
                cover = "not testable: the caller's obligation"
            elif clause.kind == "informative":
                cover = "not testable: informative"
            else:
                cover = "<em>not covered by any test</em>"
            if clause.id in stale:
                cover += f"<br><em>case {h(stale[clause.id])} is stale: the text changed since it was written</em>"
            rows.append([h(clause.id), h(clause.kind), lines(clause.text), cover])
        body.append(table(["clause", "kind", "text", "covered by"], rows,
                          ids=[nav.clause_anchor(c.id) for c in spec.clauses], name="sp-clauses", bare=True))
    else:
        body.append("<p>The page's returns and remarks sections gave no clauses.</p>")

    body.append('<h2 id="parameters">Parameters</h2>')
    if spec.signature.params:
        rows = [[h(p.name), h(p.type or "?"), h((p.annotation or p.direction or "not given")
                                               + (" optional" if p.optional else "")), lines(p.doc)]
                for p in spec.signature.params]
        body.append(table(["parameter", "type", "direction", "description"], rows, name="sp-params", bare=True))
    else:
        body.append("<p>None.</p>")

    if history:
        runs = ctx.history
        per_run = [{r.case: r for r in ctx.data.results_by_spec(run).get(key, ())} for run in runs]
        body.append('<h2 id="history">History</h2>')
        body.append(f"<p>Each test's outcome in the newest {len(runs)} runs, oldest first "
                    f"({a(source, nav.RUNS, 'all runs')}).</p>")
        if cases:
            rows = [[h(case), *[badge(p[case].outcome) if case in p else "—" for p in per_run]] for case in cases]
            body.append(table(["test", *[run.title for run in runs]], rows, name="sp-history", bare=True))
    return trail + f"\n# {text(spec.api)}\n\n" + block("\n".join(body))


# -- findings --------------------------------------------------------------------------------------------

def findings_page(ctx: Context) -> str:
    source = nav.FINDINGS
    f = ctx.findings
    out = [crumbs(source, nav.HOME, ("Findings", None)), "\n# Findings\n\n",
           "Where the docs look wrong or incomplete, judged from the newest run of each implementation "
           f"({', '.join(text(i) for i in ctx.data.impls) or 'none'}).\n\n"]

    out.append(f"## {FINDINGS_SECTIONS['disagreements']}\n\n")
    out.append("Every implementation that ran a test of the clause departed from it in at least one test. "
               "When implementations agree with each other but not with the docs, the docs are the likelier "
               "culprit. The column *ran* says how many implementations ran the clause's tests: one is weak "
               "evidence.\n\n")
    if f.disagreements:
        rows = []
        for d in f.disagreements:
            departures = "<br>".join(
                f"{h(impl)}: " + ", ".join(
                    f"{ctx.function_a(source, r.spec, r.case, r.case)} ({h(r.outcome)}"
                    + (f": {code_html(r.observed[-1])}" if r.observed else "") + ")" for r in tests)
                for impl, tests in d.departing.items())
            rows.append([ctx.function_a(source, d.spec_key), h(d.clause.id), lines(d.clause.text, 400),
                         f"{len(d.ran)} of {len(ctx.data.impls)}", departures])
        out.append(table(["function", "clause", "text", "ran", "departing tests"], rows, name="sp-findings") + "\n")
    else:
        out.append("None.\n\n")

    out.append(f"## {FINDINGS_SECTIONS['undocumented']}\n\n")
    out.append("Values a function returned that are not among its documented codes. A value every "
               "implementation returns is likely missing from the docs.\n\n")
    if f.undocumented:
        rows = []
        for u in f.undocumented:
            who = "<br>".join(f"{h(impl)}: " + ", ".join(ctx.function_a(source, r.spec, r.case, r.case)
                                                         for r in tests)
                              for impl, tests in u.returned_by.items())
            everyone = "yes" if u.ran and set(u.returned_by) == set(u.ran) else "no"
            rows.append([ctx.function_a(source, u.spec_key, label=u.function), f"<code>{h(u.name or '?')}</code>",
                         f"<code>{h(u.value)}</code>", h(u.phase), who, everyone])
        out.append(table(["function", "code", "value", "phase", "returned in", "by every implementation that ran"],
                         rows) + "\n")
    else:
        out.append("None.\n\n")

    out.append(f"## {FINDINGS_SECTIONS['stale']}\n\n")
    out.append("Curated cases covering a clause whose text changed when the page was read again "
               "(`stale` in the spec): an editor should check that the case still tests what the docs say.\n\n")
    if f.stale:
        rows = []
        for s in f.stale:
            changed = "<br>".join(f"{h(c.id)}: {lines(c.text, 300)}" if not isinstance(c, str)
                                  else f"{h(c)}: (no longer in the spec)" for c in s.clauses)
            rows.append([ctx.function_a(source, s.spec_key), h(s.case.id), changed])
        out.append(table(["function", "case", "changed clauses (current text)"], rows) + "\n")
    else:
        out.append("None.\n\n")

    out.append(f"## {FINDINGS_SECTIONS['unresolved']}\n\n")
    out.append("Codes the docs name whose value neither the page nor the SDK headers give: "
               "perhaps a misspelling in the docs.\n\n")
    if f.unresolved:
        rows = [[ctx.function_a(source, u.spec_key), h(u.code.name or u.code.family or "?"), h(u.code.clause or "")]
                for u in f.unresolved]
        out.append(table(["function", "code", "clause"], rows) + "\n")
    else:
        out.append("None.\n")
    return "".join(out)


# -- implementations ---------------------------------------------------------------------------------------

def implementations_page(ctx: Context) -> str:
    source = nav.IMPLEMENTATIONS
    out = [crumbs(source, nav.HOME, ("Implementations", None)),
           "\n# Implementations\n\n"]
    if not ctx.runs:
        return "".join(out) + "No runs were given.\n"
    rows = []
    for run in ctx.runs:
        info = run.info
        rows.append([a(source, nav.impl_page(ctx.impl_slugs[run.impl]), run.impl), h(run.version or "?"),
                     h(run.platform or "?"), h(info.get("architecture") or "?"),
                     h(kernel_words(info)), h(reached_by(run)), h(short_time(run.started)),
                     h(counts_line(run.counts))])
    out.append(table(["implementation", "version", "platform", "architecture", "kernel mode", "reached by", "ran",
                      "outcomes"], rows))
    return "".join(out)


def reached_by(run: Run) -> str:
    """Where the run went: the adapter, and for a remote one its transport and endpoint (`service over tcp to
    tcp://10.0.0.5:9000`)."""
    details = run.info.get("details") or {}
    transport, endpoint = details.get("transport"), details.get("endpoint")
    if not transport:
        return run.meta.adapter or "?"
    return f"{run.meta.adapter} over {transport}" + (f" to {endpoint}" if endpoint else "")


def _note(kind: str, title: str, message: str) -> str:
    """An admonition box, styled by mkdocs-material, without the admonition extension on every page."""
    return block(f'<div class="admonition {kind}"><p class="admonition-title">{h(title)}</p>'
                 f"<p>{h(message)}</p></div>")


def impl_page(ctx: Context, run: Run, specs_digest: str | None) -> str:
    impl_slug = ctx.impl_slugs[run.impl]
    source = nav.impl_page(impl_slug)
    info = run.info
    out = [crumbs(source, nav.HOME, ("Implementations", nav.IMPLEMENTATIONS), (run.impl, None)),
           f"\n# {text(run.impl)}\n\n"]
    facts = [("name", info.get("name")), ("version", info.get("version")), ("platform", info.get("platform")),
             ("architecture", info.get("architecture")),
             ("kernel mode", kernel_words(info)), ("adapter", run.meta.adapter),
             ("run", run.run_id), ("started", short_time(run.started)), ("finished", short_time(run.finished)),
             ("expectations", run.meta.expectations), ("kit version", run.meta.kit_version)]
    facts += [(str(k), v) for k, v in sorted((info.get("details") or {}).items())]
    out.append(table(["", ""], [[h(k), h(v)] for k, v in facts if v not in (None, "")]) + "\n")
    if not run.complete:
        out.append(_note("warning", "Incomplete run", "The run was interrupted or did not finish, or its recorded "
                         "counts differ from its result lines; the counts here are from the lines.") + "\n")
    if specs_digest and run.meta.specs_digest and run.meta.specs_digest != specs_digest:
        out.append(_note("note", "Different spec set", "This run checked another version of the specs than "
                         "the one this site shows; tests may have changed since.") + "\n")
    counts = run.counts
    out.append("## Outcomes\n\n")
    out.append(f"![Outcomes of {text(run.impl)}]({nav.rel(source, nav.chart(impl_slug))})\n\n")
    rows = [[badge(o), a(source, nav.impl_outcome_page(impl_slug, o), plural(counts[o], "test")) if o != "pass"
             else h(plural(counts[o], "test"))] for o in OUTCOMES if counts[o]]
    out.append(table(["outcome", "tests"], rows) + "\n")
    out.append("Every outcome but pass links to its tests, grouped by header.\n\n")
    others = [d for d in ctx.diffs if run in (d.a, d.b)]
    if others:
        out.append("## Compared with\n\n")
        for d in others:
            other = d.b if d.a is run else d.a
            out.append(f"- {link(other.title, nav.rel(source, ctx.diff_path(d)))}: "
                       f"{plural(len(d.changes), 'change')}\n")
    return "".join(out)


def impl_outcome_page(ctx: Context, run: Run, outcome: str, results: list[TestResult]) -> str:
    impl_slug = ctx.impl_slugs[run.impl]
    source = nav.impl_outcome_page(impl_slug, outcome)
    out = [crumbs(source, nav.HOME, ("Implementations", nav.IMPLEMENTATIONS), (run.impl, nav.impl_page(impl_slug)),
                      (outcome, None)),
           f"\n# {text(run.impl)}: {text(outcome)}\n\n{plural(len(results), 'test')} of {text(run.title)}.\n\n"]
    by_header: dict[str, list[TestResult]] = {}
    for result in sorted(results, key=lambda r: (r.spec, r.case)):
        by_header.setdefault(result.spec.partition("/")[0], []).append(result)
    for stem, group in sorted(by_header.items()):
        header = next((s.header for r in group if (s := ctx.data.specs.get(r.spec))), stem)
        out.append(f"## {text(header)}\n\n")
        rows = [[ctx.function_a(source, r.spec, r.case, r.function), h(r.case), h(r.level), h(cut(r.expected, 120)),
                 (observed_html(r) or "—") + diagnostics_html(r)] for r in group]
        out.append(table(["function", "test", "level", "expected", "observed"], rows) + "\n")
    return "".join(out)


# -- runs and diffs ----------------------------------------------------------------------------------------

def runs_page(ctx: Context, specs_digest: str | None) -> str:
    source = nav.RUNS
    out = [crumbs(source, nav.HOME, ("Runs", None)), "\n# Runs\n\n"]
    if not ctx.data.runs:
        return "".join(out) + "No runs were given.\n"
    rows = []
    for run in reversed(ctx.data.runs):
        same = run.meta.specs_digest == specs_digest if specs_digest else None
        state = ("complete" if run.complete else "interrupted" if run.meta.interrupted
                 else "not finished" if not run.finished else "counts differ from its lines")
        rows.append([h(run.run_id), a(source, nav.impl_page(ctx.impl_slugs[run.impl]), run.impl), h(run.version),
                     h(short_time(run.started)), h(state), h(counts_line(run.counts)),
                     "yes" if same else ("no" if same is False else "?")])
    out.append(table(["run", "implementation", "version", "started", "state", "outcomes", "checked these specs"],
                     rows))
    out.append("\n## Diffs\n\n")
    if ctx.diffs:
        for d in ctx.diffs:
            what = "the previous run" if d.kind == "runs" else "another implementation"
            out.append(f"- {link(f'{d.a.title} → {d.b.title}', nav.rel(source, ctx.diff_path(d)))} "
                       f"({what}): {plural(len(d.changes), 'change')}\n")
    else:
        out.append("One run: nothing to compare.\n")
    out.append("\n## History\n\n")
    if ctx.history:
        out.append(f"Each function's page ends with its tests' outcomes in the newest {len(ctx.history)} runs.\n")
    else:
        out.append("Each implementation has one run here, so function pages show no history; build with "
                   "`--results` naming more runs to see one.\n")
    return "".join(out)


def diff_page(ctx: Context, d: Diff) -> str:
    source = ctx.diff_path(d)
    title = f"{d.a.title} → {d.b.title}"
    out = [crumbs(source, nav.HOME, ("Runs", nav.RUNS), (title, None)),
           f"\n# {text(d.a.impl)} → {text(d.b.impl)}\n\n",
           f"Runs {text(d.a.run_id)} ({text(short_time(d.a.started))}) and {text(d.b.run_id)} "
           f"({text(short_time(d.b.started))}), changes only: a different outcome, a different observed value, "
           "or a test only one of them ran.\n\n"]
    if not d.changes:
        return "".join(out) + "No changes.\n"
    moved = Counter((c.before.outcome if c.before else "not run", c.after.outcome if c.after else "not run")
                    for c in d.changes)
    out.append(table(["before", "after", "tests"],
                     [[h(x), h(y), str(n)] for (x, y), n in sorted(moved.items(), key=lambda i: (-i[1], i[0]))])
               + "\n")
    by_header: dict[str, list] = {}
    for change in d.changes:
        by_header.setdefault(change.spec_key.partition("/")[0], []).append(change)
    for stem, changes in sorted(by_header.items()):
        out.append(f"## {text(stem)}\n\n")
        rows = [[ctx.function_a(source, c.spec_key, c.case), h(c.case), result_cell(c.before), result_cell(c.after)]
                for c in changes]
        out.append(table(["function", "test", d.a.title, d.b.title], rows) + "\n")
    return "".join(out)


# -- all of them -----------------------------------------------------------------------------------------

def context(data: SiteData) -> Context:
    """What the writers share, computed once: observations, findings, diffs, history."""
    seen = observations(data, api_index(data.specs))
    ctx = Context(data, nav.unique_slugs(data.impls), nav.unique_slugs([r.run_id for r in data.runs]), seen,
                  findings(data, seen), diffs(data), history_runs(data))
    for run in data.runs:  # fill the cache here, before any worker is forked, so no process redoes it
        data.results_by_spec(run)
    return ctx


def by_header(data: SiteData) -> dict[str, list[str]]:
    """Spec keys grouped by header, in the order the pages list them."""
    grouped: dict[str, list[str]] = {}
    for key in sorted(data.specs, key=lambda k: (k.partition("/")[0], k.partition("/")[2].lower())):
        grouped.setdefault(key.partition("/")[0], []).append(key)
    return grouped


def function_files(ctx: Context, keys: Iterable[str]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The pages of these functions by path, and their search entries in the same order."""
    files: dict[str, str] = {}
    entries: list[dict[str, str]] = []
    for key in keys:
        spec = ctx.data.specs[key]
        path = nav.function_page(key)
        files[path] = function_page(ctx, key, spec)
        entries.extend(function_entries(spec, path))
    return files, entries


def other_files(ctx: Context, grouped: dict[str, list[str]], specs_digest: str | None) -> dict[str, str]:
    """Every generated file but the function pages and the search entries (home, indexes, findings, charts...)."""
    pages = {nav.HOME_SNIPPET: home_snippet(ctx), nav.FINDINGS: findings_page(ctx),
             nav.IMPLEMENTATIONS: implementations_page(ctx), nav.RUNS: runs_page(ctx, specs_digest),
             nav.HEADERS: headers_page(ctx, grouped)}
    for stem, keys in grouped.items():
        pages[nav.header_index(stem)] = header_page(ctx, stem, keys)
    for run in ctx.runs:
        impl_slug = ctx.impl_slugs[run.impl]
        pages[nav.impl_page(impl_slug)] = impl_page(ctx, run, specs_digest)
        pages[nav.chart(impl_slug)] = outcome_bars(run.counts, f"{run.impl} {run.version}".strip())
        outcomes: dict[str, list[TestResult]] = {}
        for result in run.results:
            if result.outcome != "pass":
                outcomes.setdefault(result.outcome, []).append(result)
        for outcome, results in outcomes.items():
            pages[nav.impl_outcome_page(impl_slug, outcome)] = impl_outcome_page(ctx, run, outcome, results)
    for d in ctx.diffs:
        pages[ctx.diff_path(d)] = diff_page(ctx, d)
    return pages
