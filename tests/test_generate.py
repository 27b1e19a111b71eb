"""The generate stage: derivation rules, rendering, determinism, and doc text kept as data."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from specproof.cli import main
from specproof.derive.catalog import Catalog
from specproof.derive.rules import derive
from specproof.generate import cases_path, module_path, plan, write
from specproof.generate.render import pydoc, pylit
from specproof.spec import Clause, ReturnCode, Source, Spec, dump_spec, load_spec
from specproof.readers.text import digest_text

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml")
EVIL = ('He said """hi""" and \'\'\'bye\'\'\' \\ backslash \\n {{ config }} {% if x %}{% endif %} '
        '\u00e9\u4e2d\U0001F600 \x00\x1b end"\n__import__("os").system("touch PWNED")\n"""; raise SystemExit #')


def spec_with(text: str, **extra) -> Spec:
    base = dict(
        api="DeleteThing", header="thing.h", dll="Thing.dll", summary=text,
        source=Source(format="sdk-api", file="x.md", digest="sha256:00"),
        clauses=[Clause(id="R1", section="returns", text=text, digest=digest_text(text), kind="normative"),
                 Clause(id="R2", section="returns", text="If it has already been deleted, SEC_E_OK.",
                        digest=digest_text("If it has already been deleted, SEC_E_OK."), kind="normative")],
        returns={"shape": "status", "codes": [
            ReturnCode(name="SEC_E_OK", value=0, success=True, clause="R2"),
            ReturnCode(name="SEC_E_INVALID_HANDLE", value=0x80090301, clause="R1")]},
        signature={"params": [{"name": "phContext", "type": "PCtxtHandle", "direction": "in", "doc": text}]},
        cases=[{"id": "evil-note", "covers": ["R1"], "note": text,
                "given": {"phContext": {"handle": "garbage"}}, "expect": {"returns": "SEC_E_INVALID_HANDLE"}}],
    )
    base.update(extra)
    return Spec.model_validate(base)


def write_specs(root: Path, *specs: Spec) -> None:
    for spec in specs:
        folder, name = spec.path_key
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / f"{name}.yaml").write_text(dump_spec(spec), encoding="utf-8")


@pytest.mark.parametrize("text", [EVIL, "", "x", '"', "\\", '"""', "a\nb\n", " trailing quote\"", "\r\n\t\u2028"])
def test_literals_are_exactly_the_text(text: str):
    assert ast.literal_eval(pylit(text)) == text
    assert ast.literal_eval(pydoc(text, 0)) == text + ("\n" if "\n" in text else "")
    indented = ast.literal_eval(pydoc(text, 4))
    assert indented.replace("\n    ", "\n") == text + ("\n" if "\n" in text else "")
    assert ast.literal_eval(pylit([text, "R1"])) == (text, "R1")


def test_adversarial_doc_text_compiles_and_stays_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    specs, out = tmp_path / "specs", tmp_path / "suites"
    evil_name = 'Evil"); __import__("os").system("touch PWNED"); ("'
    write_specs(specs, spec_with(EVIL))
    odd = spec_with(EVIL, api="Odd", signature={"params": [
        {"name": "class", "type": "PCtxtHandle", "direction": "in", "doc": EVIL}]},
        cases=[{"id": "keyword-param", "given": {"class": {"handle": "null"}}, "note": evil_name}])
    write_specs(specs, odd)
    result = plan(specs, out, CATALOG)
    write(result)
    source = cases_path(out, "thing").read_text(encoding="utf-8")
    tree = ast.parse(source)  # compiles
    compile(source, "test_thing.py", "exec")
    docstrings = [ast.get_docstring(node) for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef)]
    evil_tests = [d for d in docstrings if d and EVIL in d]
    assert evil_tests, "the clause text should be quoted verbatim in a docstring"
    assert "api.call(\"Odd\", **{\"class\": bad_handle(\"null\")})" in source
    # Importing runs no doc text: nothing is executed, no file appears.
    monkeypatch.chdir(tmp_path)
    module_spec = importlib.util.spec_from_file_location("generated_thing", module_path(out, "thing"))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    assert not (tmp_path / "PWNED").exists()
    tests = [name for name in vars(module) if name.startswith("test_")]
    assert "test_DeleteThing__evil_note" in tests and "test_Odd__keyword_param" in tests
    sys.modules.pop("generated_thing", None)


def test_generation_is_deterministic_and_check_finds_drift(tmp_path: Path):
    specs, out = tmp_path / "specs", tmp_path / "suites"
    write_specs(specs, spec_with("The handle is not valid."))
    first = plan(specs, out, CATALOG)
    write(first)
    again = plan(specs, out, CATALOG)
    assert again.clean and again.files == first.files
    spec_path = specs / "thing" / "DeleteThing.yaml"
    spec = load_spec(spec_path)
    spec.clauses[0].text = "The handle passed is not valid."
    spec_path.write_text(dump_spec(spec), encoding="utf-8")
    edited = plan(specs, out, CATALOG)
    assert [p.split(": ", 1)[1] for p in edited.rejected] == [
        f"error: digest does not match the text of R1; if the text was edited on purpose, set digest: "
        f"{digest_text(spec.clauses[0].text)}"], "a spec lint rejects is left out, with lint's message"
    spec.clauses[0].digest = digest_text(spec.clauses[0].text)
    spec_path.write_text(dump_spec(spec), encoding="utf-8")
    assert plan(specs, out, CATALOG).changed == [cases_path(out, "thing")]
    (out / "gone").mkdir()
    stale = out / "gone" / "test_gone.py"
    stale.write_text(module_path(out, "thing").read_text())
    assert plan(specs, out, CATALOG).removed == [stale]


def test_generate_check_cli_on_the_committed_suites():
    result = CliRunner().invoke(main, ["generate", "--check", "--specs", str(ROOT / "specs"),
                                       "--out", str(ROOT / "conformance")])
    assert result.exit_code == 0, result.output


def test_generate_check_cli_fails_when_stale(tmp_path: Path):
    specs, out = tmp_path / "specs", tmp_path / "suites"
    write_specs(specs, spec_with("Text."))
    result = CliRunner().invoke(main, ["generate", "--check", "--specs", str(specs), "--out", str(out),
                                       "--catalog", str(ROOT / "conformance" / "fixtures" / "catalog.yaml")])
    assert result.exit_code == 1
    assert "out of date" in result.output and "test_thing.py" in result.output


def test_generate_into_a_folder_without_fixtures_says_so(tmp_path: Path):
    specs, out = tmp_path / "specs", tmp_path / "suites"
    write_specs(specs, spec_with("Text."))
    result = CliRunner().invoke(main, ["generate", "--specs", str(specs), "--out", str(out)])
    assert result.exit_code == 2
    assert "no fixture catalog" in result.output and "--catalog" in result.output
    assert not out.exists(), "nothing generated without the catalog"


def test_generate_leaves_out_what_lint_rejects_and_fails(tmp_path: Path):
    specs, out = tmp_path / "specs", tmp_path / "suites"
    good = spec_with("Text.", api="GoodThing")
    bad = spec_with("Text.", cases=[{"id": "twice", "covers": ["R9"]}, {"id": "twice", "covers": ["R1"]}])
    write_specs(specs, good, bad)
    result = CliRunner().invoke(main, ["generate", "--specs", str(specs), "--out", str(out),
                                       "--catalog", str(ROOT / "conformance" / "fixtures" / "catalog.yaml")])
    assert result.exit_code == 1
    assert "DeleteThing.yaml" in result.output and "duplicate case id twice" in result.output
    assert "covers unknown clause R9" in result.output
    source = cases_path(out, "thing").read_text()
    assert "test_GoodThing__" in source and "test_DeleteThing__" not in source


def _by_id(spec: Spec) -> dict:
    return {case.id: case for case in derive(spec, CATALOG)}


def test_rules_on_delete_security_context():
    cases = _by_id(load_spec(ROOT / "specs" / "sspi" / "DeleteSecurityContext.yaml"))
    rules = {case.rule for case in cases.values()}
    assert {"curated", "export", "success"} <= rules
    # Curated cases replace the identical ones the rules would derive.
    assert "invalid-handle-phcontext-null" not in cases and "null-handle" in cases
    assert "release-twice-phcontext" not in cases and "delete-twice" in cases
    # The page says a deleted handle gives SEC_E_OK, so invalid-handle derives no `released` variant.
    assert not any(c.rule == "invalid-handle" and "released" in c.id for c in cases.values())
    assert cases["success"].covers == ["R1"] and cases["success"].expect.success is True


def test_rules_on_a_kernel_function_mark_every_case_kernel():
    cases = derive(load_spec(ROOT / "specs" / "fwpmk" / "IPsecSaContextExpire0.yaml"), CATALOG)
    assert cases and all(case.mode == "kernel" for case in cases)
    assert not any(case.rule == "export" for case in cases)
    assert any(case.rule == "kernel-mode" for case in cases)


def test_null_pointer_is_robustness_unless_a_clause_says():
    cases = _by_id(load_spec(ROOT / "specs" / "sspi" / "QueryContextAttributesW.yaml"))
    case = cases["null-pointer-pbuffer"]
    # the docs say nothing of NULL there: any answer passes that is no crash, hang or undocumented code
    assert case.level == "robustness" and case.expect.success is None
    spec = spec_with("x", signature={"params": [
        {"name": "pOut", "type": "ULONG*", "direction": "out", "doc": ""}]})
    spec.clauses.append(Clause(id="R9", section="returns", text="If pOut is NULL, the call fails.",
                               digest="sha256:2", kind="normative"))
    assert _by_id(spec)["null-pointer-pout"].level == "conformance"
    assert _by_id(spec)["null-pointer-pout"].covers == ["R9"]
    assert _by_id(spec)["null-pointer-pout"].expect.success is False


def test_async_completion_codes_become_completion_expectations():
    cases = _by_id(load_spec(ROOT / "specs" / "sspi" / "SspiDeleteSecurityContextAsync.yaml"))
    assert cases["delete-through-async-context"].expect.completion == "SEC_E_OK"
    invalid = [c for c in cases.values() if c.rule == "invalid-handle"]
    assert invalid and all(c.expect.completion == "SEC_E_INVALID_HANDLE" for c in invalid)


@pytest.mark.parametrize("name", ["_lopen", "_lclose", "alloc", "call", "wide", "timeout", "adapter", "specs",
                                  "observations"])
def test_every_documented_name_reaches_the_function(name: str):
    """`api.NAME(...)` would reach the Api object's own method or field: such names go through api.call."""
    from specproof.generate.render import _call_code

    assert _call_code(name, [("hFile", "0x0")]) == [f'returned = api.call("{name}", **{{"hFile": 0x0}})']
    assert _call_code("CreateFileW", [("hFile", "0x0")]) == ["returned = api.CreateFileW(hFile=0x0)"]


def test_constants_in_a_case_are_looked_up_when_the_test_runs_and_stay_names():
    from pydantic import ValidationError

    from specproof.generate.render import render_test
    from specproof.spec.model import Case

    spec = load_spec(ROOT / "specs" / "fileapi" / "CreateFileW.yaml")
    case = Case.model_validate({"id": "open", "given": {
        "dwDesiredAccess": {"constant": "GENERIC_READ | GENERIC_WRITE"},
        "hTemplateFile": {"constant": "INVALID_HANDLE_VALUE", "pointer": True}}, "expect": {"success": False}})
    code = "\n".join(render_test(spec, case).body)
    assert 'api.constant("GENERIC_READ") | api.constant("GENERIC_WRITE")' in code
    assert 'api.constant("INVALID_HANDLE_VALUE", pointer=True)' in code
    with pytest.raises(ValidationError):  # text that is not a name never reaches the suite
        Case.model_validate({"id": "bad", "given": {"dwDesiredAccess": {"constant": "X); import os; os.system('')"}}})


def test_structures_signs_addresses_and_writes_render_as_calls_with_names_as_data():
    from pydantic import ValidationError

    from specproof.generate.render import render_test
    from specproof.spec.model import Case

    spec = load_spec(ROOT / "specs" / "wdm" / "InsertTailList.yaml")
    case = Case.model_validate({"id": "x", "given": {
        "ListHead": {"fixture": "list_with_entry"},
        "Entry": {"struct": "LIST_ENTRY", "fields": {"Flink": 0, "Blink": 16}}},
        "expect": {"sign": "zero", "value_is": {"arg": "Entry"}, "writes": {
            "ListHead": {"Blink": {"arg": "Entry"}},
            "Entry": {"Blink": {"fixture": "list_with_entry", "attr": "entry"}, "Flink": "nonzero"}}}})
    test = render_test(spec, case)
    code = "\n".join(test.body)
    assert 'api.struct("LIST_ENTRY", **{"Flink": 0x0, "Blink": 0x10})' in code
    assert 'expect_sign(api, returned, "zero")' in code
    assert 'expect_value_is(api, returned, ("arg", "Entry"))' in code
    assert 'expect_writes(api, returned, "ListHead", {"Blink": ("arg", "Entry")})' in code
    assert 'expect_writes(api, returned, "Entry", {"Blink": list_with_entry.entry, "Flink": "nonzero"})' in code
    assert test.params == ["api", "list_with_entry"]
    ast.parse("\n".join(test.body))
    assert "Entry then holds" in test.expect_text and "returns the address of Entry" in test.expect_text
    for bad in ({"given": {"X": {"struct": "A); import os #"}}},
                {"given": {"X": {"struct": "A", "fields": {"f); x": 1}}}},
                {"expect": {"writes": {"P": {"f.g": 1}}}},
                {"expect": {"value_is": {"fixture": "a; b"}}},
                {"expect": {"value_is": {"arg": "a", "fixture": "b"}}}):
        with pytest.raises(ValidationError):  # names that are not identifiers never reach the suite
            Case.model_validate({"id": "bad", **bad})
