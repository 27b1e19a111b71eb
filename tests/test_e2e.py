"""Every page shape a docs checkout holds, through every stage: ingest, lint, generate, run, site build.

Each stage is run by its command, as a user runs them one after the other,
on pages this file writes (one per shape) and, when the sample corpus sits
beside the checkout, the corpus pages that once broke a stage. The chain
must give zero failed pages, zero lint errors and zero `error` outcomes,
and every stage must give the same answer about which specs there are.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from shapes import WRITTEN
from specproof.cli import main
from specproof.derive.catalog import Catalog
from specproof.derive.rules import derive
from specproof.site import nav
from specproof.spec.lint import lint

ROOT = Path(__file__).resolve().parents[1]

# corpus pages that broke a stage when a whole checkout went through them
CORPUS_PAGES = [
    "wdk-ddi/wextestclass/nf-wextestclass-fixtureinvokefunctor-operator-assign.md",
    "wdk-ddi/mdlapi/nf-mdlapi-ndisallocatemdl.md",
    "wdk-ddi/ks/nf-ks-_ksedit.md",
    "wdk-ddi/wdm/nf-wdm-_bittest64~r1.md",
    "wdk-ddi/miniport/nf-miniport-_bittest64~r1.md",
    "wdk-ddi/dbgeng/nf-dbgeng-idebugclient-attachprocess.md",
    "wdk-ddi/engextcpp/nf-engextcpp-extbuffer-copy(const_t_ulong).md",
    "wdk-ddi/wdm/nf-wdm-kewaitforsingleobject.md",
    "sdk-api/fileapi/nf-fileapi-createfilew.md",
]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"specproof {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict:
    """The whole chain once, in a folder of its own; what each stage left behind."""
    base = tmp_path_factory.mktemp("e2e")
    pages = base / "pages"
    for name, data in WRITTEN.items():
        (pages / name).parent.mkdir(parents=True, exist_ok=True)
        (pages / name).write_bytes(data)
    inputs = [str(pages)]
    corpus = [CORPUS / p for p in CORPUS_PAGES if (CORPUS / p).is_file()]
    inputs += [str(p) for p in corpus]
    specs, suites, results = base / "specs", base / "conformance", base / "results"
    suites.mkdir()
    shutil.copy(ROOT / "conformance" / "conftest.py", suites / "conftest.py")
    shutil.copytree(ROOT / "conformance" / "fixtures", suites / "fixtures")
    shutil.copytree(ROOT / "site", base / "site", ignore=shutil.ignore_patterns("generated"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)
        outputs = {
            "ingest": _cli("ingest", *inputs, "--out", str(specs), "--jobs", "1"),
            "lint": _cli("lint", str(specs)),
            "generate": _cli("generate", "--specs", str(specs), "--out", str(suites)),
        }
        run = CliRunner().invoke(main, ["run", "--adapter", "model", "--specs", str(specs), "--suites", str(suites),
                                        "--results", str(results), "--run-id", "e2e"], catch_exceptions=False)
        outputs["run"] = run.output
        outputs["site"] = _cli("site", "build", "--results", str(results), "--specs", str(specs), "--docs",
                               str(base / "site"), "--out", str(base / "public"), "--config",
                               str(ROOT / "mkdocs.yml"))
    records = [json.loads(line) for line in (results / "e2e" / "results.jsonl").read_text().splitlines()]
    return {"base": base, "specs": specs, "results": records, "out": outputs, "corpus": corpus,
            "public": base / "public", "run_status": run.exit_code}


def _specs(chain) -> dict:
    return {spec.key: spec for spec in lint(chain["specs"]).specs}


def test_every_page_gives_a_spec_and_lint_finds_no_error(chain):
    result = lint(chain["specs"])
    assert result.errors == 0, [str(p) for p in result.problems if p.severity == "error"]
    assert result.files == len(WRITTEN) + len(chain["corpus"])
    assert "failed" not in chain["out"]["ingest"].split("│ failed")[-1].split("\n")[0].replace("0", "")


def test_no_test_ends_in_error(chain):
    outcomes = Counter(r["outcome"] for r in chain["results"])
    assert outcomes["error"] == 0, [(r["id"], r["message"]) for r in chain["results"] if r["outcome"] == "error"]
    assert sum(outcomes.values()) > len(WRITTEN)


def test_every_stage_names_the_same_specs(chain):
    specs = _specs(chain)
    catalog = Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml")
    derived = {key for key, spec in specs.items() if derive(spec, catalog)}
    tested = {r["spec"] for r in chain["results"]}
    assert tested == derived, "the run tested every spec the rules derive cases for, under the key the specs give"
    assert not any(spec.kind == "method" for key, spec in specs.items() if key in tested)
    for key in specs:
        page_file = chain["public"] / (nav.function_page(key).removesuffix(".md") + ".html")
        assert page_file.is_file(), f"no site page for {key}"


def test_shapes_read_as_documented(chain):
    specs = _specs(chain)
    assert specs["subhdr/SubFunction"].header == "netx/subhdr.h"
    assert [specs[f"{h}/_Twin~r1"].api for h in ("hdra", "hdrb")] == ["_Twin", "_Twin"]
    method = specs["testhdr/ITestThing.DoThing"]
    assert (method.api, method.kind) == ("ITestThing::DoThing", "method")
    copy = specs["testhdr/TestBuf.Copy_const_T_ULONG_"]
    assert [p.name for p in copy.signature.params] == ["Elts", "Elts_2"] and copy.source.problems
    operator = specs["testhdr/TestBuf.operator-assign"]
    assert [p.name for p in operator.signature.params] == ["unnamedParam1"]
    assert "without a parameter name" in operator.source.problems[0]
    assert {c.name for c in specs["testhdr/TestWait"].returns.codes if c.name} == {"STATUS_SUCCESS", "STATUS_TIMEOUT"}
    copied = specs["copyhdr/CopiedFunction"]
    assert (copied.source.format, [p.name for p in copied.signature.params]) == ("learn-text", ["hThing"])
    assert {c.name for c in copied.returns.codes} == {"S_OK", "E_HANDLE"}
    assert specs["copyhdr/ICopied.Close"].api == "ICopied::Close"


@pytest.mark.parametrize("name", ["_TestEdit", "alloc"])
def test_every_documented_name_is_called(chain, name):
    """A leading underscore or a name the `api` object has itself still reaches the function."""
    records = [r for r in chain["results"] if r["spec"] == f"testhdr/{name}"]
    assert {r["rule"] for r in records} >= {"export", "null-pointer"}
    assert all(r["outcome"] == "not-implemented" and name in r["message"] for r in records), records


def test_site_says_why_a_method_has_no_tests_and_what_the_page_lacked(chain):
    method = (chain["public"] / "generated" / "api" / "testhdr" / "ITestThing.DoThing.html").read_text()
    assert "No call tests: a method is called through an object" in method
    assert "ITestThing::DoThing" in method
    operator = (chain["public"] / "generated" / "api" / "testhdr" / "TestBuf.operator-assign.html").read_text()
    assert "Read with problems" in operator and "without a parameter name" in operator


def test_corpus_pages_that_broke_a_stage(chain):
    if not chain["corpus"]:
        pytest.skip(f"sample pages not found at {CORPUS}")
    specs = _specs(chain)
    assert {"mdlapi/NdisAllocateMdl", "ks/_KsEdit", "wdm/_BitTest64~r1", "miniport/_BitTest64~r1",
            "dbgeng/IDebugClient.AttachProcess", "engextcpp/ExtBuffer.Copy_const_T_ULONG_",
            "wextestclass/FixtureInvokeFunctor.operator-assign", "wdm/KeWaitForSingleObject",
            "fileapi/CreateFileW"} <= set(specs)
    ksedit = [r for r in chain["results"] if r["spec"] == "ks/_KsEdit"]
    assert ksedit and all(r["outcome"] != "error" for r in ksedit)
