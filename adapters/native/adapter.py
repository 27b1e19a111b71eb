"""`--adapter native [--host [user@]host]`: the kit's helper on Windows itself.

With `--host` the helper runs on that machine, reached with the user's own
`ssh` (specproof/protocol/ssh.py: copied there once per digest, one `ssh`
per connection); options for ssh come from $SPECPROOF_SSH_OPTIONS (e.g.
`-F /etc/specproof/ssh_config`), the remote shell's kind from $SPECPROOF_SSH_SHELL
(`cmd`, the default, or `posix`). On Windows without `--host` it runs the
helper as a local process. Either way it is the same helper.c the wine
adapter runs under Wine, built with the same cross-compiler, and the same
wire protocol.

As with the wine adapter, a helper that faulted is replaced before the next
test (its state may be damaged), and a connection that drops costs the
tests it was in: the next one connects again (RemoteAdapter).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from specproof.adapter.contract import PROCESS_ENDED, Availability, CallResult, Info
from specproof.protocol.channels import ProcessChannel
from specproof.protocol.client import Endpoint
from specproof.protocol.remote import RemoteAdapter, RemoteMemoryFault
from specproof.protocol.ssh import SHELL_ENV, SSH_OPTIONS_ENV, SSHLink, Target

#: The machine, when --host is not given.
HOST_ENV = "SPECPROOF_NATIVE_HOST"
#: A helper.exe built elsewhere (a Windows machine without the cross-compiler's Unix tools, say).
HELPER_ENV = "SPECPROOF_HELPER"
COMPILER = "x86_64-w64-mingw32-gcc"
INSTALL_COMMAND = "sudo apt-get update && sudo apt-get install -y --no-install-recommends gcc-mingw-w64-x86-64 " \
                  "openssh-client"


def helper_exe() -> Path:
    """The helper to run: $SPECPROOF_HELPER, else helper.c built (once, cached) as the wine adapter builds it."""
    named = os.environ.get(HELPER_ENV)
    if named:
        if not Path(named).is_file():
            raise RuntimeError(f"{HELPER_ENV} names {named}, which is not a file")
        return Path(named)
    try:
        from specproof_adapters.wine.toolchain import build_helper
    except ImportError as error:  # the build's cache lock is POSIX-only
        raise RuntimeError(f"the helper cannot be built on this system ({error}); build helper.c with {COMPILER} "
                           f"and set {HELPER_ENV} to the .exe") from None
    return build_helper()


class NativeAdapter(RemoteAdapter):
    """Windows itself, through the kit's helper: over SSH with `host`, or as a local process on Windows.

    Options (keyword strings): `host` ([user@]host or ssh://[user@]host[:port]; `--host`), `ssh_options`
    (shell words for ssh; default $SPECPROOF_SSH_OPTIONS), `shell` (`cmd` or `posix`; default
    $SPECPROOF_SSH_SHELL, else `cmd`), `retry` (seconds to wait for a machine that went away, 30).
    """

    name: ClassVar[str] = "native"
    #: Elsewhere than on Windows it needs --host: `specproof run` picks it by default only on Windows.
    needs_endpoint: ClassVar[bool] = sys.platform != "win32"

    def __init__(self, host: str | None = None, ssh_options: str | None = None, shell: str | None = None,
                 retry: str = "30", **options: str) -> None:
        host = host or os.environ.get(HOST_ENV)
        self.link: SSHLink | None = None
        self._damaged = False
        self._blocks: set[int] = set()
        self._blocks_of: Endpoint | None = None
        if host:
            try:
                target = Target.parse(host)
                self.link = SSHLink(target, helper_exe, None if ssh_options is None else shlex.split(ssh_options),
                                    shell)
            except ValueError as error:
                raise RuntimeError(f"--host: {error}") from None
            connect, transport = self.link.connect, "ssh"
        elif sys.platform == "win32":
            connect, transport = self._local, "pipe"
        else:
            raise RuntimeError(f"the native adapter needs the Windows machine here: --host [user@]host (or "
                               f"${HOST_ENV}), reached with your ssh; options for ssh in ${SSH_OPTIONS_ENV}, a "
                               f"POSIX login shell with {SHELL_ENV}=posix")
        super().__init__(connect, retry=float(retry), transport=transport)

    @staticmethod
    def _local() -> Endpoint:
        endpoint = Endpoint(ProcessChannel([str(helper_exe())], where="the helper"))
        endpoint.hello()
        return endpoint

    @staticmethod
    def availability() -> Availability:
        named = os.environ.get(HELPER_ENV)
        if named and not Path(named).is_file():
            return Availability(False, f"{HELPER_ENV} names {named}, which is not a file",
                                f"point {HELPER_ENV} at a built helper.exe, or unset it")
        missing = []
        if not named and shutil.which(COMPILER) is None:
            missing.append(f"{COMPILER} (it builds the helper)")
        if sys.platform != "win32" and shutil.which("ssh") is None:
            missing.append("ssh (it reaches the Windows machine)")
        if missing:
            return Availability(False, " and ".join(missing) + (" is" if len(missing) == 1 else " are")
                                + " not installed", INSTALL_COMMAND)
        if not named:
            try:
                from specproof_adapters.wine.toolchain import cache_problem
            except ImportError:
                return Availability(False, "the helper cannot be built on this system",
                                    f"build helper.c with {COMPILER} and set {HELPER_ENV} to the .exe")
            problem = cache_problem()
            if problem:
                return Availability(False, problem, "set SPECPROOF_CACHE to a writable folder")
        where = "--host [user@]host" if sys.platform != "win32" else "this machine, or --host [user@]host"
        return Availability(True, f"usable with {where} (a Windows machine with OpenSSH server)")

    # -- who it is -----------------------------------------------------------------------------------
    def info(self) -> Info:
        """The machine's Windows build (hello's `windows=`), and how it was reached.

        The helper names itself `wine` and reports Wine's version when it runs under Wine; on Windows
        there is no Wine version to report, and the implementation is Windows of that build.
        """
        if self._info is None:
            base = super().info()
            fields = self.endpoint_info().fields
            windows = fields.get("windows", "unknown")
            wine = fields.get("version", "unknown")
            under_wine = fields.get("name") == "wine" and wine != "unknown"
            details = {**base.details, "windows": windows, "implementation": "wine" if under_wine else "windows"}
            if self.link is not None:
                details.update({"host": self.link.target.host, "helper": self.link.ready or ""})
            self._info = replace(base, version=wine if under_wine else windows,
                                 platform=f"Wine {wine} (Windows {windows})" if under_wine else f"Windows {windows}",
                                 kernel_mode=False, details=details)
        return self._info

    # -- memory belongs to the helper that allocated it ----------------------------------------------
    def alloc(self, size: int) -> int:
        address = super().alloc(size)
        if self._blocks_of is not self._endpoint:
            self._blocks, self._blocks_of = set(), self._endpoint
        self._blocks.add(address)
        return address

    def free(self, address: int) -> None:
        """Freed only by the helper that allocated it: a block of a helper since replaced went with it, and
        its address means nothing (or something else) to the new one."""
        if self._blocks_of is self._endpoint and address in self._blocks:
            self._blocks.discard(address)
            super().free(address)

    # -- a helper that faulted is replaced -----------------------------------------------------------
    def call(self, address: int, args: list[int], timeout: float | None = None) -> CallResult:
        result = super().call(address, args, timeout)
        if result.fault is not None and result.fault.code != PROCESS_ENDED:
            self._damaged = True
        return result

    def write(self, address: int, data: bytes) -> None:
        try:
            super().write(address, data)
        except RemoteMemoryFault:
            self._damaged = True
            raise

    def read(self, address: int, size: int) -> bytes:
        try:
            return super().read(address, size)
        except RemoteMemoryFault:
            self._damaged = True
            raise

    def next_test(self) -> None:
        """A test begins: a helper that faulted during the last one is replaced, a lost one reconnected."""
        if self._damaged:
            self._damaged = False
            self._drop("replaced after a fault")
        super().next_test()
