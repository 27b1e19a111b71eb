"""The results format's records: what is written is read back as it was, and what a kit cannot read is named.

The committed reference runs are read through the same records, so a field
the format drops or renames fails here before it fails on the site.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specproof.outcomes import Outcome
from specproof.results import (FORMAT, Observed, ResultsError, RunMeta, RunWriter, TestResult, read_meta,
                               read_results)

ROOT = Path(__file__).resolve().parents[1]


def test_a_result_is_read_back_as_it_was_written(tmp_path: Path):
    result = TestResult(
        id="conformance/h/test_h.py::test_F__x", spec="h/F", function="F", case="x", rule="null-pointer",
        outcome=Outcome.XFAIL, clauses=("R1", "R3"), level="robustness", mode="kernel", expected="a failure code",
        observed=(Observed("F", "0x80090301", "SEC_E_INVALID_HANDLE", True, diagnostics=("fixme:x",)),
                  Observed("G", fault="exception 0xC0000005 at 0x0"), Observed("H", timeout=True, stub="H stub"),
                  Observed("Q", "0x00000000", "SEC_E_OK", None, phase="completion")),
        message="why", departure="fail", duration=0.25, diagnostics=("err:y",))
    writer = RunWriter(tmp_path / "r", RunMeta(run_id="r", adapter="model", impl="model", started="t"))
    writer.add(result)
    writer.finish({"xfail": 1}, 0)
    (back,) = read_results(tmp_path / "r" / "results.jsonl")
    assert back == result
    assert back.departs and back.ran


def test_defaults_are_left_out_of_a_line():
    line = TestResult(id="t", spec="h/F", function="F", case="c", rule="export", outcome=Outcome.PASS).to_json()
    assert set(line) == {"id", "spec", "function", "case", "rule", "clauses", "level", "mode", "expected",
                         "observed", "outcome", "duration"}
    assert Observed("F").to_json() == {"function": "F"}


def test_run_metadata_carries_the_format_version_and_keeps_fields_it_does_not_know(tmp_path: Path):
    folder = tmp_path / "r"
    writer = RunWriter(folder, RunMeta(run_id="r", adapter="model", impl="model", started="t",
                                       extra={"transport": "pipe"}))
    writer.finish({}, 0)
    written = json.loads((folder / "run.json").read_text())
    assert written["format"] == FORMAT and written["transport"] == "pipe"
    meta = read_meta(folder)
    assert meta.extra == {"transport": "pipe"} and meta.closed and meta.counts == {}


def test_a_run_of_a_newer_format_is_refused_by_name(tmp_path: Path):
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"format": FORMAT + 1, "run_id": "new"}))
    with pytest.raises(ResultsError, match=rf"new/run.json: written in results format {FORMAT + 1}; .*upgrade"):
        read_meta(folder)
    (folder / "run.json").write_text(json.dumps({"format": "one", "run_id": "new"}))
    with pytest.raises(ResultsError, match=r"`format` is 'one'"):
        read_meta(folder)


@pytest.mark.parametrize("run", ["reference-model", "reference-wine"])
def test_the_committed_reference_runs_read_through_the_records(run: str):
    """Runs written before the format carried a version are format 1; every line reads, and writes back the same."""
    folder = ROOT / "results" / run
    meta = read_meta(folder)
    assert meta is not None and meta.format == 1 and meta.closed
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    results = list(read_results(folder / "results.jsonl"))
    assert [r.to_json() for r in results] == lines
    assert sum(meta.counts.values()) == len(results)
