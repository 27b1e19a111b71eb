"""The kit's helper on another machine, over SSH's standard streams, with the user's own OpenSSH client.

Nothing here handles keys or host keys: `ssh` does, with the user's agent,
keys, `~/.ssh/config` and known hosts, and host key checking stays as the
user has it. Options for `ssh` pass through (`-F FILE`, `-p PORT`, `-J HOST`,
`-o Key=Value`) from the caller or from $SPECPROOF_SSH_OPTIONS; they come
before the kit's own, and ssh keeps the first value it is given for an
option, so the user's win. The kit adds only `-T` (no terminal: the
protocol is bytes, not a console), `-a -x` (no agent or X11 forwarding to a
machine that runs code under test; `-A` among the user's options turns the
agent back on) and `BatchMode=yes` (no password or host key prompt: nobody
can answer one in the middle of a run; use ssh-agent for keys with a
passphrase).

The helper is copied once per digest of its bytes to
`.specproof/helper-<digest>.exe` in the remote login directory (the user's
home, where OpenSSH starts a session), after a command that looks for it,
and under a temporary name renamed only once complete, so an interrupted
copy never leaves a truncated helper under the real name. Each connection
is then one `ssh host <run the helper>`, and the protocol runs over that
process's stdin and stdout (`ProcessChannel`), as with a local helper.

The commands are written for the remote login shell (`RemoteShell`):

- `cmd` (the default): Windows' OpenSSH server, whose default shell is
  cmd.exe. The copy is received by `tar.exe`, which Windows has shipped
  since Windows 10 1803 and Server 2019. A PowerShell default shell is not
  supported: it relays a native program's output through its own pipeline
  rather than handing the program the session's streams.
- `posix`: a POSIX shell (`sh -c`): an sshd from Cygwin or MSYS2 on Windows,
  or a test machine that runs the helper under Wine.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import shlex
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Sequence

from .channels import ProcessChannel
from .client import Endpoint
from .wire import COMMAND_TIMEOUT, AnswerError, EndpointGone

#: Options for `ssh` when the caller gives none: shell words, e.g. `-F /etc/specproof/ssh_config -p 2222`
#: (a `~` is not expanded here).
SSH_OPTIONS_ENV = "SPECPROOF_SSH_OPTIONS"
#: The remote login shell's kind, when not `cmd`: `posix`.
SHELL_ENV = "SPECPROOF_SSH_SHELL"
#: Where the helper is kept on the remote machine, relative to the login directory.
HELPER_DIR = ".specproof"
#: What the existence check prints when the helper is there (a login banner cannot be mistaken for it).
PRESENT = "specproof-helper-present"
#: Seconds a copy or a check may take (a slow link moves the helper's few hundred KB in far less).
COMMAND_SECONDS = 120.0
#: What ssh prints for failures that waiting does not cure: the run stops retrying and says it.
_LASTING = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED", "Permission denied",
            "Too many authentication failures", "Could not resolve hostname", "Bad configuration option",
            "no matching host key type", "Can't open user config file")


class SSHUnreachable(OSError):
    """ssh could not reach the machine this time (refused, timed out, dropped): worth trying again."""


class SSHRefused(RuntimeError):
    """A failure that trying again does not cure: a host key that does not match, keys the machine does
    not accept, an unknown host, a helper that cannot be copied or does not start. The message has what
    ssh or the remote shell printed."""


def env_ssh_options() -> list[str]:
    """$SPECPROOF_SSH_OPTIONS as words (shell quoting), or none."""
    return shlex.split(os.environ.get(SSH_OPTIONS_ENV, ""))


# -- where --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """The machine: `[user@]host` as ssh takes it (an alias of the user's ssh config works), and a port."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """`[user@]host`, or `ssh://[user@]host[:port]` (IPv6 in brackets); ValueError naming what is wrong."""
        host, port = text, None
        if text.startswith("ssh://"):
            rest = text[6:].rstrip("/")
            if any(mark in rest for mark in "/?#"):
                raise ValueError(f"{text!r} is not ssh://[user@]host[:port]")
            user, at, place = rest.rpartition("@")
            if place.startswith("["):
                name, _, tail = place[1:].partition("]")
                if tail and not tail.startswith(":"):
                    raise ValueError(f"{text!r} is not ssh://[user@]host[:port]")
                digits = tail[1:]
            elif place.count(":") > 1:
                raise ValueError(f"{text!r}: an IPv6 address goes in brackets, ssh://[{place}]")
            else:
                name, _, digits = place.partition(":")
            if digits and not (digits.isdigit() and 0 < int(digits) < 65536):
                raise ValueError(f"{text!r}: the port is not a number from 1 to 65535")
            host, port = user + at + name, int(digits) if digits else None
        user, _, name = host.rpartition("@")
        if not name or not re.fullmatch(r"[^\s\x00-\x1f\x7f]+", host) or host.startswith("-") or user.startswith("-"):
            raise ValueError(f"{text!r} is not [user@]host")
        return cls(host, port)

    @property
    def where(self) -> str:
        """How results and messages name the connection: `ssh://[user@]host[:port]`."""
        user, at, name = self.host.rpartition("@")
        place = f"[{name}]" if ":" in name else name
        return f"ssh://{user}{at}{place}" + (f":{self.port}" if self.port is not None else "")

    def argv(self) -> list[str]:
        """The port, then the host after `--`, so neither can be read as an option."""
        return (["-p", str(self.port)] if self.port is not None else []) + ["--", self.host]


# -- the remote shell ---------------------------------------------------------------------------------

class RemoteShell:
    """How the three remote commands are written for one kind of login shell.

    Each method gives the command line that `ssh host COMMAND` hands to the
    remote login shell; `upload` also gives the bytes to send on its stdin.
    The paths are relative to the login directory and made of the digest's
    hex digits, so they never need quoting.
    """

    name: ClassVar[str] = ""

    def path(self, digest: str) -> str:
        raise NotImplementedError

    def exists(self, path: str) -> str:
        """A command that prints PRESENT when the helper is at `path`."""
        raise NotImplementedError

    def upload(self, path: str, data: bytes) -> tuple[str, bytes]:
        """A command that stores its stdin at `path`, only when all of it arrived, and that stdin."""
        raise NotImplementedError

    def run_helper(self, path: str) -> str:
        """A command that runs the helper at `path` on the session's own stdin and stdout."""
        raise NotImplementedError


class CmdShell(RemoteShell):
    """cmd.exe: the default shell of Windows' OpenSSH server (the session starts in %USERPROFILE%)."""

    name = "cmd"

    def path(self, digest: str) -> str:
        return f"{HELPER_DIR}\\helper-{digest}.exe"

    def exists(self, path: str) -> str:
        return f"if exist {path} echo {PRESENT}"

    def upload(self, path: str, data: bytes) -> tuple[str, bytes]:
        """tar.exe unpacks the helper under a name of its own (two copies at once never mix) and fails on a
        cut-short archive, so `move` runs only for a whole helper; a tar archive also keeps the bytes
        out of cmd's text handling."""
        name = path.rsplit("\\", 1)[-1]
        part = f"{name}.{secrets.token_hex(4)}.part"
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            member = tarfile.TarInfo(part)
            member.size, member.mode, member.mtime = len(data), 0o755, int(time.time())
            tar.addfile(member, io.BytesIO(data))
        command = (f"(if not exist {HELPER_DIR} mkdir {HELPER_DIR}) && tar -xf - -C {HELPER_DIR} && "
                   f"move /y {HELPER_DIR}\\{part} {path} >nul || (del /q {HELPER_DIR}\\{part} 2>nul & exit /b 1)")
        return command, archive.getvalue()

    def run_helper(self, path: str) -> str:
        return f".\\{path}"


class PosixShell(RemoteShell):
    """A POSIX shell: Cygwin's or MSYS2's sshd on Windows, or a machine that runs the helper under Wine."""

    name = "posix"

    def path(self, digest: str) -> str:
        return f"{HELPER_DIR}/helper-{digest}.exe"

    def exists(self, path: str) -> str:
        return f"test -f {shlex.quote(path)} && echo {PRESENT}"

    def upload(self, path: str, data: bytes) -> tuple[str, bytes]:
        """cat writes a name of its own; the byte count decides whether it becomes the helper (cat also ends
        without an error when the connection drops)."""
        part = f"{shlex.quote(path)}.$$.part"
        command = (f"umask 022 && mkdir -p {HELPER_DIR} && cat > {part} && test \"$(wc -c < {part})\" -eq "
                   f"{len(data)} && chmod 755 {part} && mv -f {part} {shlex.quote(path)} || "
                   f"{{ rm -f {part}; exit 1; }}")
        return command, data

    def run_helper(self, path: str) -> str:
        return f"exec ./{shlex.quote(path)}"


SHELLS: dict[str, type[RemoteShell]] = {"cmd": CmdShell, "posix": PosixShell}


def shell_named(name: str | None) -> RemoteShell:
    """The shell called `name` (default `cmd`); ValueError listing the known ones."""
    kind = SHELLS.get((name or "cmd").lower())
    if kind is None:
        raise ValueError(f"unknown remote shell {name!r}; known: {', '.join(SHELLS)}")
    return kind()


# -- the link -----------------------------------------------------------------------------------------

class SSHLink:
    """The kit's helper on one machine, reached with `ssh`: copied there once, one `ssh` per connection.

    `helper` is the local helper.exe, or a function that gives it (built on
    first use). `connect()` is what an adapter reconnects with; `open()` the
    same without the handshake (protocol-check sends its own).
    """

    def __init__(self, target: str | Target, helper: Path | Callable[[], Path],
                 ssh_options: Sequence[str] | None = None, shell: str | RemoteShell | None = None,
                 ssh: str | None = None) -> None:
        self.target = Target.parse(target) if isinstance(target, str) else target
        self.options = list(ssh_options) if ssh_options is not None else env_ssh_options()
        self.shell = shell if isinstance(shell, RemoteShell) else shell_named(shell or os.environ.get(SHELL_ENV))
        self.ssh = ssh or shutil.which("ssh") or "ssh"
        self._helper = helper
        self._local: tuple[bytes, str] | None = None
        #: The remote helper's path once seen there; forgotten when a helper does not start.
        self.ready: str | None = None
        #: Copies made by this link (a check that finds the helper there makes none).
        self.uploads = 0

    @property
    def where(self) -> str:
        return self.target.where

    def argv(self, command: str) -> list[str]:
        """`ssh` with the user's options first (ssh keeps the first value of an option), then the kit's."""
        return [self.ssh, "-T", "-a", "-x", *self.options, "-o", "BatchMode=yes", *self.target.argv(), command]

    def local_helper(self) -> tuple[bytes, str]:
        """The helper's bytes and their digest (the first 16 hex digits of SHA-256), read once."""
        if self._local is None:
            exe = self._helper() if callable(self._helper) else self._helper
            data = Path(exe).read_bytes()
            self._local = data, hashlib.sha256(data).hexdigest()[:16]
        return self._local

    def remote_path(self) -> str:
        return self.shell.path(self.local_helper()[1])

    # -- copying ----------------------------------------------------------------------------------------
    def _run(self, command: str, what: str, data: bytes = b"") -> subprocess.CompletedProcess:
        """One remote command, its stdin `data`; SSHUnreachable or SSHRefused when ssh itself failed."""
        try:
            done = subprocess.run(self.argv(command), input=data, capture_output=True, timeout=COMMAND_SECONDS)
        except FileNotFoundError:
            raise SSHRefused(f"{self.ssh} is not installed: install the OpenSSH client (Debian: openssh-client)"
                             ) from None
        except subprocess.TimeoutExpired:
            raise SSHUnreachable(f"{self.where}: {what} took more than {COMMAND_SECONDS:g} s") from None
        if done.returncode == 255:  # ssh's own failure; a remote command's status is passed on otherwise
            raise failure(self.where, done.stderr.decode(errors="replace"), what)
        return done

    def _present(self, path: str) -> bool:
        done = self._run(self.shell.exists(path), "looking for the helper")
        return PRESENT in done.stdout.decode(errors="replace").split()

    def ensure_helper(self) -> str:
        """The helper's remote path, copied there first if it is missing (checked once per link)."""
        if self.ready is not None:
            return self.ready
        data, _ = self.local_helper()
        path = self.remote_path()
        if not self._present(path):
            command, payload = self.shell.upload(path, data)
            done = self._run(command, "copying the helper", payload)
            self.uploads += 1
            if not self._present(path):  # another client may have copied it meanwhile: that is as good
                said = (done.stdout + done.stderr).decode(errors="replace").strip()
                raise SSHRefused(f"{self.where}: could not copy the helper to {path} (exit status "
                                 f"{done.returncode}): {said[-500:] or 'nothing printed'}; the commands were written "
                                 f"for a {self.shell.name} login shell (${SHELL_ENV} chooses: "
                                 f"{', '.join(SHELLS)})")
        self.ready = path
        return path

    # -- connecting -------------------------------------------------------------------------------------
    def open(self) -> Endpoint:
        """A new connection to a new helper process (copied there first if need be); no handshake yet."""
        path = self.ensure_helper()
        return Endpoint(ProcessChannel(self.argv(self.shell.run_helper(path)), where=self.where))

    def connect(self, timeout: float | None = COMMAND_TIMEOUT) -> Endpoint:
        """open(), then `hello`: an endpoint that said who it is. A helper that does not start says why."""
        endpoint = self.open()
        try:
            endpoint.hello(timeout=timeout)
        except EndpointGone as gone:
            endpoint.kill()
            self.ready = None  # look for it again next time: it may have been removed
            said = "\n".join(gone.diagnostics)
            if gone.status == 255:
                raise failure(self.where, said, "starting the helper") from None
            raise SSHRefused(f"{self.where}: the helper did not start (exit status {gone.status}): "
                             f"{said.strip()[-500:] or 'nothing printed'}") from None
        except AnswerError as error:
            endpoint.kill()
            raise SSHRefused(f"{self.where}: the helper's hello: {error}") from None
        return endpoint


def failure(where: str, printed: str, what: str) -> SSHUnreachable | SSHRefused:
    """ssh failed (exit status 255): SSHRefused when what it printed will not change by waiting."""
    said = " | ".join(line.strip() for line in printed.strip().splitlines()[-3:]) or "ssh printed nothing"
    message = f"{where}: ssh failed while {what}: {said}"
    if any(mark in printed for mark in _LASTING):
        return SSHRefused(message)
    return SSHUnreachable(message)
