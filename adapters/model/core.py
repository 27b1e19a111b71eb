"""What every modelled function can rely on: memory, per-call state, and the export registry.

Each modelled export is a method named exactly like the function and marked
with `@export(module, ...)`. The registry is read from the class, so a
deliberately broken variant is an ordinary subclass: override the method
(it stays exported under the same modules), or list the function in the
class attribute `missing` (or `stubs`) to take it away. Nothing here knows
about SSPI or WFP; the function families are mixins (`sspi.py`, `wfp.py`).
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable, ClassVar, NoReturn, TypeVar

from specproof.adapter.structs import Record, layout

from .memory import ACCESS_VIOLATION, AddressSpace, ModelFault

#: The Windows INFINITE wait (0xFFFFFFFF milliseconds).
INFINITE = 0xFFFFFFFF

F = TypeVar("F", bound=Callable[..., Any])


class CallTimedOut(Exception):
    """Raised by `ModelCore.wait` when a wait would outlast the call's deadline: the call ends as timed out."""


def export(*modules: str) -> Callable[[F], F]:
    """Mark a method as the export of the same name from each of `modules` (case-insensitive names)."""
    if not modules:
        raise ValueError("an export needs at least one module")

    def mark(method: F) -> F:
        method.__model_modules__ = tuple(m.lower() for m in modules)  # type: ignore[attr-defined]
        return method

    return mark


class ModelCore:
    """State shared by the modelled functions of one adapter instance.

    Class attributes a variant may set:
    - `missing`: functions the variant does not export, as `"Function"` (from every module) or
      `"module!Function"` (from that module only).
    - `stubs`: functions exported but not implemented; calling one raises the unimplemented-function
      exception (0x80000100), as Wine's stubs do.
    """

    missing: ClassVar[frozenset[str] | set[str]] = frozenset()
    stubs: ClassVar[frozenset[str] | set[str]] = frozenset()

    def __init__(self, **options: Any) -> None:
        self.options: dict[str, Any] = dict(options)
        self.memory = AddressSpace()
        #: Blocks the model allocated on a caller's behalf, which the caller frees through an API
        #: (FreeContextBuffer, FwpmFreeMemory0); anything else is not the caller's to free that way.
        self.returned_buffers: set[int] = set()
        self._deadline: float | None = None
        self._diagnostics: list[str] = []
        self._function = ""
        #: The calling thread's last error after the call in progress; None: not set by it.
        self.last_error: int | None = None

    # -- the registry -----------------------------------------------------------------------
    @classmethod
    def declared_exports(cls) -> dict[str, tuple[str, ...]]:
        """Every function the class marks with `@export`, with its modules (before `missing` applies)."""
        table = cls.__dict__.get("_model_declared")
        if table is None:
            table = {}
            for klass in reversed(cls.__mro__):
                for name, member in vars(klass).items():
                    modules = getattr(member, "__model_modules__", None)
                    if modules:
                        table[name] = modules
            setattr(cls, "_model_declared", table)
        return table

    @classmethod
    def exported_from(cls, function: str) -> tuple[str, ...]:
        """The modules that export `function` once `missing` is applied (empty when it is missing)."""
        modules = cls.declared_exports().get(function, ())
        gone = {entry.lower() for entry in cls.missing}
        if function.lower() in gone:
            return ()
        return tuple(m for m in modules if f"{m}!{function.lower()}" not in gone)

    @classmethod
    def is_stub(cls, function: str) -> bool:
        return function in cls.stubs

    @staticmethod
    def arity(method: Callable[..., Any]) -> int | None:
        """How many integer arguments a bound method takes; None when it takes any number (*args)."""
        count = 0
        for parameter in inspect.signature(method).parameters.values():
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                return None
            if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                count += 1
        return count

    # -- per-call primitives ----------------------------------------------------------------
    def begin_call(self, function: str, deadline: float | None) -> None:
        self._function = function
        self._deadline = deadline
        self._diagnostics = []
        self.last_error = None  # the sentinel: a modelled function that fails sets it with set_last_error

    def set_last_error(self, code: int) -> None:
        """SetLastError, as the modelled function's own call would: the adapter reports it after the call."""
        self.last_error = code & 0xFFFFFFFF

    def end_call(self) -> tuple[str, ...]:
        lines = tuple(self._diagnostics)
        self._function, self._deadline, self._diagnostics = "", None, []
        return lines

    def wait(self, milliseconds: int) -> None:
        """Block for `milliseconds` (INFINITE = 0xFFFFFFFF: forever), as a modelled function that waits would.

        Nothing runs beside the caller while it waits (the model's created
        threads run when their creator waits, in `scheduler.py`, before
        this real sleep): a wait that would pass the current call's
        deadline sleeps until the deadline and then ends the call as timed
        out (by raising `CallTimedOut`, which `call` turns into
        `CallResult(timed_out=True)`). A variant that hangs is written as
        `self.wait(INFINITE)`. Outside a call there is no deadline, and an
        INFINITE wait times out at once rather than hang the host.
        """
        now = time.monotonic()
        forever = (milliseconds & 0xFFFFFFFF) == INFINITE
        if self._deadline is None:
            if forever:
                raise CallTimedOut(f"{self._function or 'model'}: infinite wait outside a call")
            time.sleep(milliseconds / 1000)
            return
        until = float("inf") if forever else now + milliseconds / 1000
        if until > self._deadline:
            time.sleep(max(0.0, self._deadline - now))
            raise CallTimedOut(f"{self._function}: wait of {'INFINITE' if forever else milliseconds} ms "
                               f"passed the call's deadline")
        time.sleep(max(0.0, until - now))

    def diag(self, text: str) -> None:
        """Note a line for the call's diagnostics, as an implementation's debug output would be."""
        self._diagnostics.append(f"model: {self._function}: {text}" if self._function else f"model: {text}")

    def fault(self, address: int, code: int = ACCESS_VIOLATION, what: str = "") -> NoReturn:
        """End the current call as a fault at `address` (an access violation unless `code` says otherwise)."""
        raise ModelFault(address, code, what)

    # -- structures in the caller's memory ---------------------------------------------------
    def read_record(self, address: int, struct: str) -> Record:
        """The structure `struct` (laid out as the SDK headers do) at `address`; a bad address faults."""
        found = layout(struct)
        return found.unpack(self.memory.read(address, found.size))

    def write_record(self, address: int, struct: str, **fields: Any) -> None:
        """Write the whole structure `struct` at `address`: `fields` set, the rest zero."""
        self.memory.write(address, layout(struct).pack(**fields))

    # -- memory handed to callers -----------------------------------------------------------
    def give_buffer(self, data: bytes) -> int:
        """A model-allocated copy of `data` that the caller owns and frees through the API."""
        address = self.memory.alloc(len(data), data)
        self.returned_buffers.add(address)
        return address

    def take_buffer(self, address: int) -> bool:
        """Free a block from `give_buffer`; False (and nothing freed) for any other address."""
        if address not in self.returned_buffers:
            return False
        self.returned_buffers.discard(address)
        self.memory.free(address)
        return True
