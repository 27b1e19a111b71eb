"""Calls by name: a spec's named, typed arguments turned into contract operations.

Tests read `api.DeleteSecurityContext(phContext=ctx)`. The `Api` finds the
function's spec (signature, module, documented codes), turns each argument
into an integer (memory blocks and handles become addresses in the
implementation's process), resolves and calls the export through the
adapter, and records every value returned, so the documented-codes rule
can judge each call to the function under test.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..outcomes import CallTimeout, Crash, NotApplicable, NotImplementedByImplementation
from ..results.records import Observed
from ..sdk.expr import sign_extend
from .contract import UNIMPLEMENTED_STUB, Adapter, CallResult, CallsInlines, ReportsUnsetLastError, SurveysExports
from .codebook import CodeBook
from .kernelmode import driver_context
from .specindex import SpecIndex
from .structs import Record, inline_definition, layout, pointee

MASK64 = (1 << 64) - 1

#: Garbage that is not a valid handle in any implementation: a non-canonical, unaligned pattern.
GARBAGE = 0xDEADBEEFBAADF00D


def normalise_type(ctype: str | None) -> str:
    """`const CtxtHandle *` -> `CtxtHandle*`: one spelling per type, for table look-ups."""
    if not ctype:
        return ""
    text = ctype.replace("const ", "").replace("CONST ", "").replace(" ", "")
    return text


def is_pointer(ctype: str | None) -> bool:
    text = normalise_type(ctype)
    return text.endswith("*") or (text[:1] == "P" and text[1:2].isupper()) or text.startswith("LP")


def _reporter_args(spec, reporter_spec, args: dict[str, Any]) -> dict[str, Any]:
    """The reporter's arguments from the original call's: by name, else by type (Handle <- AsyncContext)."""
    by_type = {normalise_type(p.type): args[p.name] for p in spec.signature.params if p.name in args}
    found = {}
    for param in reporter_spec.signature.params:
        if param.name in args:
            found[param.name] = args[param.name]
        elif normalise_type(param.type) in by_type:
            found[param.name] = by_type[normalise_type(param.type)]
    return found


@dataclass
class Block:
    """Memory in the implementation's process, owned by the test that made it."""

    api: "Api"
    address: int
    size: int
    #: The structure the block was laid out as (`api.struct`), else None.
    struct: str | None = None

    def read(self, size: int | None = None, offset: int = 0) -> bytes:
        return self.api.adapter.read(self.address + offset, self.size if size is None else size)

    def write(self, data: bytes, offset: int = 0) -> None:
        self.api.adapter.write(self.address + offset, data)

    def u32(self, offset: int = 0) -> int:
        return int.from_bytes(self.read(4, offset), "little")

    def u64(self, offset: int = 0) -> int:
        return int.from_bytes(self.read(8, offset), "little")

    def record(self, struct: str) -> Record:
        """The block's bytes read as the structure `struct` (a name the SDK headers define)."""
        found = layout(struct)
        return found.unpack(self.read(found.size))


@dataclass(frozen=True)
class Handle:
    """A handle passed by value (HANDLE, an engine session): an opaque integer."""

    value: int
    kind: str = "HANDLE"


@dataclass(frozen=True)
class BadHandle:
    """A handle argument that is not valid: `null`, `zeroed` or `garbage`."""

    how: str


@dataclass
class Observation:
    """One value a call returned (or the way it ended), as results record it."""

    function: str
    value: int | None
    name: str | None
    documented: bool | None
    phase: str = "call"
    fault: str | None = None
    timed_out: bool = False
    diagnostics: tuple[str, ...] = ()
    stub: str = ""  # the implementation's own word that this export is a stub
    last_error: int | None = None  # the thread's last error after the call; None: the call did not set it
    last_error_name: str | None = None
    #: For a failed call of the function under test: whether its last error is a failure reason its page names
    #: (None: nothing to judge; see CodeBook.last_error_documented).
    last_error_documented: bool | None = None
    #: A failed call of the function under test that left the last error unset, where its page says to
    #: call GetLastError (judged only with an adapter that `ReportsUnsetLastError`).
    last_error_unset: bool = False

    def as_record(self) -> Observed:
        """The observation as the results format records it (values in hex, 8 digits at least)."""
        return Observed(function=self.function, value=None if self.value is None else f"0x{self.value:08X}",
                        name=self.name if self.value is not None else None,
                        documented=self.documented if self.value is not None else None, phase=self.phase,
                        fault=self.fault, timeout=self.timed_out, diagnostics=self.diagnostics, stub=self.stub,
                        last_error=None if self.last_error is None else f"0x{self.last_error:08X}",
                        last_error_name=self.last_error_name if self.last_error is not None else None)


@dataclass
class Returned:
    """What a call through the Api gave back: the value, its name, and the arguments passed."""

    function: str
    value: int | None
    name: str | None
    args: dict[str, Any]
    observation: Observation

    @property
    def hex(self) -> str:
        return "void" if self.value is None else f"0x{self.value:08X}"

    @property
    def last_error(self) -> int | None:
        """The thread's last error after the call; None when the call did not set it."""
        return self.observation.last_error

    def describe(self) -> str:
        """The value by hex and name, and the last error beside it when the call set one:
        `0x00000000 (FALSE), last error ERROR_INVALID_HANDLE 0x6`."""
        text = f"{self.hex} ({self.name})" if self.name else self.hex
        return text + describe_last_error(self.observation.last_error, self.observation.last_error_name)


def describe_last_error(value: int | None, name: str | None) -> str:
    """`, last error NAME 0xN` (the name first, as a reader looks for it), or nothing when not set."""
    if value is None:
        return ""
    return f", last error {name} 0x{value:X}" if name else f", last error 0x{value:X}"


@dataclass
class Api:
    """Named calls into one implementation, on behalf of one test.

    `under_test` is the function whose documented codes every call to it is
    judged against; `header` picks the spec when two headers document one
    name (a kernel page and its user-mode twin).
    """

    adapter: Adapter
    specs: SpecIndex
    codes: CodeBook
    timeout: float = 10.0
    under_test: str | None = None
    header: str | None = None
    observations: list[Observation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Function that returns a new handle -> the function that releases it (from the suites' catalog).
    closers: dict[str, str] = field(default_factory=dict)
    #: The implementation runs kernel-mode routines in an ordinary process (`Info.kernel_in_process`): a
    #: routine that needs a driver around it is not-applicable, saying what it needs.
    outside_kernel: bool = False
    _blocks: list[int] = field(default_factory=list)
    _made: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # a runtime-checkable protocol's isinstance looks at the class each time: once per Api, not per call
        self._reports_unset = isinstance(self.adapter, ReportsUnsetLastError)

    # -- memory -----------------------------------------------------------------------------
    def alloc(self, size: int, data: bytes = b"") -> Block:
        address = self.adapter.alloc(max(size, 1))
        self._blocks.append(address)
        self.adapter.write(address, (data + bytes(size))[:size] if size else b"")
        return Block(self, address, size)

    def struct(self, struct: str, **fields: Any) -> Block:
        """A structure the SDK headers define, laid out as the target's compiler does, with `fields` set."""
        image = layout(struct).pack(**fields)
        block = self.alloc(len(image), image)
        block.struct = struct
        return block

    def wide(self, text: str) -> Block:
        data = (text + "\0").encode("utf-16-le")
        return self.alloc(len(data), data)

    def ansi(self, text: str) -> Block:
        """A NUL-terminated single-byte string (GetProcAddress's names are ANSI)."""
        data = (text + "\0").encode("latin-1")
        return self.alloc(len(data), data)

    def constant(self, name: str, pointer: bool = False) -> int:
        """A constant from the SDK headers (`SECBUFFER_TOKEN`, `FWP_IP_VERSION_V4`, `HKEY_CURRENT_USER`).

        The SDK index folds values to 32 bits; `pointer` gives a handle constant as a 64-bit process
        sees it: `(HKEY)(ULONG_PTR)(LONG)0x80000001` is 0xFFFFFFFF80000001, `(HANDLE)-1` all ones.
        """
        value = self.codes.constant(name)
        if value is None:
            raise LookupError(f"the SDK headers define no constant {name}: check its spelling in the page's "
                              "header, or give the value itself")
        return sign_extend(value) if pointer else value

    def release_memory(self) -> None:
        """Free what this Api allocated; called when the test (or fixture scope) ends."""
        while self._blocks:
            address = self._blocks.pop()
            try:
                self.adapter.free(address)
            except Exception:  # the implementation may have died; its memory went with it
                pass

    # -- calls ------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Callable[..., Returned]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda **kwargs: self.call(name, **kwargs)

    def spec_of(self, function: str):
        """The spec a call to `function` is judged by (the test's header wins for twins)."""
        return self.specs.get(function, self.header)

    def resolve(self, function: str, inline: bool = True) -> int:
        """The export's address; a missing export or a stub is the outcome `not-implemented`.

        A function the headers define inline that the module does not export is called as the headers
        define it, where the adapter can (CallsInlines); asked for the export itself (`inline=False`, the
        export cases), it is not-applicable: no module has to export it."""
        spec = self.spec_of(function)
        module = self.specs.module_of(spec)
        export = self.adapter.resolve(module, function)
        defined = inline_definition(function) if export is None else None
        if defined is not None and not inline:
            raise NotApplicable(f"{function} is inline in {defined.header}: no module exports it, and none has to "
                                "(a caller compiles the headers' body into itself)")
        if defined is not None and isinstance(self.adapter, CallsInlines):
            export = self.adapter.resolve_inline(defined)
            note = (f"{function} is inline in {defined.header}: no module exports it, so the headers' own "
                    "definition was called")
            if export is not None and note not in self.notes:
                self.notes.append(note)
        if export is None or export.stub:
            detail = ""
            if export is None and module and isinstance(self.adapter, SurveysExports):
                if self.adapter.ships(module) is False:
                    detail = f"the implementation has no {module}"
                elif self.adapter.survey(module, function) == "present":
                    detail = f"{module} has the export, but the module did not load"
            raise NotImplementedByImplementation(function, module, stub=bool(export and export.stub), detail=detail)
        return export.address

    def call(self, function: str, **kwargs: Any) -> Returned:
        spec = self.spec_of(function)
        params = spec.signature.params
        unknown = set(kwargs) - {p.name for p in params}
        if unknown:
            raise TypeError(f"{function} has no parameter {', '.join(sorted(unknown))} "
                            f"(parameters: {', '.join(p.name for p in params)})")
        address = self.resolve(function)
        if self.outside_kernel and spec.mode == "kernel":
            needs = driver_context(spec)
            if needs is not None:
                raise NotApplicable(f"{function} is exported, but {needs}")
        args = [self._to_int(kwargs.get(p.name), p.type) for p in params]
        result = self.adapter.call(address, args, self.timeout)
        return self._returned(spec, function, kwargs, result)

    def _returned(self, spec, function: str, kwargs: dict[str, Any], result: CallResult,
                  phase: str = "call", judged_by=None) -> Returned:
        judge = judged_by or spec
        if result.fault is not None:
            self.observations.append(Observation(function, None, None, None, phase,
                                                 fault=result.fault.describe(), diagnostics=result.diagnostics))
            if result.fault.code == UNIMPLEMENTED_STUB:  # the implementation ships it as a stub
                raise NotImplementedByImplementation(function, self.specs.module_of(spec), stub=True)
            raise Crash(function, result.fault.describe())
        if result.timed_out:
            self.observations.append(Observation(function, None, None, None, phase, timed_out=True,
                                                 diagnostics=result.diagnostics))
            raise CallTimeout(function, self.timeout)
        value = self.codes.width(spec, result.value)
        name = self.codes.name(judge, value, phase) if value is not None else None
        documented = None
        if value is not None and (judge.api == self.under_test):
            documented = self.codes.documented(judge, value, phase)
        observation = Observation(function, value, name, documented, phase, diagnostics=result.diagnostics,
                                  stub=result.stub)
        if result.last_error is not None:
            observation.last_error = result.last_error
            observation.last_error_name = self.codes.last_error_name(judge, result.last_error)
            if judge.api == self.under_test:
                observation.last_error_documented = self.codes.last_error_documented(judge, value, result.last_error)
        elif judge.api == self.under_test and value is not None and self._reports_unset:
            observation.last_error_unset = self.codes.promised_last_error(judge, value)
        self.observations.append(observation)
        closer = self.closers.get(function)
        if closer and phase == "call" and value is not None and self.codes.is_success(spec, value):
            self._made.append((closer, value))
        return Returned(function, value, name, dict(kwargs), observation)

    def release_made(self) -> None:
        """Release the handles the test's own calls made (a CreateFileW case's file), newest first, so the
        fixtures they live in (a temporary folder) can go; a release that fails is noted, not judged."""
        while self._made:
            closer, value = self._made.pop()
            try:
                first = self.spec_of(closer).signature.params[0].name
                self.call(closer, **{first: Handle(value)})
            except Exception as error:  # the implementation may be gone; its handles went with it
                self.notes.append(f"release of 0x{value:X} with {closer} failed: {error}")

    def poll_completion(self, returned: Returned, pending: str, limit: float | None = None) -> Returned:
        """Poll the function that reports `returned`'s completion until it stops saying `pending`.

        The reporter (for example SspiGetAsyncCallStatus) is named by the
        completion-phase codes' `reported_by`; its arguments are taken by
        name from the original call's. Each value it returns is judged
        against the completion-phase codes of the function under test.
        """
        spec = self.spec_of(returned.function)
        reporter = next((c.reported_by for c in spec.returns.codes if c.phase == "completion" and c.reported_by), None)
        if reporter is None:
            raise LookupError(f"{spec.api}'s spec names no completion-phase reporter (`reported_by:`)")
        reporter_spec = self.spec_of(reporter)
        kwargs = _reporter_args(spec, reporter_spec, returned.args)
        deadline = time.monotonic() + (self.timeout if limit is None else limit)
        address = self.resolve(reporter)
        while True:
            args = [self._to_int(kwargs.get(p.name), p.type) for p in reporter_spec.signature.params]
            result = self.adapter.call(address, args, self.timeout)
            status = self._returned(reporter_spec, reporter, kwargs, result, phase="completion", judged_by=spec)
            if status.name != pending or time.monotonic() > deadline:
                return status
            time.sleep(0.001)

    # -- arguments --------------------------------------------------------------------------
    def address_of(self, value: Any) -> int:
        """The address (or integer) an argument or a fixture's value stands for: a Block's address, an object's
        `address`, a handle's value, an integer itself."""
        return self._to_int(value, None)

    def _to_int(self, value: Any, ctype: str | None) -> int:
        if value is None:
            return 0
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value & MASK64
        if isinstance(value, Block):
            return value.address
        if isinstance(value, Handle):
            return value.value & MASK64
        if isinstance(value, BadHandle):
            return self._bad_handle(value.how, ctype)
        address = getattr(value, "address", None)
        if isinstance(address, int):
            return address
        raise TypeError(f"cannot pass {value!r} as {ctype or 'an argument'}")

    def _bad_handle(self, how: str, ctype: str | None) -> int:
        if how == "null":
            return 0
        target = pointee(ctype)
        if target is None and not is_pointer(ctype):  # a handle by value
            return 0 if how == "zeroed" else GARBAGE
        size = target.size if target else 16
        pattern = bytes(size) if how == "zeroed" else (GARBAGE.to_bytes(8, "little") * ((size + 7) // 8))[:size]
        return self.alloc(size, pattern).address
