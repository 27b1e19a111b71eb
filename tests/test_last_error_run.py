"""The Win32 error model through a whole run: a page says how its function fails, a run judges the last error.

A page (written here) says FindNextThing fails with zero and, when no more
things can be found, GetLastError returns ERROR_NO_MORE_FILES. Its spec
gets curated cases that expect failure; the model variant
`broken_models:FindsThings` fails them with the documented last error,
with ERROR_INVALID_HANDLE (which the page does not name), without
setting any last error, and with a value the page calls success.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from pagemaker import page
from specproof.cli import main

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
RETURNS = ("If the function succeeds, the return value is nonzero.\n\nIf the function fails, the return value is "
           "zero. If the function fails because no more things can be found, the GetLastError function returns "
           "ERROR_NO_MORE_FILES.")
SYNTAX = "\n\n## -syntax\n\n```cpp\nBOOL FindNextThing(\n  [in] HANDLE hFind\n);\n```\n"


def test_a_failed_calls_last_error_is_judged_by_the_reasons_its_page_names(tmp_path: Path):
    pages, specs, suites, results = (tmp_path / n for n in ("pages", "specs", "conformance", "results"))
    (pages / "testhdr").mkdir(parents=True)
    (pages / "testhdr" / "nf-testhdr-findnextthing.md").write_bytes(page(
        api="FindNextThing", returns=RETURNS, params="### -param hFind [in]\n\nThe search handle.",
        remarks="None." + SYNTAX))
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(pages), "--out", str(specs), "--jobs", "1"]).exit_code == 0
    spec_file = specs / "testhdr" / "FindNextThing.yaml"
    text = spec_file.read_text()
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    assert data["returns"]["failure"]["values"] == [{"name": "FALSE", "value": 0, "clause": "R2"}]
    clause = next(c["clause"] for c in data["returns"]["codes"] if c.get("phase") == "last-error")
    spec_file.write_text(text + (
        "cases:\n"
        f"- {{id: no-more-things, covers: [{clause}], given: {{hFind: {{value: 18}}}}, expect: {{success: false}}}}\n"
        f"- {{id: other-reason, covers: [{clause}], given: {{hFind: {{value: 7}}}}, expect: {{success: false}}}}\n"
        f"- {{id: no-set-last-error, covers: [R2], given: {{hFind: {{value: 5}}}}, expect: {{success: false}}}}\n"
        f"- {{id: wrong-sentinel, covers: [R2], given: {{hFind: {{value: 9}}}}, expect: {{success: false}}}}\n"
        f"- {{id: named-reason, covers: [{clause}], given: {{hFind: {{value: 18}}}}, "
        "expect: {last_error: ERROR_NO_MORE_FILES}}\n"
        f"- {{id: named-other-reason, covers: [{clause}], given: {{hFind: {{value: 18}}}}, "
        "expect: {last_error: [none, ERROR_INVALID_HANDLE]}}\n"))
    assert runner.invoke(main, ["lint", str(specs)]).exit_code == 0
    suites.mkdir()
    shutil.copy(ROOT / "conformance" / "conftest.py", suites / "conftest.py")
    shutil.copytree(ROOT / "conformance" / "fixtures", suites / "fixtures")
    generated = runner.invoke(main, ["generate", "--specs", str(specs), "--out", str(suites)])
    assert generated.exit_code == 0, generated.output
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suites), "-p", "no:cacheprovider", "-q", "--adapter",
         "broken_models:FindsThings", "--specs", str(specs), "--results", str(results), "--run-id", "r"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(TESTS)}, timeout=300)
    records = {r["case"]: r for r in map(json.loads, (results / "r" / "results.jsonl").read_text().splitlines())}
    documented, other = records["no-more-things"], records["other-reason"]
    assert documented["outcome"] == "pass", documented
    assert documented["observed"][0]["last_error_name"] == "ERROR_NO_MORE_FILES"
    assert other["outcome"] == "undocumented", other
    assert ("FindNextThing failed with last error ERROR_INVALID_HANDLE 0x6, which its docs do not list. "
            "Documented last errors: ERROR_NO_MORE_FILES (0x12)") in other["message"]
    assert "ERROR_INVALID_HANDLE 0x6" in done.stdout
    unset = records["no-set-last-error"]
    assert unset["outcome"] == "fail", unset
    assert unset["observed"][0].get("last_error") is None
    assert ("FindNextThing failed (returned 0x00000000 (FALSE)) without setting the last error; its docs say to "
            "call GetLastError") in unset["message"]
    sentinel = records["wrong-sentinel"]
    assert sentinel["outcome"] == "fail", sentinel
    assert "returned 0xFFFFFFFF" in sentinel["message"] and "expected" in sentinel["message"]
    assert records["named-reason"]["outcome"] == "pass"
    named_other = records["named-other-reason"]
    assert named_other["outcome"] == "fail", named_other
    assert ("expected the last error none (not set) or ERROR_INVALID_HANDLE 0x6, it left ERROR_NO_MORE_FILES "
            "0x12") in named_other["message"]
