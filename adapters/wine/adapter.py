"""The wine adapter: the adapter contract over a helper process running under Wine.

Everything runs lazily: the first operation that needs Wine builds the
helper (cached), makes this instance's prefix copy, starts its wineserver
and services, and starts the helper. A fault leaves the helper running but
marks it damaged; `next_test()` (called by the plugin before each test)
then replaces it, so no test inherits another's broken state. A timeout or
a helper that dies is replaced on the next operation. Memory blocks belong
to the helper that allocated them: freeing a block of a replaced helper is
a no-op.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import ClassVar, TypeVar

from specproof.adapter.contract import Availability, CallResult, Export, Fault, Info
from specproof.adapter.kernelmode import is_kernel_module
from specproof.adapter.structs import inline_definition
from specproof.sdk.typeinfo import Inline

from specproof.protocol.wire import (LAST_ERROR_SENTINEL, MAX_ARGS, EndpointGone, EndpointTimeout, MemoryFault,
                                     Refused, UnexpectedAnswer, stub_note)

from .helper import Helper
from .inlines import ENTRY, build_inline
from .prefix import Prefix
from .stubs import StubIndex, dll_name
from .toolchain import INSTALL_COMMAND, ToolMissing, build_helper, cache_problem, find_compiler, find_wine

#: WINEDEBUG for the helper: Wine's own errors and its fixme: lines, which mark partial stubs.
DEBUG_CHANNELS = "err+all,fixme+all"
T = TypeVar("T")


def _set_affinity(pid: int, cpus: set[int]) -> None:
    """Move every thread of process `pid` to `cpus` (a process's threads each have their own)."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return
    for thread in threads:
        try:
            os.sched_setaffinity(int(thread), cpus)
        except OSError:
            pass


class WineMemoryFault(RuntimeError):
    """Reading or writing the helper's memory faulted: the address is not mapped."""


class WineAdapter:
    """Wine, driven through one persistent helper per instance (one instance per xdist worker).

    Options (keyword strings): `debug` sets WINEDEBUG for the helper
    (default `err+all,fixme+all`); `pin=no` leaves CPU affinity alone.
    """

    name: ClassVar[str] = "wine"

    def __init__(self, **options: str) -> None:
        self.options = options
        self.debug = options.get("debug", DEBUG_CHANNELS)
        self.wine = find_wine()
        self.stubs = StubIndex(self.wine.dlls)
        self._exe = None
        self._prefix: Prefix | None = None
        self._helper: Helper | None = None
        self._spare: Helper | None = None
        self._damaged = False
        self._blocks: set[int] = set()
        self._info: Info | None = None
        self._affinity: set[int] | None = None
        self._names: dict[int, str] = {}
        self.restarts = 0
        atexit.register(self.close)

    @staticmethod
    def availability() -> Availability:
        try:
            find_wine()
            find_compiler()
        except ToolMissing as missing:
            return Availability(False, str(missing).split(";")[0], INSTALL_COMMAND)
        problem = cache_problem()
        if problem:
            return Availability(False, problem, "set SPECPROOF_CACHE to a writable folder")
        return Availability(True)

    # -- the helper's life -----------------------------------------------------------------
    def ready_prefix(self) -> Prefix:
        """This instance's prefix, made on first use: builds the helper (once per machine) and boots
        Wine in a copy of the template prefix, which takes seconds; then the same prefix."""
        if self._prefix is None:
            self._exe = build_helper()
            prefix = Prefix.create(self.wine)
            try:
                prefix.start(self._exe)
            except BaseException:
                prefix.remove()
                raise
            self._prefix = prefix
        return self._prefix

    def _running(self) -> Helper:
        helper = self._helper
        if helper is None or not helper.alive():
            if helper is not None:
                helper.kill()
            self._pin()
            spare, self._spare = self._spare, None
            if spare is not None and spare.alive():
                _set_affinity(spare.process.pid, os.sched_getaffinity(0))
                helper = spare
                self._spare = self._spawn(background=True)
            else:
                helper = self._spawn()
            self._helper = helper
            self._blocks.clear()
            self._damaged = False
            self.restarts += 1
        return helper

    def _spawn(self, background: bool = False) -> Helper:
        """A new helper; a `background` one (a spare) may start on any CPU, so it does not slow the calls."""
        prefix = self.ready_prefix()
        helper = Helper([str(self.wine.loader), str(self._exe)], prefix.env(self.debug), prefix.path)
        if background and self._affinity is not None:
            _set_affinity(helper.process.pid, self._affinity)
        return helper

    def serve_connection(self, connection: socket.socket, served: Mapping[str, tuple[str, ...]],
                         memory_limit: int, idle_timeout: float) -> subprocess.Popen:
        """A helper of its own on a client's connection (ServesConnections): its stdin, stdout and stderr
        are the socket (what Wine prints arrives as diagnostics, as over the pipe), its policy file lists
        the served functions, the ones Wine ships as stubs (read from the DLLs, as `resolve` does here), the
        memory bound and the idle time, and it answers the client's hello at once (`--greet`). The caller waits for it
        and closes this adapter after."""
        self._pin()
        prefix = self.ready_prefix()
        policy = prefix.path / f"specproof-policy-{os.getpid()}-{id(connection):x}.txt"
        lines = [f"memory {memory_limit:x}", f"idle {max(1, round(idle_timeout * 1000))}"]
        for name, modules in sorted(served.items()):
            lines.append(f"export {name}")
            lines.extend(f"stub {dll_name(module)}!{name}" for module in modules if self.survey(module, name) == "stub")
            defined = inline_definition(name)
            built = build_inline(defined) if defined is not None else None
            if built is not None:
                lines.append(f"inline {name} {built}")
        policy.write_text("\n".join(lines) + "\n")
        windows_path = "Z:" + str(policy).replace("/", "\\")
        fd = connection.fileno()
        return subprocess.Popen([str(self.wine.loader), str(self._exe), "--policy", windows_path, "--greet"],
                                stdin=fd, stdout=fd, stderr=fd, env=prefix.env(self.debug), cwd=prefix.path,
                                start_new_session=True)

    def new_helper(self) -> Helper:
        """A helper of its own, not the one this adapter calls through (for `specproof protocol-check wine`);
        the caller stops it, and `close()` removes the prefix it runs in."""
        return self._spawn()

    def _keep_spare(self) -> None:
        """After a fault, start the replacement now: it boots while the test finishes (about 0.1 s saved)."""
        if self._spare is None and self._prefix is not None:
            self._spare = self._spawn(background=True)

    def _pin(self) -> None:
        """Run this thread and the helper (which inherits it) on one CPU.

        Each call is a ping-pong over a pipe. Measured here, when the two
        sides sit on different CPUs every wake-up crosses CPUs and a round
        trip takes 70-130 us; on one CPU it takes about 15 us, close to a
        native program's. xdist workers take different CPUs. `pin=no` turns
        this off; `close()` restores the original affinity.
        """
        if self._affinity is not None or self.options.get("pin", "yes").lower() in ("no", "0", "false"):
            return
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            return
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]
        index = int(worker) if worker.isdigit() else 0
        self._affinity = set(allowed)
        os.sched_setaffinity(0, {allowed[index % len(allowed)]})

    def _drop(self) -> None:
        """Forget the current helper (killed after a timeout, or gone); the next operation starts another."""
        if self._helper is not None:
            self._helper.kill()
            self._helper = None

    def _command(self, command: Callable[[Helper], T], fresh: bool = False) -> T:
        """Run a bookkeeping command on the running helper (started if need be). A helper that dies or
        hangs is dropped and a refusal reported, both as RuntimeError naming the command; a memory
        fault (MemoryFault) and an unexpected answer (UnexpectedAnswer) pass through.

        A `fresh` command (info, resolve: nothing of the old process's state in it) is tried once
        more on a new helper when the helper turns out to have exited: a thread an earlier call started
        can crash it at any time after that call returned (CreateThread with a NULL start address does),
        and that is no reason to lose the next test.
        """
        tries = 2 if fresh else 1
        while True:
            tries -= 1
            try:
                return command(self._running())
            except EndpointGone as error:
                self._drop()
                if tries:
                    continue  # a new helper answers
                raise self._failed(error) from None
            except EndpointTimeout as error:
                self._drop()
                raise self._failed(error) from None
            except Refused as error:
                raise RuntimeError(f"Wine helper refused {error.command!r}: {error.reason}") from None

    @staticmethod
    def _failed(error: EndpointGone | EndpointTimeout) -> RuntimeError:
        return RuntimeError(f"Wine helper failed on {error.command!r}: {error}; "
                            f"Wine printed: {' | '.join(error.diagnostics[-5:]) or 'nothing'}")

    def next_test(self) -> None:
        """A test begins: replace a helper that faulted during the previous one."""
        if self._damaged:
            self._drop()  # the next operation starts a fresh helper (and clears the mark)

    def close(self) -> None:
        """Stop the helper, kill every process of this instance's prefix, remove the copy."""
        for helper in (self._helper, self._spare):
            if helper is not None:
                helper.kill()
        self._helper = self._spare = None
        if self._prefix is not None:
            self._prefix.remove()
            self._prefix = None
        self._blocks.clear()
        if self._affinity is not None:
            os.sched_setaffinity(0, self._affinity)
            self._affinity = None

    # -- contract ------------------------------------------------------------------------------
    def info(self) -> Info:
        if self._info is None:
            reported = self._command(Helper.wine_info, fresh=True)
            self._info = Info(name=self.name, version=reported.wine,
                              platform=f"Wine {reported.wine} (Windows {reported.windows})",
                              architecture=reported.architecture, kernel_mode=False, kernel_in_process=True,
                              details={"windows": reported.windows, "wine": self.wine.version(),
                                       "kernel_mode": "routines that need no driver, in the helper's process, "
                                                      "with Wine's kernel modules loaded (ntoskrnl.exe, hal.dll, "
                                                      "the .sys modules from the drivers folder)"})
        return self._info

    def resolve(self, module: str | None, symbol: str) -> Export | None:
        """The export's address; Wine's own DLLs are first read with pefile, so stubs are known without a call."""
        status = self.survey(module, symbol)
        if status == "missing":
            return None
        found = self._command(lambda helper: helper.resolve(module or None, symbol), fresh=True)
        if found is None:
            return None
        self._names[found.address] = symbol
        return Export(found.address, stub=status == "stub")

    def resolve_inline(self, inline: Inline) -> Export | None:
        """A routine the headers define inline, through a DLL of its own built from them (see inlines.py)."""
        module = build_inline(inline)
        if module is None:
            return None
        found = self._command(lambda helper: helper.resolve(module, ENTRY), fresh=True)
        if found is None:
            return None
        self._names[found.address] = inline.name
        return Export(found.address)

    def last_error_sentinel(self) -> int:
        """helper.c sets this before every call and answers `-` when the call left it there."""
        return LAST_ERROR_SENTINEL

    def survey(self, module: str | None, symbol: str) -> str | None:
        """present / stub / missing from Wine's DLL files alone, or None when only a running Wine can tell.
        A kernel module (`.sys`, ntoskrnl.exe, hal.dll) Wine does not ship is missing: Wine keeps all of its
        kernel modules in its DLL folder, and no prefix adds one."""
        if module and self.stubs.knows(module):
            return self.stubs.status(module, symbol)
        if module and self.ships(module) is False:
            return "missing"
        return None

    def ships(self, module: str) -> bool | None:
        """Whether Wine has `module` at all; None for a user-mode DLL it lacks (a prefix may hold one)."""
        if self.stubs.knows(module):
            return True
        return False if is_kernel_module(module) else None

    def _stub_note(self, address: int, diagnostics: list[str]) -> str:
        """Wine's own word that the export just called is a stub (see wire.stub_note)."""
        return stub_note(self._names.get(address), diagnostics)

    def alloc(self, size: int) -> int:
        address = self._command(lambda helper: helper.alloc(size))
        self._blocks.add(address)
        return address

    def write(self, address: int, data: bytes) -> None:
        try:
            self._command(lambda helper: helper.write(address, data))
        except MemoryFault as fault:
            self._damaged = True
            raise WineMemoryFault(f"writing {len(data)} bytes at 0x{address:X} faulted ({fault.answer})") from None

    def read(self, address: int, size: int) -> bytes:
        try:
            return self._command(lambda helper: helper.read(address, size))
        except MemoryFault as fault:
            self._damaged = True
            raise WineMemoryFault(f"reading {size} bytes at 0x{address:X} faulted ({fault.answer})") from None

    def free(self, address: int) -> None:
        if address in self._blocks and self._helper is not None:
            self._blocks.discard(address)
            self._command(lambda helper: helper.free(address))

    def call(self, address: int, args: list[int], timeout: float | None = None) -> CallResult:
        if len(args) > MAX_ARGS:  # before a helper is started for it
            raise ValueError(f"the Wine helper passes at most {MAX_ARGS} arguments, not {len(args)}")
        helper = self._helper or self._running()
        started = time.monotonic()
        try:
            value, fault, diagnostics, last_error, _, _ = helper.call(address, args, timeout)
        except EndpointTimeout as error:
            self._helper = None  # the client killed it
            self._keep_spare()
            return CallResult(timed_out=True, diagnostics=tuple(error.diagnostics),
                              duration=time.monotonic() - started)
        except EndpointGone as error:
            self._drop()
            self._keep_spare()
            note = f"wine: the helper process exited during the call (status {error.status})"
            return CallResult(fault=Fault(0, address), diagnostics=(*error.diagnostics, note),
                              duration=time.monotonic() - started)
        except (Refused, UnexpectedAnswer) as error:
            raise RuntimeError(f"Wine helper gave an unexpected answer to a call: {error.answer!r}") from None
        duration = time.monotonic() - started
        if fault is None:  # the common case first: it is most of a run's calls
            if not diagnostics:
                return CallResult(value, None, False, (), duration, "", last_error)
            return CallResult(value=value, diagnostics=tuple(diagnostics), duration=duration,
                              stub=self._stub_note(address, diagnostics), last_error=last_error)
        self._damaged = True
        self._keep_spare()
        notes = (f"wine: unimplemented function {fault.where}",) if fault.where else ()
        return CallResult(fault=Fault(fault.code, fault.address), diagnostics=(*diagnostics, *notes),
                          duration=duration)
