"""Input that would hang the kit or eat its memory is refused at once, naming the file.

Each stage runs as a user runs it, in a child process with a time limit: a
FIFO named like a page or a spec, a link to /dev/zero, a YAML alias bomb,
a NUL in a spec.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS
from pagemaker import page

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 60  # seconds any of these may take; each takes well under one


def specproof(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "specproof", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=LIMIT, env={**os.environ, "COLUMNS": "200"})


def _alias_bomb() -> str:
    """About 500 bytes that expand to 9**9 strings when every alias is followed."""
    lines = ["spec: 1", "api: Bomb", "header: bomb.h", "source: {format: sdk-api, file: x.md, digest: 'sha256:0'}",
             "requirements:", '  min_client: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  x{name}: &{name} [" + ",".join(f"*{previous}" for _ in range(9)) + "]")
        previous = name
    return "\n".join(lines + [f"see_also: *{previous}", ""])


@pytest.fixture
def hostile_specs(tmp_path: Path) -> Path:
    """The committed specs plus one of each hostile file."""
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    (specs / "bomb").mkdir()
    (specs / "bomb" / "Bomb.yaml").write_text(_alias_bomb())
    (specs / "odd").mkdir()
    os.mkfifo(specs / "odd" / "Fifo.yaml")
    (specs / "odd" / "Zero.yaml").symlink_to("/dev/zero")
    good = (specs / "sspi" / "FreeContextBuffer.yaml").read_text()
    (specs / "odd" / "Nul.yaml").write_text(good.replace("summary:", "summary: a\x00b\n#", 1))
    return specs


def test_lint_names_every_hostile_spec_and_checks_the_rest(hostile_specs: Path, tmp_path: Path):
    done = specproof("lint", str(hostile_specs), cwd=tmp_path)
    assert done.returncode == 1
    out = done.stdout
    assert "Fifo.yaml:1:1: error: not a regular file" in out
    assert "Zero.yaml:1:1: error: not a regular file" in out
    assert "Nul.yaml:" in out and "character U+0000 is not allowed in YAML" in out
    assert "Bomb.yaml:" in out
    assert f"{len(list((ROOT / 'specs').rglob('*.yaml'))) + 4} spec files" in out, "the good specs were all read"


def test_site_build_refuses_hostile_specs_at_once(hostile_specs: Path, tmp_path: Path):
    for name in ("Fifo.yaml", "Zero.yaml", "Nul.yaml"):
        folder = tmp_path / f"only-{name}"
        shutil.copytree(hostile_specs / "sspi", folder / "sspi")
        shutil.copy(hostile_specs / "schema.json", folder)
        (folder / "odd").mkdir()
        source = hostile_specs / "odd" / name
        if source.is_symlink():
            (folder / "odd" / name).symlink_to(os.readlink(source))
        elif name == "Fifo.yaml":
            os.mkfifo(folder / "odd" / name)
        else:
            shutil.copy(source, folder / "odd" / name)
        done = specproof("site", "build", "--specs", str(folder), "--results", str(ROOT / "results" / "reference-model"),
                         "--docs", str(tmp_path / "docs"), "--out", str(tmp_path / "public"),
                         "--config", str(ROOT / "mkdocs.yml"), cwd=tmp_path)
        assert done.returncode != 0 and name in done.stdout + done.stderr, done.stdout + done.stderr
    bomb = tmp_path / "bomb-only"
    shutil.copytree(hostile_specs / "bomb", bomb / "bomb")
    done = specproof("site", "build", "--specs", str(bomb), "--docs", str(tmp_path / "docs"), "--out",
                     str(tmp_path / "public"), "--config", str(ROOT / "mkdocs.yml"), cwd=tmp_path)
    assert done.returncode != 0 and "Bomb.yaml" in done.stdout + done.stderr


def test_run_names_a_spec_it_cannot_read(hostile_specs: Path, tmp_path: Path):
    done = specproof("run", "--adapter", "model", "--specs", str(hostile_specs), "--results", str(tmp_path / "r"),
                     "-k", "FreeContextBuffer", cwd=ROOT)
    assert done.returncode != 0
    assert "Fifo.yaml" in done.stdout + done.stderr and "not a regular file" in done.stdout + done.stderr


def test_ingest_reads_regular_files_only_and_within_the_limit(tmp_path: Path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "nf-testhdr-testfunction.md").write_bytes(page())
    (pages / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(pages / "fifo.md")
    done = specproof("ingest", str(pages), "--out", str(tmp_path / "specs"), "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped 2: not a regular file" in done.stdout + done.stderr
    named = specproof("ingest", str(pages / "zero.md"), str(pages / "fifo.md"), "/dev/null", "--out",
                      str(tmp_path / "specs"), cwd=tmp_path)
    assert named.returncode == 1
    for name in ("zero.md", "fifo.md", "null"):
        assert f"failed {name}: not a regular file" in named.stdout + named.stderr, named.stdout + named.stderr


def test_a_cached_page_replaced_by_a_link_to_dev_zero_is_refused(tmp_path: Path):
    if not CORPUS.is_dir():
        pytest.skip("the corpus is not beside the checkout")
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(CORPUS / "sdk-api" / "sspi" / "nf-sspi-deletesecuritycontext.md", pages / "page.md")
    first = specproof("ingest", str(pages), "--out", str(tmp_path / "specs"), cwd=tmp_path)
    assert first.returncode == 0
    (pages / "page.md").unlink()
    (pages / "page.md").symlink_to("/dev/zero")
    again = specproof("ingest", str(pages), "--out", str(tmp_path / "specs"), cwd=tmp_path)
    assert "skipped: not a regular file" in again.stdout + again.stderr, again.stdout + again.stderr


def test_a_tree_1100_folders_deep_is_walked(tmp_path: Path):
    """Neither ingest nor lint walks folders by recursion: any depth is read."""
    for name in ("pages", "specs"):
        folder = tmp_path / name
        folder.mkdir()
        fd = os.open(folder, os.O_RDONLY)
        try:
            for _ in range(1100):  # made relative to an open folder: a path this long is past PATH_MAX
                os.mkdir("d", dir_fd=fd)
                inner = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = inner
            leaf = "X.yaml" if name == "specs" else "nf-x-y.md"
            os.close(os.open(leaf, os.O_WRONLY | os.O_CREAT, dir_fd=fd))
        finally:
            os.close(fd)
    try:
        ingest = specproof("ingest", "pages", "--out", "out", "--no-cache", cwd=tmp_path)
        assert ingest.returncode in (0, 1) and "RecursionError" not in ingest.stderr, ingest.stderr[-2000:]
        linted = specproof("lint", "specs", cwd=tmp_path)
        assert "RecursionError" not in linted.stderr and "X.yaml" in linted.stdout, linted.stderr[-2000:]
    finally:  # removed here, deepest first: pytest's own clean-up of old temporary folders recurses
        for name in ("pages", "specs"):
            _remove_deep(tmp_path / name)


def _remove_deep(top: Path) -> None:
    """Remove a tree of any depth without recursion (shutil.rmtree recurses, and fails past ~1000 levels)."""
    folders = []
    stack = [str(top)]
    while stack:
        folder = stack.pop()
        folders.append(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    os.unlink(entry.path)
    for folder in reversed(folders):
        os.rmdir(folder)


def _read_only_run(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    """`script` in a mount namespace where tmp_path/home and tmp_path/checkout are read-only bind mounts."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to mount folders read-only")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare --mount is not allowed here: {probe.stderr.decode(errors='replace').strip()}")
    mounts = "".join(f"mount --bind {tmp_path / d} {tmp_path / d} && mount -o remount,bind,ro {tmp_path / d} && "
                     for d in ("home", "checkout"))
    return subprocess.run(["unshare", "--mount", "sh", "-c", mounts + f"cd {tmp_path / 'checkout'} && " + script],
                          cwd=tmp_path / "checkout",
                          capture_output=True, text=True, timeout=LIMIT * 3,
                          env={**os.environ, "HOME": str(tmp_path / "home"), "COLUMNS": "300",
                               "SPECPROOF_CACHE": "", "XDG_CACHE_HOME": ""})


def test_read_only_home_and_checkout_are_named_with_the_way_out(tmp_path: Path):
    (tmp_path / "home").mkdir()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("specs", "conformance", "site", "expectations", "results"):
        shutil.copytree(ROOT / name, checkout / name)
    shutil.copy(ROOT / "mkdocs.yml", checkout)
    python = f"{sys.executable} -m specproof"
    done = _read_only_run(tmp_path, f"{python} adapters; echo ===; "
                                    f"{python} run -a model -k DeleteSecurityContext; echo ===; "
                                    f"{python} site build")
    adapters = done.stdout.split("===")[0]
    if "wine" in adapters:
        assert "is not writable" in adapters and "SPECPROOF_CACHE" in adapters
    said = done.stdout + done.stderr
    assert "cannot write the run folder results/" in said and "name a writable folder with --results" in said
    assert "cannot write site/generated" in said and "--docs" in said
    assert "Traceback" not in said and "INTERNALERROR" not in said
