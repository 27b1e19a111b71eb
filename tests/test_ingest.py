"""`specproof ingest`: whole folders, bad pages, re-ingest and determinism."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pagemaker import page
from specproof.cli import main
from specproof.ingest import ingest
from specproof.spec.yamlio import dump_spec, load_spec


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return write_docs(tmp_path / "docs")


def write_docs(root: Path) -> Path:
    """A small docs folder: two function pages, a structure page and a README."""
    write(root / "testhdr" / "nf-testhdr-alpha.md", page(api="Alpha"))
    write(root / "testhdr" / "nf-testhdr-beta.md", page(api="Beta", returns="Returns **E_FAIL** on failure."))
    write(root / "testhdr" / "ns-testhdr-thing.md",
          page(api="THING").replace(b"UID: NF:testhdr.THING", b"UID: NS:testhdr._THING"))
    write(root / "README.md", b"# Docs\n\nJust a readme.\n")
    return root


def test_folder_is_read_recursively_and_summarised(docs: Path, tmp_path: Path):
    report = ingest([docs], tmp_path / "specs", workers=1, include_dirs=())
    assert report.read == 4
    assert sorted(p.name for p in report.written) == ["Alpha.yaml", "Beta.yaml"]
    assert [why for _, why in report.skipped] == ["not an API reference page", "a structure page (UID NS:testhdr._THING)"]
    assert report.failed == []
    assert (tmp_path / "specs" / "schema.json").exists()
    spec = load_spec(tmp_path / "specs" / "testhdr" / "Alpha.yaml")
    assert spec.source.file == "docs/testhdr/nf-testhdr-alpha.md"


def test_second_run_changes_nothing(docs: Path, tmp_path: Path):
    out = tmp_path / "specs"
    ingest([docs], out, workers=1, include_dirs=())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    report = ingest([docs], out, workers=1, include_dirs=())
    assert report.written == [] and report.unchanged == 2
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert before == after


def test_parallel_and_serial_give_the_same_bytes(tmp_path: Path):
    root = tmp_path / "many"
    for i in range(80):
        write(root / f"nf-testhdr-f{i}.md", page(api=f"F{i}", returns=f"Returns **S_OK**. Case {i}."))
    serial = ingest([root], tmp_path / "a", workers=1, include_dirs=())
    parallel = ingest([root], tmp_path / "b", workers=2, include_dirs=())
    assert len(serial.written) == len(parallel.written) == 80
    for path in (tmp_path / "a").rglob("*.yaml"):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


def test_bad_pages_are_reported_and_never_stop_the_others(tmp_path: Path):
    root = tmp_path / "bad"
    write(root / "good.md", page(api="Good"))
    write(root / "truncated.md", b"---\nUID: NF:testhdr.Truncated\ntitle: Truncated\nreq.header: testhdr.h\n")
    write(root / "garbage.md", os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00")
    write(root / "empty.md", b"")
    big = root / "huge.md"
    with big.open("wb") as handle:
        handle.write(page(api="Huge"))
        handle.write(b"x" * (50 * 1024 * 1024))
    report = ingest([root], tmp_path / "specs", workers=1, include_dirs=())
    failed = dict(report.failed)
    assert set(failed) == {"bad/truncated.md", "bad/garbage.md", "bad/empty.md", "bad/huge.md"}
    assert "never closed" in failed["bad/truncated.md"]
    assert "binary" in failed["bad/garbage.md"] or "UTF-8" in failed["bad/garbage.md"]
    assert "empty" in failed["bad/empty.md"]
    assert "too large" in failed["bad/huge.md"]
    assert [p.name for p in report.written] == ["Good.yaml"]


def test_cli_exits_non_zero_and_names_failed_files(tmp_path: Path):
    write(tmp_path / "in" / "ok.md", page(api="Ok"))
    write(tmp_path / "in" / "broken.md", b"---\nUID: x\n")
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "in"), "--out", str(tmp_path / "specs"), "--no-sdk"])
    assert result.exit_code == 1
    assert "broken.md" in result.output and "never closed" in result.output
    assert (tmp_path / "specs" / "testhdr" / "Ok.yaml").exists()


def test_an_explicit_file_that_is_no_page_fails(tmp_path: Path):
    notes = write(tmp_path / "notes.txt", b"just some notes\n")
    report = ingest([notes], tmp_path / "specs", workers=1, include_dirs=())
    assert report.failed and "unknown page format" in report.failed[0][1]


def test_newest_page_of_a_function_wins(tmp_path: Path):
    old = write(tmp_path / "a" / "old.md", page(api="Dup", date="01/01/2018", remarks="Old remark."))
    new = write(tmp_path / "b" / "new.md", page(api="Dup", date="01/01/2023", remarks="New remark."))
    report = ingest([old, new], tmp_path / "specs", workers=1, include_dirs=())
    spec = load_spec(tmp_path / "specs" / "testhdr" / "Dup.yaml")
    assert spec.source.date == "2023-01-01" and spec.clauses[-1].text == "New remark."
    assert [file for file, _ in report.superseded] == ["old.md"]
    # an older page does not replace a spec read from a newer one, unless forced
    again = ingest([old], tmp_path / "specs", workers=1, include_dirs=())
    assert again.kept_newer and load_spec(tmp_path / "specs" / "testhdr" / "Dup.yaml").source.date == "2023-01-01"
    ingest([old], tmp_path / "specs", workers=1, include_dirs=(), force=True)
    assert load_spec(tmp_path / "specs" / "testhdr" / "Dup.yaml").source.date == "2018-01-01"


REMARKS_V1 = "The function deletes the context. After deletion the handle is no longer valid. See Contexts."
REMARKS_V2 = ("A new first sentence. The function deletes the context. "
              "After deletion the handle is not valid any more. See Contexts.")


def test_reingest_keeps_cases_and_editor_codes_and_reports_stale(tmp_path: Path):
    out = tmp_path / "specs"
    v1 = write(tmp_path / "v1" / "nf-testhdr-life.md", page(api="Life", date="01/01/2020", remarks=REMARKS_V1))
    ingest([v1], out, workers=1, include_dirs=())
    path = out / "testhdr" / "Life.yaml"
    spec = load_spec(path)
    ids = {c.text: c.id for c in spec.clauses}
    deleted_id, invalid_id = ids["The function deletes the context."], ids[
        "After deletion the handle is no longer valid."]
    data = spec.model_copy(deep=True)
    from specproof.spec.model import Case, ReturnCode

    data.cases = [
        Case(id="delete-once", covers=[deleted_id], given={"hThing": {"fixture": "thing"}},
             expect={"returns": "S_OK"}),
        Case(id="use-after-delete", covers=[invalid_id], given={"hThing": {"fixture": "deleted_thing"}},
             expect={"returns": "E_HANDLE"}),
    ]
    data.returns.codes.append(ReturnCode(name="E_HANDLE", value=0x80070006, origin="editor", note="seen on Windows"))
    data.returns.codes[0].note = "checked by hand"
    path.write_text(dump_spec(data), encoding="utf-8")

    v2 = write(tmp_path / "v2" / "nf-testhdr-life.md", page(api="Life", date="01/01/2024", remarks=REMARKS_V2))
    report = ingest([v2], out, workers=1, include_dirs=())
    assert [(case, ids_) for _, case, ids_ in report.stale] == [("use-after-delete", [invalid_id])]
    merged = load_spec(path)
    by_text = {c.text: c.id for c in merged.clauses}
    assert by_text["The function deletes the context."] == deleted_id  # same text keeps its id
    assert by_text["After deletion the handle is not valid any more."] == invalid_id  # replaced in place
    assert by_text["A new first sentence."] not in ids.values()  # inserted: a fresh id
    assert [c.id for c in merged.cases] == ["delete-once", "use-after-delete"]
    assert merged.cases[1].stale == [invalid_id] and merged.cases[0].stale == []
    assert any(c.name == "E_HANDLE" and c.origin == "editor" for c in merged.returns.codes)
    assert merged.returns.codes[0].note == "checked by hand"
    assert len({c.id for c in merged.clauses}) == len(merged.clauses)


def test_a_spec_that_cannot_be_written_is_reported(tmp_path: Path):
    write(tmp_path / "in" / "nf-testhdr-ok.md", page(api="Ok"))
    write(tmp_path / "in" / "nf-testhdr-blocked.md", page(api="Blocked"))
    out = tmp_path / "specs"
    (out / "testhdr" / "Blocked.yaml.tmp").mkdir(parents=True)  # a folder where the temporary file goes
    report = ingest([tmp_path / "in"], out, workers=1, include_dirs=())
    assert [p.name for p in report.written] == ["Ok.yaml"]
    assert [file for file, _ in report.failed] == ["in/nf-testhdr-blocked.md"]
    assert "cannot write" in report.failed[0][1]
