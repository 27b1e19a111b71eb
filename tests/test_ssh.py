"""The helper over SSH and the native adapter, against a real OpenSSH server of the test's own.

The server is Debian's sshd on 127.0.0.1, with a host key, an authorized
client key and a configuration made here; the client is the real `ssh`,
given an ssh config file (`-F`) whose known_hosts holds the server's host
key, so host key checking stays on and succeeds. The server stands in for
a Windows machine: its ForceCommand runs the requested helper under the
same Wine, prefix and environment the wine adapter uses, and any other
command (looking for the helper, copying it) in /bin/sh, as an sshd from
Cygwin or MSYS2 on Windows would: the `posix` remote shell.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
SSH_INSTALL = "sudo apt-get install -y --no-install-recommends openssh-server openssh-client"

if SSHD is None or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
    pytest.skip(f"the OpenSSH server and client are not installed; install them with: {SSH_INSTALL}",
                allow_module_level=True)
wine_adapter = pytest.importorskip("specproof_adapters.wine")
_wine = wine_adapter.WineAdapter.availability()
if not _wine.usable:
    pytest.skip(f"Wine is not usable here: {_wine.reason}; install: {_wine.fix}", allow_module_level=True)

from specproof.cli import main  # noqa: E402
from specproof.protocol.ssh import PRESENT, CmdShell, SSHLink, SSHRefused, Target  # noqa: E402
from specproof_adapters.native import NativeAdapter  # noqa: E402
from specproof_adapters.native.adapter import helper_exe  # noqa: E402
from sshd_harness import ALIAS, Server, descendants, is_sshd, keygen, local_sshd  # noqa: E402

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with local_sshd(tmp_path_factory.mktemp("ssh")) as running:
        yield running


def _link(server: Server) -> SSHLink:
    return SSHLink(ALIAS, helper_exe, server.options, "posix")


def results_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


def run(tmp_path: Path, run_id: str, suite: str, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "specproof", "run", "--results", str(tmp_path), "--run-id", run_id,
                           "--suites", str(ROOT / "conformance" / suite), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env or {**os.environ, "COLUMNS": "200"})


# -- the transport ------------------------------------------------------------------------------------

def test_protocol_check_over_ssh_conforms(server: Server):
    done = CliRunner().invoke(main, ["protocol-check", f"ssh://{ALIAS}", "--ssh-option", f"-F {server.config}",
                                     "--ssh-shell", "posix"])
    assert done.exit_code == 0, done.output
    assert "checks conform" in done.output and "do not" not in done.output and "FAIL" not in done.output
    assert f"ssh://{ALIAS}: the helper is .specproof/helper-" in done.output


def test_the_helper_is_copied_once_and_reused(server: Server):
    shutil.rmtree(server.home / ".specproof", ignore_errors=True)
    before = len(server.asked())
    first = _link(server)
    endpoint = first.connect()
    endpoint.ping()
    endpoint.stop()
    data, digest = first.local_helper()
    remote = server.home / ".specproof" / f"helper-{digest}.exe"
    assert first.uploads == 1 and remote.read_bytes() == data
    stamp = remote.stat().st_mtime_ns
    again = _link(server)  # a new run, which knows nothing of the first
    for _ in range(2):
        endpoint = again.connect()
        assert endpoint.info.fields["windows"].count(".") == 2
        endpoint.stop()
    asked = server.asked()[before:]
    assert again.uploads == 0 and remote.stat().st_mtime_ns == stamp
    assert sum("cat >" in line for line in asked) == 1, asked
    assert sum(line.startswith("test -f") for line in asked) == 3, asked  # before and after the copy; the new run
    assert sum(line.startswith("exec ./.specproof/helper-") for line in asked) == 3, asked
    assert list(remote.parent.glob("*.part")) == []


def test_a_copy_cut_short_never_becomes_the_helper(server: Server):
    link = _link(server)
    path = ".specproof/helper-0000000000000000.exe"
    command, payload = link.shell.upload(path, b"MZ" + bytes(4096))
    done = link._run(command, "copying", payload[:1000])  # what a dropped connection delivers
    assert done.returncode != 0
    assert not (server.home / path).exists() and list((server.home / ".specproof").glob("*.part")) == []
    assert PRESENT not in link._run(link.shell.exists(path), "looking").stdout.decode()


def test_what_cmd_sends_unpacks_whole_or_not_at_all(tmp_path: Path):
    """cmd.exe's copy goes through tar.exe; here the same archive meets this machine's tar, as far as this
    can be tried without Windows."""
    if shutil.which("tar") is None:
        pytest.skip("tar is not installed")
    data = os.urandom(70_000)
    command, archive = CmdShell().upload(".specproof\\helper-0123456789abcdef.exe", data)
    part = command.split("move /y .specproof\\", 1)[1].split(" ", 1)[0]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.mkdir()
    cut.mkdir()
    subprocess.run(["tar", "-xf", "-", "-C", str(whole)], input=archive, check=True, timeout=60)
    assert (whole / part).read_bytes() == data and part.endswith(".part")
    assert subprocess.run(["tar", "-xf", "-", "-C", str(cut)], input=archive[:40_000], capture_output=True,
                          timeout=60).returncode != 0


def test_host_key_checking_stays_on(server: Server, tmp_path: Path):
    """A server whose key is not the one known is refused before anything runs there."""
    other = keygen(tmp_path / "other_ed25519")
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{server.port} {other}\n")
    config = tmp_path / "ssh_config"
    config.write_text(server.config.read_text().replace(str(server.folder / "known_hosts"),
                                                        str(tmp_path / "known_hosts")))
    before = len(server.asked())
    link = SSHLink(ALIAS, helper_exe, ["-F", str(config)], "posix")
    with pytest.raises(SSHRefused, match="Host key verification failed|IDENTIFICATION HAS CHANGED"):
        link.connect()
    assert server.asked()[before:] == []


def test_a_login_shell_of_another_kind_is_said_plainly(server: Server):
    link = SSHLink(ALIAS, helper_exe, server.options, "cmd")  # cmd.exe's commands, to a POSIX shell
    with pytest.raises(SSHRefused, match=r"could not copy the helper to \.specproof\\helper-.*written for a "
                                         r"cmd login shell \(\$SPECPROOF_SSH_SHELL chooses: cmd, posix\)"):
        link.ensure_helper()


def test_targets_and_what_the_native_adapter_needs(monkeypatch: pytest.MonkeyPatch):
    assert Target.parse("ssh://me@box:2222") == Target("me@box", 2222)
    assert Target.parse("me@box").argv() == ["--", "me@box"]
    assert Target.parse("ssh://[::1]:22").where == "ssh://[::1]:22"
    for bad in ("-oProxyCommand=touch", "ssh://box:99999", "ssh://box/path", "me@", "two words", "ssh://::1"):
        with pytest.raises(ValueError):
            Target.parse(bad)
    monkeypatch.delenv("SPECPROOF_NATIVE_HOST", raising=False)
    with pytest.raises(RuntimeError, match=r"needs the Windows machine here: --host \[user@\]host"):
        NativeAdapter()
    assert NativeAdapter.needs_endpoint and NativeAdapter.availability().usable


# -- the native adapter ---------------------------------------------------------------------------------

def test_the_native_adapter_reports_the_machine(server: Server):
    adapter = NativeAdapter(host=ALIAS, ssh_options=f"-F {server.config}", shell="posix")
    try:
        info = adapter.info()
        assert info.name == "native" and info.details["transport"] == "ssh"
        assert info.details["host"] == ALIAS and info.details["endpoint"] == f"ssh://{ALIAS}"
        assert info.details["windows"].count(".") == 2 and info.platform.startswith("Wine ")
        assert info.details["windows"] in info.platform
        export = adapter.resolve("kernel32.dll", "GetTickCount")
        assert export is not None and adapter.call(export.address, [], 10).value
    finally:
        adapter.close()


@pytest.mark.parametrize("suite", ["synchapi", "handleapi"])
def test_native_over_ssh_gives_the_wine_adapters_outcomes(server: Server, tmp_path: Path, suite: str):
    direct = run(tmp_path, "direct", suite, "--adapter", "wine")
    remote = run(tmp_path, "remote", suite, "--adapter", "native", "--host", ALIAS, "--impl", "wine",
                 env=server.env())
    assert remote.returncode == direct.returncode, remote.stdout[-3000:] + remote.stderr[-2000:]
    wine = {r["id"]: r["outcome"] for r in results_of(tmp_path / "direct")}
    native = {r["id"]: r["outcome"] for r in results_of(tmp_path / "remote")}
    assert native == wine and len(native) > 10
    meta = json.loads((tmp_path / "remote" / "run.json").read_text())
    details = meta["implementation"]["details"]
    assert details["transport"] == "ssh" and details["host"] == ALIAS and details["windows"].count(".") == 2


def test_a_dropped_connection_costs_the_test_it_was_in_and_the_run_goes_on(server: Server, tmp_path: Path):
    """The remote helper is stopped, so the run's next command waits on it; then the server side of the
    connection goes, as when the network drops, and the helper with it. The test in flight loses it."""
    direct = run(tmp_path, "direct", "fileapi", "--adapter", "wine")
    assert direct.returncode in (0, 1), direct.stdout[-3000:]
    launched_before = sum(c.startswith("exec ./.specproof/helper-") for c in server.asked())
    lines = tmp_path / "dropped" / "results.jsonl"
    command = [sys.executable, "-m", "specproof", "run", "--adapter", "native", "--host", ALIAS, "--impl", "wine",
               "--results", str(tmp_path), "--run-id", "dropped", "--suites", str(ROOT / "conformance" / "fileapi")]
    runner = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=server.env())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not lines.exists() or lines.read_text().count("\n") < 10):
            time.sleep(0.02)
        stopped: set[int] = set()
        while time.monotonic() < deadline:  # until the run waits on a stopped helper (not on a new one)
            helpers = {pid for session in server.sessions() for pid in descendants(session) if not is_sshd(pid)}
            for pid in helpers - stopped:
                os.kill(pid, signal.SIGSTOP)
            stopped |= helpers
            done = lines.read_text().count("\n")
            time.sleep(1.0)  # the next test starts and waits for an answer (a call's limit is 10 s)
            if helpers and lines.read_text().count("\n") == done:
                break
        assert runner.poll() is None and done < 100, "the run waits on a stopped helper"
        for pid in server.sessions() + sorted(stopped):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        output, _ = runner.communicate(timeout=300)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    records = results_of(tmp_path / "dropped")
    assert len(records) == len({r["id"] for r in records}) == 100, output[-3000:]

    def names_the_connection(record: dict) -> bool:
        return any(f"ssh://{ALIAS}" in text for text in (record.get("message", ""), *record.get("diagnostics", ())))

    launched = sum(c.startswith("exec ./.specproof/helper-") for c in server.asked()) - launched_before
    assert launched >= 2, "the run connected again after the connection dropped"
    # The test in flight when the connection dropped loses it, naming it; when the drop fell between two
    # tests, the next one connected again first and none was lost.
    lost = [r for r in records if names_the_connection(r)]
    assert len(lost) <= 1 and all(r["outcome"] in ("crash", "error") for r in lost), [
        (r["id"], r["outcome"], r.get("message")) for r in records if r["outcome"] in ("crash", "error")]
    if lost:
        assert records.index(lost[0]) == done, "the test that was in flight"
    lost_ids = {r["id"] for r in lost}
    wine = {r["id"]: r["outcome"] for r in results_of(tmp_path / "direct")}
    assert {r["id"]: r["outcome"] for r in records if r["id"] not in lost_ids} == \
        {key: outcome for key, outcome in wine.items() if key not in lost_ids}, "the rest ran as on Wine itself"
