"""The helper process and its line protocol (see helper.c for the commands).

The helper's stdout and stderr are one pipe. Answers start with RS (0x1e);
every other line is something Wine printed (`fixme:`, `err:`, "Call from
... to unimplemented function") while the command ran, and is returned
with that command's answer. One pipe also means one read per round trip.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

ANSWER = 0x1E
#: Diagnostics kept per command; a chatty call should not fill the results.
MAX_DIAGNOSTICS = 200


class HelperGone(RuntimeError):
    """The helper exited while a command ran (e.g. a fault on another thread killed it)."""

    def __init__(self, status: int | None, diagnostics: list[str]) -> None:
        self.status = status
        self.diagnostics = diagnostics
        super().__init__(f"the Wine helper exited (status {status})")


class HelperTimeout(RuntimeError):
    """A command did not answer in time; the helper has been killed."""

    def __init__(self, diagnostics: list[str]) -> None:
        self.diagnostics = diagnostics
        super().__init__("the Wine helper did not answer in time")


class Answer(NamedTuple):
    """An answer line (without its RS) and the lines Wine printed before it."""

    text: str
    diagnostics: list[str]


class Helper:
    """One running helper under Wine, spoken to over a pipe."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        # A session of its own: a timeout kills the whole group, never the caller's.
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=env, cwd=cwd, bufsize=0,
                                        start_new_session=True)
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        self._watch = (self._out,)
        self._buffer = b""

    def request(self, line: str, timeout: float | None = None) -> Answer:
        """Send one command and wait for its answer, collecting what Wine printed meanwhile."""
        try:
            os.write(self._in, (line + "\n").encode())
        except BrokenPipeError:
            raise HelperGone(self._status(), self._drain()) from None
        diagnostics: list[str] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        buffer = self._buffer
        while True:
            if buffer:
                newline = buffer.find(b"\n")
                while newline >= 0:
                    raw, buffer = buffer[:newline], buffer[newline + 1:]
                    if raw[:1] == b"\x1e":
                        self._buffer = buffer
                        return Answer(raw[1:].decode(errors="replace"), diagnostics)
                    if len(diagnostics) < MAX_DIAGNOSTICS:
                        diagnostics.append(raw.decode(errors="replace").rstrip("\r"))
                    newline = buffer.find(b"\n")
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select(self._watch, (), (), wait)[0]:
                self._buffer = buffer
                self.kill()
                raise HelperTimeout(diagnostics)
            chunk = os.read(self._out, 65536)
            if not chunk:
                if buffer:
                    diagnostics.append(buffer.decode(errors="replace"))
                self._buffer = b""
                raise HelperGone(self._status(), diagnostics)
            buffer += chunk

    def _drain(self) -> list[str]:
        rest = self._buffer
        self._buffer = b""
        try:
            while select.select([self._out], [], [], 0.2)[0]:
                chunk = os.read(self._out, 65536)
                if not chunk:
                    break
                rest += chunk
        except OSError:
            pass
        return [line.decode(errors="replace") for line in rest.splitlines() if line[:1] != b"\x1e"]

    def _status(self) -> int | None:
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the helper at once (its process group), e.g. after a timeout."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self._close_pipes()

    def stop(self, grace: float = 2.0) -> None:
        """Ask the helper to exit; kill it if it does not within `grace` seconds."""
        if self.process.poll() is None:
            try:
                os.write(self._in, b"exit\n")
                self.process.wait(timeout=grace)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
