"""The adapter contract: what every implementation under test offers.

The contract is deliberately low-level (exports, memory, calls), so an
adapter knows nothing about any particular API: the marshalling layer
(`specproof.adapter.marshal`) turns a spec's named, typed arguments into
these operations, and the same suites then run on every implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import socket
    import subprocess
    from collections.abc import Mapping

    from ..sdk.typeinfo import Inline

#: Exception codes a call may fault with (Windows' own values).
ACCESS_VIOLATION = 0xC0000005
UNIMPLEMENTED_STUB = 0x80000100
#: A "fault" with no exception code: the process or the connection ended during the call.
PROCESS_ENDED = 0


@dataclass(frozen=True)
class Info:
    """Who the implementation is, for results and for deciding what can run."""

    name: str
    version: str
    platform: str
    architecture: str = "x86_64"
    #: It runs in a kernel: kernel-mode tests run as they are.
    kernel_mode: bool = False
    #: Without a kernel, it still runs the kernel-mode routines that need no driver around them, its kernel
    #: modules loaded in an ordinary process (Wine's helper); a routine that needs more is not-applicable
    #: with the reason `kernelmode.driver_context` gives.
    kernel_in_process: bool = False
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Export:
    """A resolved export; `stub` means the implementation ships it but does not implement it."""

    address: int
    stub: bool = False


@dataclass(frozen=True)
class Fault:
    """The implementation faulted during a call (exception code and address).

    Code 0 (PROCESS_ENDED) says no exception was seen: the implementation's process exited, or the
    connection to it dropped, while the call ran (the adapter's diagnostics say which).
    """

    code: int
    address: int = 0

    def describe(self) -> str:
        if self.code == PROCESS_ENDED:
            return f"the implementation went away during the call at 0x{self.address:X} (its process exited or " \
                   "its connection dropped; see the diagnostics)"
        what = {ACCESS_VIOLATION: "access violation", UNIMPLEMENTED_STUB: "unimplemented function"}.get(self.code)
        text = f"exception 0x{self.code:08X}"
        return f"{text} ({what}) at 0x{self.address:X}" if what else f"{text} at 0x{self.address:X}"


@dataclass(slots=True)
class CallResult:
    """What one call did: exactly one of `value`, `fault` or `timed_out`, plus diagnostics.

    Not frozen: one is made per call, and a frozen dataclass's __init__ costs
    a microsecond more, a sizeable part of a call's round trip through a pipe.
    """

    value: int | None = None
    fault: Fault | None = None
    timed_out: bool = False
    diagnostics: tuple[str, ...] = ()
    duration: float = 0.0
    #: Set when the implementation said, while running, that the export is only a stub (the
    #: diagnostic that says so, e.g. Wine's `fixme:...:FwpmEngineOpen0 (...) stub`).
    stub: str = ""
    #: The calling thread's last error (GetLastError) right after the call, or None when the function
    #: did not set it: an adapter sets a sentinel just before the call, in the same thread, with nothing
    #: in between that may change it, and reports None when the sentinel is still there.
    last_error: int | None = None


@dataclass(frozen=True)
class Availability:
    """Whether an adapter can run on this machine, and if not, why and how to fix it."""

    usable: bool
    reason: str = ""
    fix: str = ""


@runtime_checkable
class Adapter(Protocol):
    """One implementation of the API under test; one instance per test process.

    Addresses and values are plain integers (64-bit, unsigned); `call`
    passes up to 12 integer or pointer arguments, as the Win64 calling
    convention allows for any export taking integers and pointers.
    """

    def info(self) -> Info: ...

    def resolve(self, module: str | None, symbol: str) -> Export | None:
        """The export's address, or None when it is missing; `module` None searches every module."""
        ...

    def alloc(self, size: int) -> int: ...

    def write(self, address: int, data: bytes) -> None: ...

    def read(self, address: int, size: int) -> bytes: ...

    def free(self, address: int) -> None: ...

    def call(self, address: int, args: list[int], timeout: float) -> CallResult: ...

    def close(self) -> None:
        """Release everything the adapter started (processes, prefixes, memory)."""
        ...


# Capabilities beyond the contract. An adapter offers one by having its method; the kit asks with
# isinstance() against these protocols and otherwise does without, so a minimal adapter needs none.


@runtime_checkable
class RecoversBetweenTests(Protocol):
    """An adapter that must put itself right before each test (the wine adapter replaces a helper
    that faulted); without it, nothing happens between tests."""

    def next_test(self) -> None: ...


@runtime_checkable
class SurveysExports(Protocol):
    """An adapter that can say whether an export is there without starting the implementation (the
    wine adapter reads Wine's DLL files); without it, `specproof exports` asks `resolve`."""

    def survey(self, module: str | None, symbol: str) -> str | None:
        """"present", "stub" or "missing"; None when it cannot tell without starting (then `resolve` is asked)."""
        ...

    def ships(self, module: str) -> bool | None:
        """Whether the implementation has `module` at all (False: a missing export is a missing module);
        None when it cannot tell."""
        ...


@runtime_checkable
class ReportsUnsetLastError(Protocol):
    """An adapter that sets a sentinel last error before each call, so a `last_error` of None means the
    function did not set one (the wine helper, the model); with it, the kit judges a failure that leaves
    the last error unset where the page says to call GetLastError. Without it, None means only "not
    reported" and nothing is judged."""

    def last_error_sentinel(self) -> int:
        """The value set before each call (reported as None when it is still there after)."""
        ...


@runtime_checkable
class CallsInlines(Protocol):
    """An adapter that can run a routine the headers define inline (wdm.h's InsertTailList, which no
    module exports): the wine adapter compiles the headers' own definition with the helper's
    cross-compiler, the model models it. The kit asks only when the module does not export the name.
    Without it, such a routine is not-implemented, as any missing export."""

    def resolve_inline(self, inline: "Inline") -> Export | None: ...


@runtime_checkable
class ServesConnections(Protocol):
    """An adapter whose implementation speaks the wire protocol itself (the kit's helper) and can take a
    client's connection: `specproof agent serve` hands the socket over after the handshake, and the helper
    answers the client directly and keeps the served functions, the memory bound and the idle time
    itself (the agent no longer sees the traffic). One hop fewer than the agent relaying each command;
    not used with TLS, which only the agent speaks."""

    def serve_connection(self, connection: "socket.socket", served: "Mapping[str, tuple[str, ...]]",
                         memory_limit: int, idle_timeout: float) -> "subprocess.Popen": ...


class AdapterFactory(Protocol):
    """What an entry point in group `specproof.adapters` names: usually the adapter class."""

    def __call__(self, **options: str) -> Adapter: ...

    @staticmethod
    def availability() -> Availability: ...
