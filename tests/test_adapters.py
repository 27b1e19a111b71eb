"""The adapter registry: installed adapters, a third party's package, and the `adapters` and `run` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = Path(__file__).resolve().parent / "example_adapter"
SPECPROOF = Path(sys.executable).with_name("specproof")


def test_adapters_lists_the_model_as_usable():
    done = subprocess.run([str(SPECPROOF), "adapters"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0
    line = next(line for line in done.stdout.splitlines() if " model " in line)
    assert "yes" in line and "specproof_adapters.model:ModelAdapter" in line


@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    """The example adapter installed as a separate distribution, the way a user would install one."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), str(EXAMPLE)], check=True,
                   capture_output=True, timeout=300)
    return target


def test_a_third_party_adapter_registers_through_its_entry_point(example_site: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(example_site), "COLUMNS": "200"}
    listed = subprocess.run([str(SPECPROOF), "adapters"], capture_output=True, text=True, env=env)
    line = next(line for line in listed.stdout.splitlines() if " example " in line)
    assert "yes" in line and "specproof-example-adapter" in line
    done = subprocess.run([str(SPECPROOF), "run", "--adapter", "example", "--results", str(tmp_path),
                           "--run-id", "ex", "-k", "DeleteSecurityContext and not Async"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    records = [json.loads(line) for line in (tmp_path / "ex" / "results.jsonl").read_text().splitlines()]
    assert records and {r["outcome"] for r in records} == {"not-implemented"}
    assert done.returncode == 0 and "not-implemented" in done.stdout
    run = json.loads((tmp_path / "ex" / "run.json").read_text())
    assert run["implementation"]["name"] == "example" and run["adapter"] == "example"


def test_kernel_cases_are_not_applicable_on_a_user_mode_adapter(example_site: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(example_site)}
    subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "conformance" / "fwpmk"), "-q", "-p",
                    "no:cacheprovider", "--adapter", "example", "--results", str(tmp_path), "--run-id", "k"],
                   capture_output=True, text=True, env=env, cwd=ROOT)
    records = [json.loads(line) for line in (tmp_path / "k" / "results.jsonl").read_text().splitlines()]
    assert records and all(r["outcome"] == "not-applicable" for r in records)
    assert "cannot run kernel-mode code" in records[0]["message"]


def test_run_command_prints_a_summary_table_and_where_results_are(tmp_path: Path):
    done = subprocess.run([str(SPECPROOF), "run", "--results", str(tmp_path), "--run-id", "cli",
                           "-k", "IPsecSaContextExpire0"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-2000:]
    assert "fwpmk" in done.stdout and "fwpmu" in done.stdout
    assert f"results: {tmp_path / 'cli' / 'results.jsonl'}" in done.stdout.replace("\n", "")


def test_capabilities_beyond_the_contract_are_declared_protocols():
    from specproof.adapter.contract import Adapter, RecoversBetweenTests, SurveysExports
    from specproof_adapters.model import ModelAdapter
    from specproof_adapters.wine import WineAdapter

    assert issubclass(WineAdapter, RecoversBetweenTests) and issubclass(WineAdapter, SurveysExports)
    assert not issubclass(ModelAdapter, RecoversBetweenTests), "the model needs no step between tests"

    class Minimal:  # the contract alone: the kit asks for nothing more
        def info(self): ...
        def resolve(self, module, symbol): ...
        def alloc(self, size): ...
        def write(self, address, data): ...
        def read(self, address, size): ...
        def free(self, address): ...
        def call(self, address, args, timeout): ...
        def close(self): ...

    assert isinstance(Minimal(), Adapter)
    assert not isinstance(Minimal(), (RecoversBetweenTests, SurveysExports))
