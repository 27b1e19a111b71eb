"""An OpenSSH server of the kit's own on 127.0.0.1, standing in for a Windows machine with sshd.

Debian's sshd with a host key, an authorized client key and a configuration
made here; the client is the real `ssh`, given an ssh config file (`-F`)
whose known_hosts holds the server's host key, so host key checking stays
on and succeeds. Its ForceCommand runs the requested helper under the same
Wine, prefix and environment the wine adapter uses, and any other command
(looking for the helper, copying it) in /bin/sh, as an sshd from Cygwin or
MSYS2 on Windows would: the `posix` remote shell. tests/test_ssh.py and
benchmarks/remote use it.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from specproof_adapters.wine.adapter import DEBUG_CHANNELS
from specproof_adapters.wine.prefix import Prefix
from specproof_adapters.wine.toolchain import build_helper, find_wine

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
SSH_INSTALL = "sudo apt-get install -y --no-install-recommends openssh-server openssh-client"


def available() -> bool:
    return SSHD is not None and shutil.which("ssh") is not None and shutil.which("ssh-keygen") is not None


ALIAS = "specproof-win"

WRAPPER = """#!/bin/sh
# ForceCommand: the requested helper runs under Wine; anything else runs in sh, in the stand-in home.
printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> {log}
cd {home} || exit 1
case "$SSH_ORIGINAL_COMMAND" in
    "exec ./.specproof/helper-"*.exe)
        helper="{home}/${{SSH_ORIGINAL_COMMAND#exec ./}}"
        case "$helper" in *[!A-Za-z0-9./_-]*) echo "not a helper path" >&2; exit 126;; esac
{exports}
        cd {prefix} || exit 1
        exec {loader} "$helper" 2>&1
        ;;
    *)
        exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
        ;;
esac
"""


@dataclass
class Server:
    """The running sshd and everything the client needs to reach it."""

    process: subprocess.Popen
    port: int
    folder: Path
    config: Path  # the client's ssh config (-F)
    home: Path  # where remote commands run: the stand-in for the remote user's home
    commands: Path  # every command the server was asked to run, one a line

    @property
    def options(self) -> list[str]:
        return ["-F", str(self.config)]

    def env(self) -> dict[str, str]:
        """What `specproof run --adapter native` is given: the ssh options and the remote shell's kind."""
        return {**os.environ, "SPECPROOF_SSH_OPTIONS": f"-F {self.config}", "SPECPROOF_SSH_SHELL": "posix",
                "COLUMNS": "200"}

    def asked(self) -> list[str]:
        return self.commands.read_text().splitlines() if self.commands.exists() else []

    def sessions(self) -> list[int]:
        """The per-connection sshd processes (children of the listening one): one per open connection."""
        return children(self.process.pid)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def is_sshd(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "sshd"
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True,
                   capture_output=True, timeout=60)
    return path.with_suffix(".pub").read_text().strip()



@contextmanager
def local_sshd(folder: Path, cpus: set[int] | None = None) -> Iterator[Server]:
    """A running sshd in `folder` (keys, configs, logs), stopped and its Wine prefix removed afterwards; with
    `cpus`, it and what it starts run on those CPUs (a benchmark puts it beside its client)."""
    privsep = Path("/run/sshd")
    if os.geteuid() == 0 and not privsep.is_dir():
        privsep.mkdir(mode=0o755, parents=True)
    host_key = keygen(folder / "host_ed25519")
    client_key = keygen(folder / "client_ed25519")
    (folder / "authorized_keys").write_text(client_key + "\n")
    home = folder / "home"
    home.mkdir()
    wine = find_wine()
    prefix = Prefix.create(wine)
    process = None
    try:
        prefix.start(build_helper())
        env = prefix.env(DEBUG_CHANNELS)
        exports = "\n".join(f"        export {key}='{value}'" for key, value in sorted(env.items())
                            if key.startswith("WINE") or key in ("LANG", "TZ") or key.startswith("LC_"))
        wrapper = folder / "wrapper.sh"
        wrapper.write_text(WRAPPER.format(log=folder / "commands.log", home=home, exports=exports, prefix=prefix.path,
                                          loader=wine.loader))
        wrapper.chmod(0o755)
        port = free_port()
        sshd_config = folder / "sshd_config"
        sshd_config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {folder / 'host_ed25519'}
PidFile {folder / 'sshd.pid'}
AuthorizedKeysFile {folder / 'authorized_keys'}
AllowUsers {getpass.getuser()}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
PrintMotd no
ForceCommand {wrapper}
""")
        config = folder / "ssh_config"
        config.write_text(f"""Host {ALIAS}
    HostName 127.0.0.1
    Port {port}
    User {getpass.getuser()}
    IdentityFile {folder / 'client_ed25519'}
    IdentitiesOnly yes
    UserKnownHostsFile {folder / 'known_hosts'}
    StrictHostKeyChecking yes
""")
        (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")  # the server's own key: checked
        with open(folder / "sshd.log", "wb") as log:
            process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(sshd_config)], stdout=log, stderr=log,
                                       preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()[-2000:]}")
                time.sleep(0.05)
        yield Server(process, port, folder, config, home, folder / "commands.log")
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        prefix.remove()


