"""Spec files: the YAML form, the schema, and `specproof lint`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from specproof.cli import main
from specproof.spec import Clause, ReturnCode, Source, Spec, dump_spec, load_spec
from specproof.spec.lint import lint
from specproof.spec.schema import schema_text, write_schema
from specproof.readers.text import digest_text

SPECS = Path(__file__).resolve().parents[1] / "specs"


def make_spec(**extra) -> Spec:
    text = "If the handle has already been deleted, the return value is SEC_E_OK."
    base = dict(
        api="DeleteThing", header="thing.h", dll="Thing.dll",
        source=Source(format="sdk-api", file="x.md", digest="sha256:00"),
        clauses=[Clause(id="R1", section="returns", text=text, digest=digest_text(text), kind="normative")],
        returns={"shape": "status", "codes": [ReturnCode(name="SEC_E_OK", value=0, success=True, clause="R1"),
                                              ReturnCode(name="SEC_E_INVALID_HANDLE", value=0x80090301)]},
        signature={"params": [{"name": "phThing", "type": "PThing", "direction": "in", "doc": "Line one.\nLine two."}]},
    )
    base.update(extra)
    return Spec.model_validate(base)


def write_specs(root: Path, *specs: Spec) -> None:
    root.mkdir(parents=True, exist_ok=True)
    write_schema(root)
    for spec in specs:
        folder, name = spec.path_key
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / f"{name}.yaml").write_text(dump_spec(spec), encoding="utf-8")


def test_dump_is_deterministic_readable_and_round_trips(tmp_path: Path):
    spec = make_spec()
    text = dump_spec(spec)
    assert text == dump_spec(make_spec())
    assert text.startswith("# yaml-language-server: $schema=../schema.json\nspec: 1\napi: DeleteThing\n")
    assert "value: 0x80090301" in text and "value: 0x00000000" in text
    assert "doc: |-\n      Line one.\n      Line two." in text
    path = tmp_path / "thing" / "DeleteThing.yaml"
    path.parent.mkdir()
    path.write_text(text)
    assert load_spec(path) == spec


def test_schema_is_generated_from_the_model():
    schema = json.loads(schema_text())
    assert schema["title"] == "specproof spec"
    assert "clauses" in schema["properties"] and schema["additionalProperties"] is False


def test_committed_specs_lint_clean_and_schema_is_current():
    result = lint(SPECS)
    assert result.files > 50
    assert [str(p) for p in result.problems if p.severity == "error"] == []
    assert (SPECS / "schema.json").read_text() == schema_text()


def lint_one(tmp_path: Path, text: str):
    root = tmp_path / "specs"
    root.mkdir(exist_ok=True)
    write_schema(root)
    path = root / "thing" / "DeleteThing.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return lint(root), path


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path):
    result, path = lint_one(tmp_path, "spec: 1\napi: [unclosed\n")
    (problem,) = result.problems
    assert problem.path == path and problem.line >= 2 and "YAML syntax" in problem.message


def test_schema_errors_point_at_the_key(tmp_path: Path):
    text = dump_spec(make_spec()).replace("  direction: in\n", "  direction: sideways\n")
    text = text.replace("kind: normative", "kind: normativ")
    result, path = lint_one(tmp_path, text)
    messages = {(p.line, p.message.split(":")[0]) for p in result.problems}
    lines = text.splitlines()
    direction_line = next(i for i, l in enumerate(lines, 1) if "sideways" in l)
    kind_line = next(i for i, l in enumerate(lines, 1) if "normativ" in l and "kind" in l)
    assert (direction_line, "signature.params.0.direction") in messages
    assert (kind_line, "clauses.0.kind") in messages


def test_meaning_checks(tmp_path: Path):
    spec = make_spec(cases=[
        {"id": "c1", "covers": ["R1", "R9"], "given": {"phThing": {"handle": "null"}, "hOther": {"value": 1}},
         "expect": {"returns": "E_NOPE", "completion": "SEC_E_OK"}},
        {"id": "c1", "covers": ["R1"], "expect": {"success": True}},
    ])
    spec.clauses.append(spec.clauses[0].model_copy())
    spec.clauses[0].text = "Edited by hand."
    spec.returns.codes.append(ReturnCode(name="SEC_E_MYSTERY"))
    spec.returns.codes.append(ReturnCode(name="SEC_E_UNKNOWN_THING", unresolved=True))
    result, path = lint_one(tmp_path, dump_spec(spec))
    errors = [p.message for p in result.problems if p.severity == "error"]
    warnings = [p.message for p in result.problems if p.severity == "warning"]
    joined = "\n".join(errors)
    assert "duplicate clause id R1" in joined
    assert "digest does not match" in joined
    assert "unknown clause R9" in joined
    assert "unknown parameter 'hOther'" in joined
    assert "E_NOPE, which is not among" in joined
    assert "duplicate case id c1" in joined
    assert "expects completion SEC_E_OK, which is not a completion-phase code" in joined
    assert "SEC_E_MYSTERY has no value" in joined
    assert any("SEC_E_UNKNOWN_THING is not in the SDK headers" in w for w in warnings)
    assert all(p.line > 1 for p in result.problems if p.severity == "error")


def test_unknown_expectation_is_a_schema_error(tmp_path: Path):
    text = dump_spec(make_spec(cases=[{"id": "c1", "expect": {"success": True}}]))
    text = text.replace("success: true", "outcomes: pass")
    result, _ = lint_one(tmp_path, text)
    problems = [p for p in result.problems if p.severity == "error"]
    assert problems and "outcomes" in problems[0].message and problems[0].line > 1


def test_misplaced_file_and_stale_schema(tmp_path: Path):
    root = tmp_path / "specs"
    root.mkdir()
    (root / "schema.json").write_text("{}")
    (root / "other").mkdir()
    (root / "other" / "DeleteThing.yaml").write_text(dump_spec(make_spec()))
    messages = [p.message for p in lint(root).problems]
    assert any("move it to thing/" in m for m in messages)
    assert any("schema.json is missing or out of date" in m for m in messages)


def test_a_file_named_for_another_function_is_an_error(tmp_path: Path):
    """A spec whose api and file name disagree would pass lint and end in SpecNotFound in the run."""
    root = tmp_path / "specs"
    (root / "thing").mkdir(parents=True)
    write_schema(root)
    (root / "thing" / "Renamed.yaml").write_text(dump_spec(make_spec()))
    problems = [p for p in lint(root).problems if p.severity == "error"]
    assert [p.message for p in problems] == [
        "file is named Renamed.yaml but its api (DeleteThing) and source uid give DeleteThing.yaml; rename the "
        "file, or fix api"]
    assert problems[0].line == 3, "the error points at the api line (after the modeline and spec: 1)"


def test_lint_cli_exit_status(tmp_path: Path):
    root = tmp_path / "specs"
    write_specs(root, make_spec())
    ok = CliRunner().invoke(main, ["lint", str(root)])
    assert ok.exit_code == 0, ok.output
    assert "1 spec files: 0 errors" in ok.output
    (root / "thing" / "DeleteThing.yaml").write_text("spec: 1\napi: X\n")
    bad = CliRunner().invoke(main, ["lint", str(root)])
    assert bad.exit_code == 1
    assert f"{root / 'thing' / 'DeleteThing.yaml'}:" in bad.output


def test_yaml_uses_the_c_loader_and_dumper():
    assert yaml.__with_libyaml__
    import inspect

    from specproof.spec import yamlio

    assert "Dumper=yaml.CSafeDumper" in inspect.getsource(yamlio.dump_spec)
    assert "yaml.CSafeLoader" in inspect.getsource(yamlio.load_file)


@pytest.mark.parametrize("bad", ["value: -1", "range: [5, 1]"])
def test_invalid_code_values_are_rejected(tmp_path: Path, bad: str):
    text = dump_spec(make_spec()).replace("value: 0x80090301", bad if bad.startswith("value") else bad)
    if bad.startswith("range"):
        text = text.replace("  - name: SEC_E_INVALID_HANDLE\n    value: 0x80090301",
                            "  - family: SEC_E_*\n    " + bad)
    result, _ = lint_one(tmp_path, text)
    assert result.errors >= 1
