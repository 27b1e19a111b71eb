"""scripts/same-output: the check that a change of the code leaves every stage's output as it was.

Run on the kit's own pages of every shape (tests/shapes.py), HEAD against
the working tree: in a clean checkout the two are one revision, so every
stage must give the same output, and the script must say so and exit 0.
Then one output of one side is changed, and the comparison must name it,
while run-to-run noise (a duration, a Wine thread id) must not count.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shapes import WRITTEN

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "same-output"


def _pages(folder: Path) -> Path:
    for name, data in WRITTEN.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout the script compares revisions of")
def test_one_revision_against_itself_gives_the_same_output(tmp_path: Path):
    pages = _pages(tmp_path / "pages")
    done = subprocess.run([sys.executable, str(SCRIPT), "HEAD", "HEAD", "--pages", str(pages),
                           "--keep", str(tmp_path / "work")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "same output: specs, suites, outcomes, reference files and site" in done.stdout
    # both sides really ran every stage
    for side in ("before", "after"):
        out = tmp_path / "work" / side / "out"
        assert list((out / "specs").rglob("*.yaml")) and list((out / "conformance").rglob("test_*.py"))
        assert (out / "results" / "model" / "results.jsonl").stat().st_size > 0
        assert (out / "public" / "index.html").exists()


def _script():
    loader = importlib.machinery.SourceFileLoader("same_output", str(SCRIPT))
    spec = importlib.util.spec_from_loader("same_output", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout the script compares revisions of")
def test_a_changed_output_is_named_and_noise_is_not(tmp_path: Path, capsys):
    pages = _pages(tmp_path / "pages")
    work = tmp_path / "work"
    subprocess.run([sys.executable, str(SCRIPT), "HEAD", "HEAD", "--pages", str(pages), "--keep", str(work)],
                   capture_output=True, check=True, timeout=600)
    script = _script()
    sides = [(work / side / "tree", work / side / "out") for side in ("before", "after")]
    results = work / "after" / "out" / "results" / "model" / "results.jsonl"
    records = [json.loads(line) for line in results.read_text().splitlines()]
    records[0]["duration"] = 99.0
    records[0]["diagnostics"] = ["0104:fixme:x:y 00000000003414D0"]
    (work / "before" / "out" / "results" / "model" / "results.jsonl").write_text("".join(
        json.dumps({**r, **({"diagnostics": ["00d0:fixme:x:y 0000000000349E00"]} if i == 0 else {})}) + "\n"
        for i, r in enumerate(records)))
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert script.compare(*sides) == [], "a duration, a thread id and a pointer are noise"
    spec = sorted((work / "after" / "out" / "specs").rglob("*.yaml"))[0]
    spec.write_text(spec.read_text() + "# an editor's note\n")
    records[1]["outcome"] = "fail" if records[1]["outcome"] != "fail" else "pass"
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    found = script.compare(*sides)
    assert f"ingested specs: {spec.relative_to(work / 'after' / 'out' / 'specs')}" in found
    assert "run outcomes: model/results.jsonl" in found
    assert "+++ after" in capsys.readouterr().out
