"""The whole sample corpus: every page reads, and what it gives is a valid, lint-clean spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPUS, need_shared
from specproof.ingest import ingest
from specproof.spec.lint import lint


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    need_shared()
    out = tmp_path_factory.mktemp("corpus-specs")
    return ingest([CORPUS], out, workers=2), out


def test_every_corpus_page_reads(corpus_run):
    report, _ = corpus_run
    pages = sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")
    assert report.failed == []
    assert report.specs + len(report.superseded) == len(pages)
    assert [why for _, why in report.skipped] == ["not an API reference page"]  # the corpus README


def test_corpus_specs_lint_clean(corpus_run):
    _, out = corpus_run
    result = lint(out)
    assert [str(p) for p in result.problems if p.severity == "error"] == []
    assert result.files == len(list(Path(out).rglob("*.yaml")))


def test_corpus_specs_have_what_the_pages_give(corpus_run):
    _, out = corpus_run
    result = lint(out)
    by_api = {(s.header, s.api): s for s in result.specs}
    assert all(s.clauses or not s.returns.codes for s in result.specs)
    # kernel pages of the driver docs and user pages of the SDK docs
    assert by_api[("fwpmk.h", "FwpmEngineOpen0")].mode == "kernel"
    assert by_api[("fwpmu.h", "FwpmEngineOpen0")].mode == "user"
    # SAL annotations, unnamed params and sub-fields survive
    assert [p.name for p in by_api[("d3dkmthk.h", "D3DKMTEnumAdapters3")].signature.params] == ["unnamedParam1"]
    arg32 = next(p for p in by_api[("dbgeng.h", "IDebugAdvanced3::GetSymbolInformation")].signature.params
                 if p.name == "Arg32")
    assert "Arg32.DEBUG_SYMINFO_BREAKPOINT_SOURCE_LINE" in arg32.doc
    # a misspelled see-also heading still gives the see-also list
    assert all(s.see_also for s in result.specs if s.source.file.endswith("nf-dbgmodel-bindproperty~r1.md"))
    # codes resolved from the SDK headers where the page gives no value
    status = [c for s in result.specs for c in s.returns.codes if c.name]
    resolved = [c for c in status if c.value is not None]
    assert len(resolved) / len(status) > 0.8


def test_corpus_pages_of_every_shape_give_their_documented_names(corpus_run):
    """The shapes a whole docs checkout holds: each page gives a spec under the documented name."""
    _, out = corpus_run
    specs = {p.relative_to(out).as_posix(): s for s in lint(out).specs
             for p in [Path(out) / s.path_key[0] / f"{s.path_key[1]}.yaml"]}
    # a header in a subfolder: one folder below specs/, named as the docs name it
    assert specs["mdlapi/NdisAllocateMdl.yaml"].header == "ndis/mdlapi.h"
    # the docs' repeated names: the documented name in both headers, one spec per header
    for header in ("wdm", "miniport"):
        spec = specs[f"{header}/_BitTest64~r1.yaml"]
        assert (spec.api, spec.kind, spec.header) == ("_BitTest64", "function", f"{header}.h")
    # COM and C++ members carry the documented `::` name and are methods
    attach = specs["dbgeng/IDebugClient.AttachProcess.yaml"]
    assert (attach.api, attach.kind) == ("IDebugClient::AttachProcess", "method")
    copy = specs["engextcpp/ExtBuffer.Copy_const_T_ULONG_.yaml"]
    assert copy.api == "ExtBuffer::Copy"
    names = [p.name for p in copy.signature.params]
    assert len(names) == len(set(names)) and "Elts_2" in names
    assert any("repeats the name Elts" in problem for problem in copy.source.problems)
    # a -param heading without a name: the page still gives its spec, the part flagged
    operator = specs["wextestclass/FixtureInvokeFunctor.operator-assign.yaml"]
    assert operator.api == "FixtureInvokeFunctor::operator="
    assert len(operator.signature.params) == 1
    assert any("-param heading without a parameter name" in p for p in operator.source.problems)
    # A/W functions keep the export's name, not the neutral one api_name lists first
    assert "fileapi/CreateFileW.yaml" in specs and specs["fileapi/CreateFileW.yaml"].api == "CreateFileW"
    # a macro that tests codes is not a code
    wait = specs["wdm/KeWaitForSingleObject.yaml"]
    assert "NT_SUCCESS" not in {c.name for c in wait.returns.codes}
    assert {"STATUS_SUCCESS", "STATUS_TIMEOUT"} <= {c.name for c in wait.returns.codes}
