"""`specproof run`: the generated suites through pytest and the plugin, then a summary table.

pytest runs in a child process, so an implementation that takes the
process down (or an adapter that leaks) cannot take the command with it,
and the summary is read back from the run's results file: what the table
shows is what was recorded.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .outcomes import OUTCOMES
from .plugin.results import RESULTS_FILE, check_run_id, new_run_id, read_results

_STYLE = {"pass": "green", "fail": "red", "undocumented": "magenta", "crash": "red", "timeout": "yellow",
          "not-implemented": "dim", "not-applicable": "dim", "xfail": "cyan", "xpass": "bold red", "error": "bold red"}


def pytest_command(suites: Path, adapter: str | None, impl: str | None, results: Path, run_id: str,
                   resume: bool, expectations: Path | None, call_timeout: float | None, workers: int | None,
                   specs: Path | None, extra: tuple[str, ...]) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(suites), "-p", "no:cacheprovider", "-q",
               "--results", str(results)]
    command += ["--resume", run_id] if resume else ["--run-id", run_id]
    if adapter:
        command += ["--adapter", adapter]
    if impl:
        command += ["--impl", impl]
    if expectations:
        command += ["--expectations", str(expectations)]
    if call_timeout:
        command += ["--call-timeout", str(call_timeout)]
    if workers:
        command += ["-n", str(workers)]
    if specs:
        command += ["--specs", str(specs)]
    return command + list(extra)


def run(suites: Path, adapter: str | None, impl: str | None, results: Path, run_id: str | None,
        resume: str | None, expectations: Path | None, call_timeout: float | None, workers: int | None,
        specs: Path | None, extra: tuple[str, ...], console: Console) -> tuple[int, Path]:
    """Run the suites; returns pytest's exit status and the run's folder."""
    from .adapter.registry import impl_label

    name = check_run_id(resume or run_id or new_run_id(impl_label(adapter, impl)))
    command = pytest_command(suites, adapter, impl, results, name, bool(resume), expectations, call_timeout,
                             workers, specs, extra)
    status = subprocess.call(command)
    folder = results / name
    summarise(folder, console)
    return status, folder


def summarise(folder: Path, console: Console) -> Counter[str]:
    """Outcome counts per header (and in all) of a run's results, as a table."""
    per_header: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    for record in read_results(folder / RESULTS_FILE):
        header = record.get("spec", "?/").split("/", 1)[0]
        per_header[header][record["outcome"]] += 1
        total[record["outcome"]] += 1
    present = [o for o in OUTCOMES if total[o]]
    table = Table(title=f"{folder.name}", title_justify="left")
    table.add_column("header")
    for outcome in present:
        table.add_column(outcome, justify="right", style=_STYLE.get(outcome))
    table.add_column("tests", justify="right")
    for header in sorted(per_header):
        counts = per_header[header]
        table.add_row(header, *(str(counts[o] or "") for o in present), str(sum(counts.values())))
    table.add_row("all", *(str(total[o]) for o in present), str(sum(total.values())), style="bold")
    console.print(table)
    console.print(f"results: {folder / RESULTS_FILE} ({sum(total.values())} tests)")
    return total
