"""A run never mixes or loses results: one run a folder, resumes that fit, interrupts that close the run."""

from __future__ import annotations

import json
import shutil
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from specproof.outcomes import Outcome
from specproof.results import ResultsError, RunMeta, RunWriter, TestResult, read_results

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
ENV = {**os.environ, "PYTHONPATH": str(TESTS)}


def _pytest(results: Path, *args: str, adapter: str = "model") -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "sspi"), "-p", "no:cacheprovider", "-q",
               "--adapter", adapter, "--results", str(results), "-k", "DeleteSecurityContext", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=300)


def _lines(folder: Path) -> list[str]:
    return (folder / "results.jsonl").read_text().splitlines()


def test_a_run_folder_holds_one_run(tmp_path: Path):
    first = _pytest(tmp_path, "--run-id", "same")
    assert first.returncode == 0, first.stdout[-2000:]
    before = _lines(tmp_path / "same")
    second = _pytest(tmp_path, "--run-id", "same", adapter="broken_models:Slow")
    assert second.returncode != 0
    assert "holds a run already" in second.stderr and "--resume same" in second.stderr, second.stderr
    assert _lines(tmp_path / "same") == before, "nothing was appended"
    assert json.loads((tmp_path / "same" / "run.json").read_text())["adapter"] == "model"


def test_a_resume_with_another_implementation_is_refused(tmp_path: Path):
    assert _pytest(tmp_path, "--run-id", "r").returncode == 0
    before = _lines(tmp_path / "r")
    other = _pytest(tmp_path, "--resume", "r", adapter="broken_models:Slow")
    assert other.returncode != 0
    assert "resume it with --adapter model" in other.stderr, other.stderr
    assert _lines(tmp_path / "r") == before


def _meta(run_id: str, started: str = "now") -> RunMeta:
    return RunMeta(run_id=run_id, adapter="model", impl="model", started=started)


def _result(test_id: str, outcome: str) -> TestResult:
    return TestResult(id=test_id, spec="h/F", function="F", case=test_id, rule="curated", outcome=Outcome(outcome))


def test_two_processes_never_write_one_run(tmp_path: Path):
    writer = RunWriter(tmp_path / "x", _meta("x"))
    with pytest.raises(ResultsError, match="being written by another process"):
        RunWriter(tmp_path / "x", _meta("x"), resume=True)
    writer.finish({}, 0)
    assert not (tmp_path / "x" / ".lock").exists(), "a closed run leaves no lock file"
    RunWriter(tmp_path / "x", _meta("x"), resume=True).finish({}, 0)  # free again once the first closed


def test_a_resumed_run_counts_the_whole_run(tmp_path: Path):
    folder = tmp_path / "part"
    writer = RunWriter(folder, _meta("part", started="then"))
    for n in range(3):
        writer.add(_result(f"t{n}", "pass"))
    writer.finish({"pass": 3}, 2, interrupted=True)
    assert json.loads((folder / "run.json").read_text())["interrupted"] is True
    resumed = RunWriter(folder, _meta("part"), resume=True)
    assert resumed.done == {"t0", "t1", "t2"}
    resumed.add(_result("t3", "fail"))
    resumed.finish({"fail": 1}, 1)
    run = json.loads((folder / "run.json").read_text())
    assert run["counts"] == {"fail": 1, "pass": 3} and run["started"] == "then" and "interrupted" not in run


def test_results_keep_a_test_once_and_name_values_they_do_not_know(tmp_path: Path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"id": "a", "outcome": "pass"}\n{"id": "b", "outcome": "fail"}\n'
                    '{"id": "a", "outcome": "crash"}\n')
    assert [(r.id, r.outcome) for r in read_results(path)] == [("b", "fail"), ("a", "crash")]
    for bad in ('"banana"', '"PASS"', "null"):
        path.write_text('{"id": "a", "outcome": "pass"}\n{"id": "b", "outcome": %s}\n' % bad)
        with pytest.raises(ResultsError, match=r"results.jsonl:2: outcome .* of b is not one of pass, fail"):
            list(read_results(path))
    path.write_bytes(b'{"id": "a", "outcome": "pass"}\n{"id": "b", "outcome": "pass", "message": "\xff"}\n')
    with pytest.raises(ResultsError, match=r"results.jsonl:2: not UTF-8 text \(byte 0xff at column 44\)"):
        list(read_results(path))


def _processes_naming(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _start_run(tmp_path: Path, run_id: str) -> subprocess.Popen:
    """`specproof run` on a slow model, returned once it has written some results."""
    command = [sys.executable, "-m", "specproof", "run", "--adapter", "broken_models:Slow", "--results",
               str(tmp_path), "--run-id", run_id, "--suites", str(ROOT / "conformance" / "sspi")]
    child = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = tmp_path / run_id / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not lines.exists() or lines.read_text().count("\n") < 5):
        time.sleep(0.05)
    assert lines.exists(), "the run wrote no result"
    return child


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_closes_as_interrupted_and_says_how_to_resume(tmp_path: Path, signum: int):
    run = _start_run(tmp_path, "stopped")
    run.send_signal(signum)  # to `specproof run` alone, as `kill` does; Ctrl-C at a terminal goes the same way
    output, _ = run.communicate(timeout=120)
    assert "specproof run --adapter broken_models:Slow --resume stopped" in output, output[-2000:]
    meta = json.loads((tmp_path / "stopped" / "run.json").read_text())
    assert meta["finished"] and meta["interrupted"] and meta["exit_status"] == 2
    kept = len(list(read_results(tmp_path / "stopped" / "results.jsonl")))
    assert 5 <= kept and sum(meta["counts"].values()) == kept
    assert _processes_naming("stopped") == [], "the pytest child is gone"


def test_a_killed_runner_takes_its_child_with_it(tmp_path: Path):
    run = _start_run(tmp_path, "killed")
    run.kill()
    run.communicate(timeout=30)
    deadline = time.monotonic() + 60
    while _processes_naming("killed") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_naming("killed") == [], "the pytest child stopped with its parent"
    meta = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert meta["finished"] and meta["interrupted"], "the child closed the run as it stopped"


def _specproof(*args: str, cwd: Path, columns: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "specproof", *args], cwd=cwd, capture_output=True, text=True,
                          env={**ENV, "COLUMNS": str(columns)}, timeout=300)


def test_a_run_id_outside_ascii_is_a_sentence_not_a_traceback(tmp_path: Path):
    done = _specproof("run", "--adapter", "model", "--run-id", "rün 1", "--results", str(tmp_path), cwd=ROOT)
    assert done.returncode == 2
    assert "run id 'rün 1': use ASCII letters" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_a_run_that_wrote_nothing_shows_no_empty_table(tmp_path: Path):
    for args in (["--adapter", "nosuch"], ["--adapter", "model", "--resume", "nosuch"]):
        done = _specproof("run", *args, "--results", str(tmp_path), cwd=ROOT)
        assert done.returncode != 0
        assert "no results were written" in done.stdout and "(0 tests)" not in done.stdout, done.stdout
    assert not any(tmp_path.iterdir()), "no run folder was left behind"


def test_a_narrow_terminal_keeps_every_count(tmp_path: Path):
    shutil.copytree(ROOT / "results" / "reference-wine", tmp_path / "reference-wine")
    from rich.console import Console

    from specproof.runner import summarise

    console = Console(width=40, record=True, file=open(os.devnull, "w"))
    total = summarise(tmp_path / "reference-wine", console)
    text = console.export_text().replace("\n", " ")
    assert "…" not in text
    for outcome, count in total.items():
        assert f"{count} {outcome}" in " ".join(text.split()), (outcome, text)


def test_site_build_names_a_results_folder_without_runs(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    done = _specproof("site", "build", "--results", str(tmp_path / "empty"), "--out", str(tmp_path / "public"),
                      "--docs", str(tmp_path / "docs"), cwd=ROOT)
    assert done.returncode != 0
    assert "neither a run folder nor a folder of run folders" in done.stdout + done.stderr


def test_resuming_a_results_file_with_a_bad_line_names_it_once(tmp_path: Path):
    assert _pytest(tmp_path, "--run-id", "bad").returncode == 0
    with (tmp_path / "bad" / "results.jsonl").open("a") as handle:
        handle.write("not json\n")
    done = _specproof("run", "--adapter", "model", "--resume", "bad", "--results", str(tmp_path), cwd=ROOT)
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in said
    assert "bad/results.jsonl:18: not a JSON line" in said and "remove the line and resume the run" in said


def test_each_outcome_says_what_it_means():
    from specproof.outcomes import FAILING, OUTCOMES, Outcome

    assert OUTCOMES == tuple(o.value for o in Outcome) and len(OUTCOMES) == 10
    assert FAILING == {"fail", "undocumented", "crash", "timeout"} == {o for o in Outcome if o.failing}
    assert {o for o in Outcome if not o.ran} == {"not-implemented", "not-applicable", "error"}
    letters = [o.letter for o in Outcome]
    assert len(set(letters)) == len(letters), "every outcome has its own progress letter"
    assert json.dumps({"outcome": Outcome.NOT_IMPLEMENTED}) == '{"outcome": "not-implemented"}'
