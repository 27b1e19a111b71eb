"""Running suites: outcomes from real runs on the model and broken variants, results, resume, xdist."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
SEEDS = "DeleteSecurityContext or SspiDeleteSecurityContextAsync or IPsecSaContextExpire0"


def run_pytest(tmp_path: Path, *args: str, adapter: str = "model", env: dict | None = None,
               timeout: float = 300) -> tuple[int, str, list[dict]]:
    """pytest on the committed suites in a child process; its exit status, output and results."""
    results = tmp_path / "results"
    run_id = f"run{len(list(tmp_path.glob('results/*')))}"
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-p", "no:cacheprovider", "-q",
               "--adapter", adapter, "--results", str(results), "--run-id", run_id, *args]
    environment = {**os.environ, "PYTHONPATH": str(TESTS), **(env or {})}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, timeout=timeout)
    path = results / run_id / "results.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return done.returncode, done.stdout + done.stderr, records


def outcomes(records: list[dict]) -> dict[str, str]:
    return {r["id"].split("::")[1]: r["outcome"] for r in records}


@pytest.fixture(scope="module")
def model_run(tmp_path_factory) -> tuple[int, str, list[dict]]:
    return run_pytest(tmp_path_factory.mktemp("model"))


def test_seed_functions_and_twins_pass_on_the_model(model_run):
    status, output, records = model_run
    seeds = [r for r in records if r["function"] in SEEDS.split(" or ")]
    assert len(seeds) >= 25, output
    bad = {r["id"]: r["outcome"] for r in seeds if r["outcome"] in ("fail", "error", "crash", "timeout")}
    assert not bad
    assert {r["spec"] for r in seeds} >= {"sspi/DeleteSecurityContext", "sspi/SspiDeleteSecurityContextAsync",
                                         "fwpmk/IPsecSaContextExpire0", "fwpmu/IPsecSaContextExpire0"}


def test_whole_model_run_exits_clean_with_expectations_applied(model_run):
    status, output, records = model_run
    assert status == 0, output[-3000:]
    counts = {o: sum(r["outcome"] == o for r in records) for o in {r["outcome"] for r in records}}
    assert counts.get("pass", 0) > 60 and counts.get("xfail") == 1
    assert "fail" not in counts and "error" not in counts
    assert "specproof" in output and "pass" in output


def test_results_lines_carry_what_the_site_needs(model_run):
    _, _, records = model_run
    record = next(r for r in records if r["id"].endswith("test_DeleteSecurityContext__garbage_handle"))
    assert record["function"] == "DeleteSecurityContext" and record["rule"] == "curated"
    assert record["clauses"] == ["R3"] and record["outcome"] == "pass"
    assert record["expected"] == "returns SEC_E_INVALID_HANDLE"
    (observed,) = record["observed"]
    assert {k: observed[k] for k in ("function", "value", "name", "documented")} == {
        "function": "DeleteSecurityContext", "value": "0x80090301", "name": "SEC_E_INVALID_HANDLE",
        "documented": True}
    assert any("not a live security context" in line for line in observed["diagnostics"])
    assert record["duration"] >= 0 and record["diagnostics"]
    kernel = next(r for r in records if r["spec"] == "fwpmk/IPsecSaContextExpire0")
    assert kernel["mode"] == "kernel"


BROKEN = {
    "GarbageOk": "fail",
    "FaultsOnGarbage": "crash",
    "UndocumentedOnGarbage": "undocumented",
    "HangsOnGarbage": "timeout",
}


@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_broken_variant_gives_its_outcome_to_exactly_the_affected_test(tmp_path: Path, variant: str, model_run):
    start = time.monotonic()
    status, output, records = run_pytest(tmp_path, "-k", "DeleteSecurityContext and not Async",
                                         "--call-timeout", "0.5", adapter=f"broken_models:{variant}")
    assert status == 1, output[-2000:]
    got = outcomes(records)
    baseline = {k: v for k, v in outcomes(model_run[2]).items() if k in got}
    assert set(got) == set(baseline)
    changed = {k: v for k, v in got.items() if baseline[k] != v}
    assert changed == {"test_DeleteSecurityContext__garbage_handle": BROKEN[variant]}
    record = next(r for r in records if r["id"].endswith("__garbage_handle"))
    if variant == "UndocumentedOnGarbage":
        assert "0x80090302" in record["message"] and "SEC_E_UNSUPPORTED_FUNCTION" in record["message"]
        assert record["observed"][0]["documented"] is False
    if variant == "FaultsOnGarbage":
        assert "0xC0000005" in record["message"]
    if variant == "HangsOnGarbage":
        assert 0.5 <= record["duration"] < 5 and time.monotonic() - start < 60


def test_every_call_records_its_last_error_by_name_and_hex(tmp_path: Path, model_run):
    """A call that sets the thread's last error has it in the results; a call that does not, has none."""
    status, output, records = run_pytest(tmp_path, "-k", "DeleteSecurityContext and not Async",
                                         adapter="broken_models:SetsLastErrorOnGarbage")
    assert status == 0, output[-2000:]
    assert outcomes(records) == {k: v for k, v in outcomes(model_run[2]).items() if k in outcomes(records)}
    garbage = next(r for r in records if r["id"].endswith("__garbage_handle"))
    (seen,) = garbage["observed"]
    assert seen["last_error"] == "0x00000006" and seen["last_error_name"] == "ERROR_INVALID_HANDLE"
    others = [o for r in records if r is not garbage for o in r["observed"]]
    assert others and not any("last_error" in o for o in others), "the sentinel: calls that set none record none"


def test_a_failing_test_says_the_value_and_the_last_error_side_by_side(tmp_path: Path):
    status, output, records = run_pytest(tmp_path, "-k", "DeleteSecurityContext__garbage_handle",
                                         adapter="broken_models:GarbageOkWithLastError")
    assert status == 1
    (record,) = records
    assert record["outcome"] == "fail"
    expected = "returned 0x00000000 (SEC_E_OK), last error ERROR_INVALID_HANDLE 0x6; expected SEC_E_INVALID_HANDLE"
    assert expected in record["message"] and expected in output


def test_missing_export_is_not_implemented(tmp_path: Path):
    status, output, records = run_pytest(tmp_path, "-k", "DeleteSecurityContext and not Async",
                                         adapter="broken_models:LacksDelete")
    got = outcomes(records)
    assert got["test_DeleteSecurityContext__export"] == "not-implemented"
    assert set(got.values()) == {"not-implemented"}
    assert all("DeleteSecurityContext" in r["message"] for r in records)
    assert status == 0, output[-2000:]


def test_expectations_turn_departures_into_xfail_and_passes_into_xpass(tmp_path: Path):
    expectations = tmp_path / "expected.yaml"
    expectations.write_text(
        "- test: conformance/sspi/test_sspi.py::test_DeleteSecurityContext__garbage_handle\n"
        "  reason: known to accept garbage\n"
        "- test: conformance/sspi/test_sspi.py::test_DeleteSecurityContext__null_*\n"
        "  reason: thought broken, but is not\n")
    status, output, records = run_pytest(tmp_path, "-k", "DeleteSecurityContext and not Async",
                                         "--expectations", str(expectations), adapter="broken_models:GarbageOk")
    got = outcomes(records)
    assert got["test_DeleteSecurityContext__garbage_handle"] == "xfail"
    assert got["test_DeleteSecurityContext__null_handle"] == "xpass"
    assert status == 1 and "1 xpass" in output
    assert "XPASS conformance/sspi/test_sspi.py::test_DeleteSecurityContext__null_handle" in output


def test_killed_run_resumes_with_every_test_exactly_once(tmp_path: Path):
    results = tmp_path / "results"
    base = [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "sspi"), "-p", "no:cacheprovider", "-q",
            "--adapter", "broken_models:Slow", "--results", str(results)]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    collected = subprocess.run(base + ["--collect-only", "--no-results"], cwd=ROOT, capture_output=True,
                               text=True, env=env)
    total = int(collected.stdout.strip().splitlines()[-1].split()[0])
    child = subprocess.Popen(base + ["--run-id", "killed"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    lines = results / "killed" / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not lines.exists() or lines.read_text().count("\n") < 20):
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    before = lines.read_text().count("\n")
    assert 20 <= before < total
    with lines.open("a") as handle:  # a line the kill cut short
        handle.write('{"id": "conformance/sspi/test_sspi.py::test_cut')
    done = subprocess.run(base + ["--resume", "killed"], cwd=ROOT, capture_output=True, text=True, env=env)
    ids = [json.loads(line)["id"] for line in lines.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == total, done.stdout[-2000:]
    run = json.loads((results / "killed" / "run.json").read_text())
    assert run["finished"] and run["resumed"]
    assert sum(run["counts"].values()) == total, "run.json counts the whole run, not the resumed part"


def test_xdist_workers_merge_into_one_run(tmp_path: Path, model_run):
    status, output, records = run_pytest(tmp_path, "-n", "2")
    assert status == 0, output[-2000:]
    assert outcomes(records) == outcomes(model_run[2])
    run = json.loads(next((tmp_path / "results").glob("*/run.json")).read_text())
    assert run["implementation"]["name"] == "model" and run["finished"]
    assert run["counts"]["pass"] == sum(r["outcome"] == "pass" for r in records)


def test_unknown_adapter_is_a_clear_error(tmp_path: Path):
    status, output, _ = run_pytest(tmp_path, adapter="nonesuch")
    assert status != 0
    assert "no adapter named 'nonesuch'" in output and "specproof adapters" in output


def test_results_reader_skips_a_cut_line_and_names_a_bad_one(tmp_path):
    from specproof.results import read_results

    path = tmp_path / "results.jsonl"
    path.write_bytes(b'{"id": "a", "outcome": "pass"}\n\n{"id": "b", "outcome": "pass", "n": [1, 2]}\n'
                     b'{"id": "c", "cut sh')
    assert [r.id for r in read_results(path)] == ["a", "b"], "a last line cut short by a kill is skipped"
    path.write_bytes(b'{"id": "a", "outcome": "pass"}\n{"id": "b"} {"id": "x"}\n{"id": "c", "outcome": "pass"}\n')
    with pytest.raises(ValueError, match=r"results.jsonl:2: not a JSON line"):
        list(read_results(path))
    path.write_bytes(b'{"id": "a", "outcome": "pass"}\n1, 2\n')
    with pytest.raises(ValueError, match=r"results.jsonl:2: not a JSON line"):
        list(read_results(path))


KERNEL_BROKEN = {
    "ListTailForgotten": ({"test_InsertTailList__into_an_empty_list", "test_InsertTailList__after_an_entry"},
                          "after InsertTailList, ListHead (_LIST_ENTRY) holds: Blink is 0x"),
    "CompareBackwards": ({"test_RtlCompareUnicodeString__less", "test_RtlCompareUnicodeString__greater"},
                         "; expected less than zero"),
    "RemovesNothing": ({"test_RemoveHeadList__empty_list", "test_RemoveHeadList__removes_the_first_entry"},
                       "; expected the address of ListHead, 0x"),
}


@pytest.mark.parametrize("variant", sorted(KERNEL_BROKEN))
def test_what_a_kernel_routine_writes_returns_or_points_to_is_judged(tmp_path: Path, variant: str, model_run):
    """`writes`, `sign` and `value_is` fail exactly the cases whose routine departs, saying what it left."""
    status, output, records = run_pytest(tmp_path, "-k", "InsertTailList or RtlCompareUnicodeString or RemoveHeadList",
                                         adapter=f"broken_models:{variant}")
    assert status == 1, output[-2000:]
    got = outcomes(records)
    baseline = {k: v for k, v in outcomes(model_run[2]).items() if k in got}
    failed, words = KERNEL_BROKEN[variant]
    assert {k for k, v in got.items() if baseline[k] != v} == failed
    assert all(got[k] == "fail" for k in failed)
    assert any(words in r["message"] for r in records if r["id"].split("::")[1] in failed), \
        [r["message"] for r in records if r["id"].split("::")[1] in failed]
