"""The `specproof` command line: one command per pipeline step, and `all`."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__

DEFAULT_SUITES = Path("conformance")
DEFAULT_SPECS = Path("specs")
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="specproof")
def main() -> None:
    """specproof: API reference pages in, YAML specs, conformance suites and a compliance site out."""


def _progress_factory():
    if not err.is_terminal:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("reading pages"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True)

    def factory(total: int):
        progress.start()
        task = progress.add_task("read", total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)
            if progress.tasks[task].completed >= total:
                progress.stop()

        return advance

    return factory


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SPECS,
              show_default=True, help="Folder the specs are written to (specs/<header>/<Function>.yaml).")
@click.option("--sdk-include", "sdk_include", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="An SDK include folder to resolve code values and prototypes from (repeatable). "
                   "Default: $SPECPROOF_SDK_INCLUDE or the mingw-w64 headers.")
@click.option("--no-sdk", is_flag=True, help="Do not use SDK headers: values come from the pages only.")
@click.option("--jobs", "-j", type=int, default=None, help="Worker processes (default: one per core).")
@click.option("--force", is_flag=True,
              help="Read every page, even one the page cache has, and replace specs even when they come "
                   "from a newer page.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Neither use nor update the page cache (kept in $SPECPROOF_CACHE or ~/.cache/specproof).")
def ingest(paths: tuple[Path, ...], out: Path, sdk_include: tuple[str, ...], no_sdk: bool, jobs: int | None,
           force: bool, no_cache: bool) -> None:
    """Read reference pages (files or whole folders) and write one spec per function.

    A page read before, unchanged, whose spec file is unchanged too, is not read again: its
    result comes from the page cache.
    """
    from .ingest import ingest as run_ingest

    include = () if no_sdk else (sdk_include or None)
    report = run_ingest(list(paths), out, workers=jobs, include_dirs=include, force=force,
                        progress_factory=_progress_factory(), cache=not no_cache)
    if report.sdk_note:
        err.print(f"[yellow]note:[/] {report.sdk_note}")
    table = Table(title=f"ingest into {out}", show_header=False)
    table.add_row("pages read", str(report.read - report.cached))
    table.add_row("from the cache (page and spec unchanged)", str(report.cached))
    table.add_row("specs written", str(len(report.written)))
    table.add_row("specs unchanged", str(report.unchanged))
    table.add_row("skipped (not function pages)", str(len(report.skipped)))
    table.add_row("superseded (another page of the same function won)", str(len(report.superseded)))
    table.add_row("kept (the spec comes from a newer page)", str(len(report.kept_newer)))
    table.add_row("failed", str(len(report.failed)))
    console.print(table)
    reasons = Counter(reason for _, reason in report.skipped)
    for reason, count in reasons.most_common(5):
        console.print(f"  skipped {count}: {reason}" if count > 1 else f"  skipped: {reason}")
    for file, newer in report.kept_newer:
        console.print(f"  kept {newer}: {file} is older than the page it was read from (use --force to replace)")
    for target, case_id, clause_ids in report.stale:
        console.print(f"[yellow]stale[/] {target}: case {case_id} covers changed clause(s) {', '.join(clause_ids)}")
    for file, reason in report.failed:
        err.print(f"[red]failed[/] {file}: {reason}")
    if report.failed:
        sys.exit(1)


@main.command()
@click.argument("root", required=False, type=click.Path(exists=True, path_type=Path), default=DEFAULT_SPECS)
@click.option("--strict", is_flag=True, help="Warnings count as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print problems only, no summary line.")
def lint(root: Path, strict: bool, quiet: bool) -> None:
    """Validate specs against the schema and check their meaning."""
    from .spec.lint import lint as run_lint

    result = run_lint(root)
    for problem in result.problems:
        console.print(str(problem), markup=False)
    if not quiet:
        console.print(f"{result.files} spec files: {result.errors} errors, {result.warnings} warnings")
    if result.errors or (strict and result.warnings):
        sys.exit(1)


@main.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SPECS)
def schema(folder: Path) -> None:
    """Write FOLDER/schema.json, the JSON Schema of spec files, from the model."""
    from .spec.schema import write_schema

    folder.mkdir(parents=True, exist_ok=True)
    console.print(str(write_schema(folder)))


def print_summary(specs) -> None:
    """A short account of a spec set: what functions, which codes, how many clauses."""
    headers = Counter(s.header for s in specs)
    modes = Counter(s.mode for s in specs)
    formats = Counter(s.source.format for s in specs)
    codes = [c for s in specs for c in s.returns.codes]
    kinds = Counter(c.kind for s in specs for c in s.clauses)
    table = Table(title="specs", show_header=True)
    table.add_column("header")
    table.add_column("functions", justify="right")
    table.add_column("user", justify="right")
    table.add_column("kernel", justify="right")
    table.add_column("codes", justify="right")
    table.add_column("clauses", justify="right")
    table.add_column("cases", justify="right")
    for header in sorted(headers):
        group = [s for s in specs if s.header == header]
        table.add_row(header, str(len(group)), str(sum(s.mode == "user" for s in group)),
                      str(sum(s.mode == "kernel" for s in group)),
                      str(sum(len(s.returns.codes) for s in group)), str(sum(len(s.clauses) for s in group)),
                      str(sum(len(s.cases) for s in group)))
    console.print(table)
    console.print(
        f"{len(specs)} functions ({modes['user']} user-mode, {modes['kernel']} kernel-mode) from "
        + ", ".join(f"{n} {f}" for f, n in sorted(formats.items()))
        + f"; {len(codes)} return codes ({sum(1 for c in codes if c.family)} families, "
        f"{sum(1 for c in codes if c.unresolved)} unresolved, {sum(1 for c in codes if c.origin == 'prose')} from prose); "
        f"{sum(kinds.values())} clauses ({kinds['normative']} normative, {kinds['obligation']} caller obligations, "
        f"{kinds['informative']} informative); {sum(len(s.cases) for s in specs)} curated cases"
    )


@main.command()
@click.argument("root", required=False, type=click.Path(exists=True, path_type=Path), default=DEFAULT_SPECS)
def specs(root: Path) -> None:
    """Summarise a spec set (after validating it)."""
    from .spec.lint import lint as run_lint

    result = run_lint(root)
    print_summary(result.specs)
    if result.errors:
        err.print(f"[red]{result.errors} spec errors[/]: run `specproof lint {root}`")
        sys.exit(1)


@main.command()
@click.option("--specs", "root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=DEFAULT_SPECS,
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SUITES, show_default=True)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the suites differ from what the specs give.")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The fixture catalog (default: OUT/fixtures/catalog.yaml).")
def generate(root: Path, out: Path, check: bool, catalog: Path | None) -> None:
    """Generate the pytest suites (one module per header) from the specs.

    Specs lint rejects are left out and reported as lint reports them; the exit status is then 1.
    """
    if not _generate(root, out, check, catalog):
        sys.exit(1)


def _generate(root: Path, out: Path, check: bool, catalog: Path | None = None) -> bool:
    from .generate import GenerateError, plan, write

    try:
        result = plan(root, out, catalog)
    except (GenerateError, ValueError) as error:
        err.print(str(error), markup=False)
        sys.exit(2)
    for problem in result.rejected:
        err.print(problem, markup=False)
    if result.rejected:
        err.print(f"[red]{len(result.rejected)} errors[/]: the specs with them are left out of the suites; "
                  f"fix them (see `specproof lint {root}`) and generate again")
    summary = f"{result.functions} specs, {len(result.files) // 2} headers ({len(result.files)} files), {result.tests} tests"
    if check:
        for path in result.changed:
            err.print(f"{path}: out of date (or missing)", markup=False)
        for path in result.removed:
            err.print(f"{path}: generated from specs that no longer exist", markup=False)
        if not result.clean:
            err.print("the suites differ from what the specs give: run `specproof generate` and commit the result")
            return False
        console.print(f"suites up to date: {summary}")
        return not result.rejected
    write(result)
    console.print(f"{summary}: {len(result.changed)} written, {len(result.removed)} removed, "
                  f"{len(result.files) - len(result.changed)} unchanged")
    return not result.rejected


def _with(options):
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


def _run_options(function):
    """The run's options (specproof/runoptions.py, which the pytest plugin declares too) as click options."""
    from .runoptions import RUN_OPTIONS

    for option in reversed(RUN_OPTIONS):
        if option.kind is Path:
            kind = click.Path(dir_okay=not option.is_file, file_okay=option.is_file, path_type=Path)
        else:
            kind = option.kind
        names = (option.flag, "-a") if option.flag == "--adapter" else (option.flag,)
        help_text = option.help[0].upper() + option.help[1:] + "."
        function = click.option(*names, option.dest, type=kind, default=None, metavar=option.metavar,
                                help=help_text)(function)
    return function


@main.command(context_settings={"ignore_unknown_options": True})
@_run_options
@click.option("--workers", "-n", type=int, default=None, help="pytest-xdist workers.")
@click.option("--suites", type=click.Path(exists=True, path_type=Path), default=DEFAULT_SUITES, show_default=True)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(suites: Path, workers: int | None, pytest_args: tuple[str, ...], **options) -> None:
    """Run the generated suites against an implementation; extra arguments go to pytest (-k, -x ...)."""
    from .runner import run as run_suites
    from .runoptions import RunOptions

    status, _ = run_suites(suites, RunOptions(**options), workers, pytest_args, console)
    sys.exit(status)


@main.command()
def adapters() -> None:
    """List installed adapters, whether each can run here, and how to fix one that cannot."""
    from rich.markup import escape
    from rich.table import Table

    from .adapter.registry import installed

    table = Table()
    for column in ("adapter", "usable", "from", "how to use it / why not and how to fix"):
        table.add_column(column)
    for found in installed():
        usable = found.availability.usable
        if not usable:
            note = f"{found.availability.reason}; fix: {found.availability.fix}"
        else:  # an adapter that needs an endpoint says how to name it
            note = found.availability.reason if found.needs_endpoint else ""
        table.add_row(found.name, "yes" if usable else "no", escape(f"{found.target} ({found.distribution})"),
                      escape(note))
    console.print(table)


@main.command()
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=DEFAULT_SPECS)
@click.option("--adapter", default=None, help="Adapter to ask (default: a usable non-model adapter, else the model).")
@click.option("--only", type=click.Choice(["present", "stub", "missing", "inline", "static"]), default=None,
              help="List only functions with this status.")
@click.option("--mode", type=click.Choice(["user", "kernel"]), default=None, help="Only user- or kernel-mode functions.")
@click.option("--counts-only", is_flag=True, help="Print the counts, not the list.")
@click.option("--by-module", is_flag=True, help="Counts per module instead of the list.")
def exports(root: Path, adapter: str | None, only: str | None, mode: str | None, counts_only: bool,
            by_module: bool) -> None:
    """For each spec'd function, user and kernel mode: present, stub or missing in the implementation
    (`inline`: the headers define it inline; `static`: from a static library, linked into the caller)."""
    from rich.table import Table

    from .adapter.registry import AdapterNotFound, choose_default, create
    from .exports import STATUSES, counts, survey
    from .exports import by_module as per_module
    from .spec.yamlio import SpecFileError

    name = adapter or choose_default()
    try:
        instance = create(name)
    except (AdapterNotFound, RuntimeError) as error:
        err.print(str(error), markup=False)
        sys.exit(2)
    try:
        rows = [row for row in survey(instance, root) if mode is None or row.mode == mode]
    except SpecFileError as error:
        err.print(str(error), markup=False)
        sys.exit(1)
    finally:
        instance.close()
    if by_module:
        table = Table()
        for column in ("module", *STATUSES, "functions"):
            table.add_column(column, justify="left" if column == "module" else "right")
        for module, tally in per_module(rows).items():
            table.add_row(module, *(str(tally[status]) for status in STATUSES), str(sum(tally.values())))
        console.print(table)
    elif not counts_only:
        table = Table()
        for column in ("header", "function", "mode", "module", "status"):
            table.add_column(column)
        for row in rows:
            if only is None or row.status == only:
                table.add_row(row.header, row.function, row.mode, row.module or "?", row.status)
        console.print(table)
    totals = counts(rows)
    kernel = sum(1 for row in rows if row.mode == "kernel")
    console.print(f"{name}: {len(rows)} functions ({len(rows) - kernel} user-mode, {kernel} kernel-mode): "
                  + ", ".join(f"{n} {status}" for status, n in totals.items() if n or status not in ("inline", "static")),
                  markup=False)


@main.group()
def site() -> None:
    """The compliance site: generated pages under site/, built with mkdocs-material into public/."""


_SITE_OPTIONS = [
    click.option("--results", "results", multiple=True, type=click.Path(exists=True, path_type=Path),
                 help="A run folder, or a folder of run folders (repeatable). Default: results/reference-*."),
    click.option("--specs", "root", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SPECS,
                 show_default=True),
    click.option("--docs", type=click.Path(file_okay=False, path_type=Path), default=Path("site"),
                 show_default=True, help="mkdocs docs folder; generated pages go to DOCS/generated/."),
    click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("public"),
                 show_default=True, help="Where the built site goes."),
    click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                 default=Path("mkdocs.yml"), show_default=True),
]


def _build_site(results: tuple[Path, ...], root: Path, docs: Path, out: Path, config_file: Path) -> Path:
    """Build the site, print what was built and where to open it; exit 1 with the reason on failure."""
    from .site.mkdocs_build import SiteBuildError, build_site
    from .site.load import SiteInputError
    from .spec.yamlio import SpecFileError

    try:
        report = build_site(root, results, docs, out, config_file)
    except (SiteBuildError, SiteInputError, SpecFileError) as error:
        err.print(f"[red]site build failed:[/] {escape(str(error))}", markup=True, highlight=False)
        sys.exit(1)
    except OSError as error:
        err.print(f"[red]site build failed:[/] cannot write {escape(str(error.filename or ''))}: "
                  f"{escape(error.strerror or str(error))}; --docs names the docs folder (the pages are written "
                  "to DOCS/generated) and --out where the site goes", markup=True, highlight=False)
        sys.exit(1)
    data = report.data
    runs = ", ".join(f"{r.run_id} ({r.impl})" for r in data.runs) or "no runs"
    console.print(f"site: {len(data.specs)} functions, {len(data.runs)} runs ({runs}); "
                  f"pages {report.pages.written} written, {report.pages.unchanged} unchanged, "
                  f"{report.pages.removed} removed in {report.generate_seconds:.1f} s; "
                  f"mkdocs {report.mkdocs_seconds:.1f} s", markup=False)
    index = (out / "index.html").resolve()
    console.print(f"open {index}", markup=False)
    return index


@site.command(name="build")
@_with(_SITE_OPTIONS)
def site_build(results: tuple[Path, ...], root: Path, docs: Path, out: Path, config_file: Path) -> None:
    """Write the generated pages and build the site into public/ (offline: nothing fetched)."""
    _build_site(results, root, docs, out, config_file)


@site.command(name="serve")
@_with(_SITE_OPTIONS)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-build", is_flag=True, help="Serve what is in --out without building first.")
def site_serve(results, root, docs, out, config_file, port: int, host: str, no_build: bool) -> None:
    """Build the site, then serve it on http://HOST:PORT/ until interrupted."""
    from .site.mkdocs_build import serve
    from .site.load import SiteInputError

    if not no_build:
        _build_site(results, root, docs, out, config_file)
    try:
        serve(out, host, port, lambda url: console.print(f"serving {out} on {url} (Ctrl-C to stop)", markup=False))
    except SiteInputError as error:
        err.print(str(error), markup=False)
        sys.exit(1)
    except OSError as error:
        err.print(f"cannot serve on {host}:{port}: {error.strerror or error}; choose another --port "
                  "(0 picks a free one)", markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


@main.command(name="all")
@click.option("--specs", "root", type=click.Path(exists=True, path_type=Path), default=DEFAULT_SPECS,
              show_default=True)
@click.option("--suites", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SUITES, show_default=True)
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True)
def all_steps(root: Path, suites: Path, results: Path) -> None:
    """The main job: check specs and suites, run the suites on every usable adapter, summarise, build the site."""
    from .adapter.registry import installed
    from .runner import run as run_suites
    from .runoptions import RunOptions
    from .spec.lint import lint as run_lint

    console.rule("lint")
    result = run_lint(root)
    for problem in result.problems:
        if problem.severity == "error":
            console.print(str(problem), markup=False)
    console.print(f"{result.files} spec files: {result.errors} errors, {result.warnings} warnings "
                  f"(details: specproof lint {root})")
    if result.errors:
        sys.exit(1)
    console.rule("specs")
    print_summary(result.specs)
    console.rule("generate --check")
    if not _generate(root, suites, check=True):
        sys.exit(1)
    failed = []
    folders = []
    for found in installed():
        if not found.availability.usable:
            console.print(f"adapter {found.name}: not usable here ({found.availability.reason}); skipped")
            continue
        if found.needs_endpoint:  # service, native: they run against a machine you name, not here
            console.print(f"adapter {found.name}: needs an endpoint (--url or --host); run it with `specproof run`")
            continue
        console.rule(f"run on {found.name}")
        status, folder = run_suites(suites, RunOptions(adapter=found.name, results=results, specs=root), None, (),
                                    console)
        folders.append(folder)
        if status not in (0, 5):
            failed.append(found.name)
    console.rule("site")
    from .site.load import default_run_folders

    # the committed reference runs, and this job's runs beside them (their diffs and history)
    runs = tuple(default_run_folders(results)) + tuple(Path(f) for f in folders if f)
    index = _build_site(runs, root, Path("site"), Path("public"), Path("mkdocs.yml"))
    console.rule("done")
    for folder in folders:
        console.print(f"results: {folder}")
    console.print(f"site: open {index}", markup=False)
    if failed:
        console.print(f"runs with unexpected outcomes: {', '.join(failed)} (see the tables above)")
        sys.exit(1)


def _protocol_commands() -> None:
    """`specproof agent serve` and `specproof protocol-check`, which live beside the protocol they speak."""
    from .protocol.commands import agent, protocol_check

    main.add_command(agent)
    main.add_command(protocol_check)


_protocol_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
