"""The model adapter: the adapter contract over the in-process emulator.

Exports get fake code addresses in a range the heap never reaches, so an
export address can never be mistaken for data and a call to any other
address faults where a processor would (at the call target). A call runs
the export's method with the integer arguments (missing ones are zero,
extra ones ignored, as registers would be), and ends in one of three ways:
a value (masked to 64 bits), a fault (`ModelFault` raised by memory or by
the method), or a timeout (`CallTimedOut` from `wait`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

import specproof
from specproof.adapter.contract import (ACCESS_VIOLATION, UNIMPLEMENTED_STUB, Availability, CallResult, Export,
                                        Fault, Info)

from .core import CallTimedOut
from .files import FileFunctions
from .heap import HeapFunctions
from .kernel32_process import ProcessFunctions
from .memory import HEAP_LIMIT, MASK64, ModelFault
from .ntoskrnl import INLINE, KernelFunctions
from .registry import RegistryFunctions
from .sspi import SspiFunctions
from .strings import StringFunctions
from .synch import SyncFunctions
from .sysinfo import SystemInfoFunctions
from .threads import ThreadFunctions
from .virtual import VirtualMemoryFunctions
from .wfp import WfpFunctions

if TYPE_CHECKING:
    from specproof.sdk.typeinfo import Inline

#: The first fake export address; exports are `CODE_STEP` apart, all above the heap's limit.
CODE_BASE = 0x0000_7FFA_0000_1000
CODE_STEP = 0x40
#: The value the model's thread "holds" before each call, as the wine helper sets one; never reported.
LAST_ERROR_SENTINEL = 0x5EC7A11E
#: The deadline a call gets when the caller passes no timeout.
DEFAULT_TIMEOUT = 10.0

assert CODE_BASE >= HEAP_LIMIT


class ModelAdapter(SspiFunctions, WfpFunctions, FileFunctions, VirtualMemoryFunctions, StringFunctions,
                   SystemInfoFunctions, SyncFunctions, ThreadFunctions, ProcessFunctions, HeapFunctions,
                   RegistryFunctions, KernelFunctions):
    """specproof's built-in implementation: a small emulator of the bundled specs' functions.

    A deliberately broken variant is a subclass: override an export's
    method (e.g. `def DeleteSecurityContext(self, phContext): return 0`),
    make one hang (`self.wait(INFINITE)`), fault (`self.fault(address)`),
    or drop it (`missing = {"DeleteSecurityContext"}`).
    """

    name: ClassVar[str] = "model"

    def __init__(self, **options: str) -> None:
        super().__init__(**options)  # options are accepted and ignored: the model has no settings
        declared = sorted(self.declared_exports())
        self._address_of = {function: CODE_BASE + CODE_STEP * index for index, function in enumerate(declared)}
        self._function_at = {address: function for function, address in self._address_of.items()
                             if self.exported_from(function)}
        self._arity = {function: self.arity(getattr(self, function)) for function in declared}

    @staticmethod
    def availability() -> Availability:
        return Availability(True)

    def info(self) -> Info:
        details = {"exports": str(len(self._function_at))}
        cls = type(self)
        if cls is not ModelAdapter:
            details["variant"] = f"{cls.__module__}.{cls.__qualname__}"
        return Info(name=self.name, version=specproof.__version__, platform="specproof model (Python)",
                    architecture="x86_64", kernel_mode=True, details=details)

    # -- exports ----------------------------------------------------------------------------
    def resolve(self, module: str | None, symbol: str) -> Export | None:
        """The export's address; `module` is case-insensitive, with or without its extension, or None for any."""
        modules = self.exported_from(symbol)
        if not modules:
            return None
        if module is not None:
            wanted = module.lower()
            if not any(m == wanted or m.rsplit(".", 1)[0] == wanted for m in modules):
                return None
        return Export(self._address_of[symbol], stub=self.is_stub(symbol))

    def resolve_inline(self, inline: Inline) -> Export | None:
        """A routine the headers define inline (wdm.h's InsertTailList), which no module exports: the model's
        own method of that name (exported from the pseudo-module "inline"), else None (not-implemented)."""
        return self.resolve(INLINE[0], inline.name)

    def exports(self) -> dict[str, tuple[str, ...]]:
        """Every export this instance offers, with the modules it comes from."""
        return {f: self.exported_from(f) for f in sorted(self._function_at.values())}

    # -- memory (a bad address raises ModelFault, with the code and address a fault would have) ------
    def alloc(self, size: int) -> int:
        return self.memory.alloc(size)

    def write(self, address: int, data: bytes) -> None:
        self.memory.write(address, data)

    def read(self, address: int, size: int) -> bytes:
        return self.memory.read(address, size)

    def free(self, address: int) -> None:
        self.returned_buffers.discard(address)
        self.memory.free(address)

    # -- calls ------------------------------------------------------------------------------
    def call(self, address: int, args: list[int], timeout: float | None = None) -> CallResult:
        started = time.monotonic()
        function = self._function_at.get(address)
        if function is None:
            return CallResult(fault=Fault(ACCESS_VIOLATION, address),
                              diagnostics=(f"model: call to 0x{address:X}, which is not an export",),
                              duration=time.monotonic() - started)
        if self.is_stub(function):
            return CallResult(fault=Fault(UNIMPLEMENTED_STUB, address),
                              diagnostics=(f"model: {function} is a stub",), duration=time.monotonic() - started)
        method = getattr(self, function)
        count = self._arity[function]
        values = [int(a) & MASK64 for a in args]
        if count is not None:
            values = (values + [0] * count)[:count]
        seconds = DEFAULT_TIMEOUT if timeout is None else timeout
        self.begin_call(function, started + max(0.0, seconds))
        try:
            value = method(*values)
        except ModelFault as fault:
            self.diag(str(fault))
            return CallResult(fault=Fault(fault.code, fault.address), diagnostics=self.end_call(),
                              duration=time.monotonic() - started)
        except CallTimedOut:
            return CallResult(timed_out=True, diagnostics=self.end_call(), duration=time.monotonic() - started)
        except BaseException:
            self.end_call()
            raise
        return CallResult(value=int(value or 0) & MASK64, diagnostics=self.end_call(),
                          duration=time.monotonic() - started, last_error=self.last_error)

    def last_error_sentinel(self) -> int:
        """A call starts with no last error set (`begin_call`); only a modelled SetLastError changes that."""
        return LAST_ERROR_SENTINEL

    def close(self) -> None:
        """Forget every handle, session and block, as when a process ends; the instance starts afresh."""
        self.__init__(**self.options)
