"""`specproof run`: the generated suites through pytest and the plugin, then a summary table.

pytest runs in a child process, so an implementation that takes the
process down (or an adapter that leaks) cannot take the command with it,
and the summary is read back from the run's results file: what the table
shows is what was recorded.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .outcomes import OUTCOMES, Outcome
from .results import (RESULTS_FILE, ResultsError, check_run_id, close_interrupted, new_run_id, read_meta,
                      read_results)
from .runoptions import RunOptions



def pytest_command(suites: Path, options: RunOptions, workers: int | None, extra: tuple[str, ...]) -> list[str]:
    """The child's command line: pytest on the suites, the run's options as the plugin takes them."""
    command = [sys.executable, "-m", "pytest", str(suites), "-p", "no:cacheprovider", "-q", *options.pytest_args()]
    if workers:
        command += ["-n", str(workers)]
    return command + list(extra)


def run(suites: Path, options: RunOptions, workers: int | None, extra: tuple[str, ...],
        console: Console) -> tuple[int, Path]:
    """Run the suites; returns pytest's exit status and the run's folder."""
    from .adapter.registry import impl_label, resume_command

    label = impl_label(options.adapter, options.impl)
    results = options.results or Path("results")
    try:
        name = check_run_id(options.resume or options.run_id or new_run_id(label))
    except ResultsError as error:
        console.print(f"[red]error:[/] {error}")
        return 2, results
    named = replace(options, results=results, run_id=None if options.resume else name,
                    resume=name if options.resume else None)
    status, signalled = run_child(pytest_command(suites, named, workers, extra))
    folder = results / name
    if not (folder / RESULTS_FILE).exists():  # pytest stopped before any test: its output says why
        console.print(f"no results were written (pytest exited with status {status}; its message is above)")
        return status or 1, folder
    try:
        killed = close_interrupted(folder, status)
        meta = read_meta(folder)
        summarise(folder, console)
    except ResultsError as error:
        console.print(f"[red]error:[/] {error}")
        return status or 1, folder
    if meta is not None and (meta.interrupted or killed or signalled):
        how = "the test process was killed" if killed else "interrupted"
        command = resume_command(meta.adapter or options.adapter or "", meta.impl or None, name)
        console.print(f"[yellow]{how}:[/] the results so far are kept; finish the run with: {command}")
    return status, folder


def run_child(command: list[str]) -> tuple[int, int | None]:
    """Run pytest as a child and wait for it; (its exit status, the signal this process was sent, if any).

    Ctrl-C or SIGTERM sent to this process is passed on to the child as SIGINT, which pytest answers
    by stopping after the current test, closing the adapter (a Wine prefix included) and closing the
    run; this process then waits for it. The child runs in its own session, so a Ctrl-C at the
    terminal reaches it once, through here, and it is sent SIGINT by the kernel should this process
    be killed outright (SIGKILL): it never runs on unseen.
    """
    child = subprocess.Popen(command, start_new_session=True, preexec_fn=_stop_with_parent(os.getpid()))
    received: list[int] = []

    def forward(signum: int, _frame) -> None:
        received.append(signum)
        try:
            child.send_signal(signal.SIGINT)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                return child.wait(), (received[0] if received else None)
            except InterruptedError:
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_with_parent(parent: int):
    """A preexec function: the child gets SIGINT when its parent dies (Linux's PR_SET_PDEATHSIG)."""

    def arm() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: the child is only stopped by signals passed on
            return
        if os.getppid() != parent:  # the parent died before the line above
            os.kill(os.getpid(), signal.SIGINT)

    return arm


_PR_SET_PDEATHSIG = 1


def summarise(folder: Path, console: Console) -> Counter[str]:
    """Outcome counts per header (and in all) of a run's results, as a table."""
    per_header: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    for result in read_results(folder / RESULTS_FILE):
        header = (result.spec or "?/").split("/", 1)[0]
        per_header[header][result.outcome.value] += 1
        total[result.outcome.value] += 1
    present = [o for o in OUTCOMES if total[o]]
    titles = ["header", *present, "tests"]
    widths = [max(len(titles[0]), *(len(h) for h in per_header), 3), *(len(o) for o in present), 5]
    if sum(widths) + 3 * len(widths) + 1 > console.width:  # a table would cut its counts: one line a header
        console.print(folder.name)
        for header in [*sorted(per_header), "all"]:
            counts = total if header == "all" else per_header[header]
            console.print(f"{header}: " + ", ".join(f"{counts[o]}\u00a0{o}" for o in present if counts[o])
                          + f" ({sum(counts.values())} tests)", markup=False, overflow="fold")
        console.print(f"results: {folder / RESULTS_FILE} ({sum(total.values())} tests)", markup=False,
                      overflow="fold")
        return total
    table = Table(title=f"{folder.name}", title_justify="left")
    table.add_column("header")
    for outcome in present:
        table.add_column(outcome, justify="right", style=Outcome(outcome).style)
    table.add_column("tests", justify="right")
    for header in sorted(per_header):
        counts = per_header[header]
        table.add_row(header, *(str(counts[o] or "") for o in present), str(sum(counts.values())))
    table.add_row("all", *(str(total[o]) for o in present), str(sum(total.values())), style="bold")
    console.print(table)
    console.print(f"results: {folder / RESULTS_FILE} ({sum(total.values())} tests)")
    return total
