"""The page cache: a re-ingest reads only what changed, and writes what a cold ingest would."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS, SEEDS, need_shared
from pagemaker import page
from specproof.cli import main
from specproof.ingest import cache as page_cache
from specproof.ingest import collect, ingest
from specproof.ingest import read as reader
from specproof.spec.model import Case
from specproof.spec.yamlio import dump_spec, load_spec
from test_ingest import write, write_docs


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def summary(report, out: Path) -> dict:
    """The report with the output folder taken out of its paths, to compare runs into two folders."""
    return {
        "read": report.read, "unchanged": report.unchanged, "skipped": report.skipped, "failed": report.failed,
        "superseded": report.superseded, "sdk_note": report.sdk_note,
        "written": sorted(p.relative_to(out).as_posix() for p in report.written),
        "kept": [(f, p.relative_to(out).as_posix()) for f, p in report.kept_newer],
        "stale": [(p.relative_to(out).as_posix(), c, ids) for p, c, ids in report.stale],
    }


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The pages a reader reads, in order (the cache's hits never get there)."""
    seen: list[str] = []
    original = reader.read_all

    def spy(jobs, *args, **kwargs):
        seen.extend(job.display for job in jobs)
        return original(jobs, *args, **kwargs)

    monkeypatch.setattr(reader, "read_all", spy)
    return seen


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """test_ingest's docs folder, and a page that fails."""
    root = write_docs(tmp_path / "docs")
    write(root / "testhdr" / "nf-testhdr-broken.md", b"---\nUID: NF:testhdr.Broken\ntitle: Broken\n")
    return root


def test_cached_reingest_gives_the_bytes_and_report_of_a_cold_one(tmp_path: Path, reads, monkeypatch):
    need_shared()
    cache = tmp_path / "cache"
    cold = ingest([CORPUS, SEEDS], tmp_path / "a", workers=2, cache=False)
    reads.clear()
    first = ingest([CORPUS, SEEDS], tmp_path / "b", workers=2, cache_dir=cache)
    assert first.cached == 0 and len(reads) == first.read
    # the second run loads no reader, no SDK index and no worker
    monkeypatch.setattr(reader, "prepare", lambda *_: pytest.fail("the readers were started"))
    second = ingest([CORPUS, SEEDS], tmp_path / "b", workers=2, cache_dir=cache)
    assert second.cached == second.read == len(reads)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert summary(second, tmp_path / "b") == {**summary(cold, tmp_path / "a"), "written": [],
                                               "unchanged": len(cold.written)}
    # the third run replays the second's report (see cache.PageCache): the same
    third = ingest([CORPUS, SEEDS], tmp_path / "b", workers=2, cache_dir=cache)
    assert third == second and files(tmp_path / "a") == files(tmp_path / "b")
    # the winner logic on cached results: one page superseded, two kept, as a cold run says
    assert len(second.superseded) == 1 and len(second.kept_newer) == 2
    assert second.specs == cold.specs


def test_after_a_docs_update_only_the_changed_page_is_read(tmp_path: Path, reads):
    need_shared()
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs / "corpus")
    shutil.copytree(SEEDS, docs / "seeds")
    cache = tmp_path / "cache"
    ingest([docs], tmp_path / "out", workers=2, cache_dir=cache)
    edited = docs / "corpus" / "sdk-api" / "sspi" / "nf-sspi-deletesecuritycontext.md"
    text = edited.read_bytes()
    assert b"local data structures" in text
    edited.write_bytes(text.replace(b"local data structures", b"local structures", 1))
    reads.clear()
    report = ingest([docs], tmp_path / "out", workers=2, cache_dir=cache)
    assert reads == ["sdk-api/sspi/nf-sspi-deletesecuritycontext.md"]  # the path from the docs repository
    assert report.cached == report.read - 1
    assert [p.name for p in report.written] == ["DeleteSecurityContext.yaml"]
    cold = ingest([docs], tmp_path / "cold", workers=1, cache=False)
    assert files(tmp_path / "out") == files(tmp_path / "cold")
    assert summary(report, tmp_path / "out") == {**summary(cold, tmp_path / "cold"),
                                                 "written": ["sspi/DeleteSecurityContext.yaml"],
                                                 "unchanged": len(cold.written) - 1}


def test_a_spec_edited_by_hand_gets_its_page_read_again_and_keeps_the_edit(docs: Path, tmp_path: Path, reads):
    out, cache = tmp_path / "specs", tmp_path / "cache"
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    path = out / "testhdr" / "Alpha.yaml"
    spec = load_spec(path)
    spec.cases = [Case(id="by-hand", covers=[spec.clauses[0].id], expect={"returns": "S_OK"})]
    path.write_text(dump_spec(spec), encoding="utf-8")
    edited = path.read_bytes()
    reads.clear()
    report = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == ["docs/testhdr/nf-testhdr-alpha.md"]
    assert report.unchanged == 2 and report.written == []
    assert path.read_bytes() == edited and [c.id for c in load_spec(path).cases] == ["by-hand"]
    reads.clear()
    assert ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache).cached == 5 and reads == []
    # a deleted spec file is written again from its page
    path.unlink()
    report = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == ["docs/testhdr/nf-testhdr-alpha.md"] and report.written == [path]


def test_skipped_and_failed_pages_are_cached_but_not_unreadable_ones(docs: Path, tmp_path: Path, reads):
    os.symlink(tmp_path / "nowhere.md", docs / "testhdr" / "nf-testhdr-gone.md")
    out, cache = tmp_path / "specs", tmp_path / "cache"
    first = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert {file for file, _ in first.failed} == {"docs/testhdr/nf-testhdr-broken.md",
                                                  "docs/testhdr/nf-testhdr-gone.md"}
    reads.clear()
    second = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == ["docs/testhdr/nf-testhdr-gone.md"]  # an OS error may go away: read again
    assert second.cached == second.read - 1
    assert (second.skipped, second.failed) == (first.skipped, first.failed)


def test_a_too_large_page_is_decided_by_its_size_without_reading(tmp_path: Path, reads):
    root = tmp_path / "in"
    write(root / "nf-testhdr-ok.md", page(api="Ok"))
    with (root / "nf-testhdr-huge.md").open("wb") as handle:
        handle.write(page(api="Huge") + b"x" * (5 * 1024 * 1024))
    first = ingest([root], tmp_path / "specs", workers=1, include_dirs=(), cache_dir=tmp_path / "cache")
    reads.clear()
    second = ingest([root], tmp_path / "specs", workers=1, include_dirs=(), cache_dir=tmp_path / "cache")
    assert reads == [] and second.failed == first.failed and "too large" in second.failed[0][1]


def test_the_cache_is_only_written_when_something_changed(docs: Path, tmp_path: Path):
    out, cache = tmp_path / "specs", tmp_path / "cache"
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)  # stores the summary of a cached run
    [stored] = cache.glob("ingest-*.marshal")
    before = stored.stat().st_mtime_ns, stored.stat().st_ino
    for _ in range(2):
        assert ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache).cached == 5
        assert (stored.stat().st_mtime_ns, stored.stat().st_ino) == before
    # one cache per output folder
    ingest([docs], tmp_path / "other", workers=1, include_dirs=(), cache_dir=cache)
    assert len(list(cache.glob("ingest-*.marshal"))) == 2
    # the cache of a folder that is gone is removed when another is written
    shutil.rmtree(tmp_path / "other")
    write(docs / "testhdr" / "nf-testhdr-gamma.md", page(api="Gamma"))
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert list(cache.glob("ingest-*.marshal")) == [stored]


def test_force_reads_everything_and_leaves_a_cache_the_next_run_uses(docs: Path, tmp_path: Path, reads):
    out, cache = tmp_path / "specs", tmp_path / "cache"
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    reads.clear()
    forced = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache, force=True)
    assert forced.cached == 0 and len(reads) == 5
    reads.clear()
    assert ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache).cached == 5 and reads == []


def test_a_new_kit_or_sdk_choice_starts_a_new_cache(docs: Path, tmp_path: Path, reads, monkeypatch):
    monkeypatch.setenv("SPECPROOF_CACHE", str(tmp_path / "sdk-cache"))  # the SDK index of the folder below
    out, cache = tmp_path / "specs", tmp_path / "cache"
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    monkeypatch.setattr(page_cache, "kit_fingerprint", lambda: "another kit")
    reads.clear()
    assert ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache).cached == 0 and len(reads) == 5
    # an SDK include folder instead of --no-sdk, then one of its headers changed
    include = tmp_path / "include"
    for header in (b"#define E_FAIL 0x80004005L\n", b"#define E_FAIL 0x80004005L\n#define S_OK 0\n"):
        write(include / "testhdr.h", header)
        reads.clear()
        ingest([docs], out, workers=1, include_dirs=[str(include)], cache_dir=cache)
        assert len(reads) == 5
    reads.clear()
    assert ingest([docs], out, workers=1, include_dirs=[str(include)], cache_dir=cache).cached == 5


def test_the_kit_fingerprint_follows_the_source(tmp_path: Path):
    package = Path(page_cache.__file__).resolve().parents[1]
    copy = tmp_path / "specproof"
    copy.mkdir()
    shutil.copy(package / "__init__.py", copy)
    for part in page_cache.KIT_PARTS:
        shutil.copytree(package / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    before = page_cache.digest_kit(copy)
    assert before == page_cache.digest_kit(package)
    (copy / "generate").mkdir()  # not a part that makes specs
    write(copy / "generate" / "render.py", b"# another generator\n")
    assert page_cache.digest_kit(copy) == before
    with (copy / "readers" / "spec_builder.py").open("a") as module:
        module.write("# edited\n")
    assert page_cache.digest_kit(copy) != before


def test_when_the_winning_page_goes_the_other_is_read_and_written(tmp_path: Path, reads):
    one, two = tmp_path / "one", tmp_path / "two"
    data = page(api="Twin", date="01/01/2020")
    write(one / "nf-testhdr-twin.md", data)
    write(two / "nf-testhdr-twin.md", data)
    write(two / "nf-testhdr-old.md", page(api="Old", date="01/01/2018", remarks="Old text."))
    write(one / "nf-testhdr-old.md", page(api="Old", date="01/01/2024", remarks="New text."))
    out, cache = tmp_path / "specs", tmp_path / "cache"
    first = ingest([one, two], out, workers=1, include_dirs=(), cache_dir=cache)
    assert sorted(file for file, _ in first.superseded + first.kept_newer) == ["two/nf-testhdr-old.md",
                                                                               "two/nf-testhdr-twin.md"]
    # the same pages in the same order: nothing read, the same report
    reads.clear()
    again = ingest([one, two], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == [] and summary(again, out) == {**summary(first, out), "written": [], "unchanged": 2}
    assert ingest([one, two], out, workers=1, include_dirs=(), cache_dir=cache) == again  # replayed
    # the same pages in another order: the other copy of Twin comes first and wins
    reads.clear()
    swapped = ingest([two, one], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == ["two/nf-testhdr-twin.md"] and [p.name for p in swapped.written] == ["Twin.yaml"]
    assert [file for file, _ in swapped.superseded] == ["one/nf-testhdr-twin.md"]
    reads.clear()
    ingest([one, two], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == ["one/nf-testhdr-twin.md"]
    # the first copy of Twin and the newer page of Old go: Twin comes from the other copy now; Old
    # stays from the newer page that is gone (an older page does not replace it)
    shutil.rmtree(one)
    reads.clear()
    report = ingest([two], out, workers=1, include_dirs=(), cache_dir=cache)
    assert reads == ["two/nf-testhdr-twin.md"]
    assert [p.name for p in report.written] == ["Twin.yaml"] and [f for f, _ in report.kept_newer] == [
        "two/nf-testhdr-old.md"]
    cold = tmp_path / "cold"
    shutil.copytree(out, cold, ignore=shutil.ignore_patterns("Twin.yaml"))
    ingest([two], cold, workers=1, include_dirs=(), cache=False)
    assert files(out) == files(cold)


def test_the_summary_says_how_many_pages_came_from_the_cache(docs: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SPECPROOF_CACHE", str(tmp_path / "cache"))
    args = ["ingest", str(docs), "--out", str(tmp_path / "specs"), "--no-sdk"]
    CliRunner().invoke(main, args)
    result = CliRunner().invoke(main, args)
    assert "from the cache" in result.output
    row = next(line for line in result.output.splitlines() if "from the cache" in line)
    assert "5" in row.split("│")[-2]
    assert list((tmp_path / "cache").glob("ingest-*.marshal"))
    result = CliRunner().invoke(main, args + ["--no-cache"])
    row = next(line for line in result.output.splitlines() if "from the cache" in line)
    assert row.split("│")[-2].strip() == "0"


def age(root: Path) -> None:
    """Make every folder below root look settled (changed an hour ago), so its listing is cached."""
    past = time.time() - 3600
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(folder, (past, past))


def test_folders_unchanged_are_not_listed_again_and_a_page_added_or_removed_is_seen(docs: Path, tmp_path: Path,
                                                                                     reads, monkeypatch):
    age(docs)
    out, cache = tmp_path / "specs", tmp_path / "cache"
    ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    listed: list[str] = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": listed.append(str(path).rstrip("/")) or scandir(path))
    reads.clear()
    assert ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache).cached == 5
    assert listed == [] and reads == []
    testhdr = str((docs / "testhdr").resolve())
    write(docs / "testhdr" / "nf-testhdr-gamma.md", page(api="Gamma"))  # the folder's mtime changes
    report = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert listed == [testhdr] and reads == ["docs/testhdr/nf-testhdr-gamma.md"]
    assert [p.name for p in report.written] == ["Gamma.yaml"] and report.cached == 5
    # a folder changed in the last seconds is listed every time: it may change again within its mtime's tick
    listed.clear()
    assert ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache).cached == 6 and listed == [testhdr]
    (docs / "testhdr" / "nf-testhdr-beta.md").unlink()
    listed.clear()
    report = ingest([docs], out, workers=1, include_dirs=(), cache_dir=cache)
    assert listed == [testhdr] and report.read == report.cached == 5
    assert "docs/testhdr/nf-testhdr-beta.md" not in [file for file, _ in report.skipped + report.failed]


def test_pages_are_found_as_os_walk_finds_them(tmp_path: Path):
    root = tmp_path / "tree"
    for rel in ("a.md", "B.MD", "c.txt", "notes.rst", ".hidden.md", "sub/d.md", ".git/e.md", "sub/deeper/f.md",
                "zz/g.md", "dir.md/h.md"):
        write(root / rel, b"x")
    os.symlink(root / "sub", root / "linked")  # a link to a folder: not followed
    os.symlink(root / "a.md", root / "alias.md")  # a link to a page: a page
    os.symlink(tmp_path / "nowhere", root / "dangling.md")  # a page that cannot be read
    expected = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        expected += [os.path.join(folder, name) for name in sorted(files)
                     if name.lower().endswith((".md", ".txt")) and not name.startswith(".")]
    found = [job.file for job in collect([root])]
    assert found == [str(Path(p).parent.resolve() / Path(p).name) for p in expected]
    assert [job.display for job in collect([root])][:3] == ["tree/B.MD", "tree/a.md", "tree/alias.md"]
