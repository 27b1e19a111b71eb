"""The adapter contract over any endpoint that speaks the wire protocol, reconnecting when it comes back.

`service` (an agent or a third party's service over TCP) and `native` (the
helper on Windows, locally or over SSH) are this class with a way to connect.
An endpoint that goes away during a run costs the tests it was in: a call
ends as a fault with a note saying the connection was lost (`crash`), a
bookkeeping command as an error naming the command; the next operation
connects again, waiting up to `retry` seconds for the endpoint to come back,
and the run goes on. A session's state (memory, resolved exports) does not
outlive its connection, so each new connection starts afresh, as a new
helper does after a fault.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, TypeVar

from ..adapter.contract import CallResult, Export, Fault, Info
from .client import Endpoint
from .wire import (INLINE_MODULE, LAST_ERROR_SENTINEL, MAX_ARGS, EndpointGone, EndpointInfo, EndpointTimeout,
                   MemoryFault, Refused, UnexpectedAnswer, stub_note)

if TYPE_CHECKING:
    from ..sdk.typeinfo import Inline

T = TypeVar("T")
#: Seconds a test waits for an endpoint that did not come back within the first retry time.
DOWN_RETRY = 2.0


class RemoteMemoryFault(RuntimeError):
    """Reading or writing the endpoint's memory faulted."""


class RemoteAdapter:
    """An adapter whose implementation answers the wire protocol somewhere else."""

    name = "remote"

    def __init__(self, connect: Callable[[], Endpoint], retry: float = 30.0, transport: str = "") -> None:
        self._connect = connect
        self.retry = retry
        self.transport = transport
        self._endpoint: Endpoint | None = None
        self._info: Info | None = None
        self.connections = 0
        self._lost = ""
        self._down = False  # a whole retry time passed without the endpoint
        self._in_test = False  # a test is under way (next_test was called): a lost connection ends it
        self._names: dict[int, str] = {}  # resolved addresses, for a stub's word in the diagnostics

    # -- the connection --------------------------------------------------------------------------------
    def _live(self) -> Endpoint:
        endpoint = self._endpoint
        if endpoint is not None and endpoint.alive():
            return endpoint
        if self._in_test and (endpoint is not None or self._lost):
            # The test already worked on the connection that went: its memory and handles went with it, so
            # going on with a new one would give confusing outcomes. It ends here; the next test connects.
            where = endpoint.where if endpoint is not None else "the endpoint"
            self._drop(f"{where} went away")
            raise RuntimeError(f"{self.name}: {where} went away during this test ({self._lost}); the next "
                               "test connects again")
        if endpoint is not None:
            endpoint.kill()
        # The first loss waits the whole retry time for the endpoint to come back; once it has not, each
        # later test tries once more briefly, so a run against a machine that is gone ends in minutes.
        window = DOWN_RETRY if self._down else self.retry
        deadline = time.monotonic() + window
        while True:
            try:
                endpoint = self._connect()
                break
            except (OSError, EndpointGone, EndpointTimeout) as error:
                if time.monotonic() >= deadline:
                    self._down = True
                    raise RuntimeError(f"{self.name}: cannot reach the endpoint ({error}); tried for "
                                       f"{window:g} s") from None
                time.sleep(0.5)
        self._endpoint = endpoint
        self._down = False
        self.connections += 1
        return endpoint

    def _drop(self, why: str) -> None:
        self._lost = why
        if self._endpoint is not None:
            self._endpoint.kill()
            self._endpoint = None

    def _command(self, command: Callable[[Endpoint], T]) -> T:
        try:
            return command(self._live())
        except (EndpointGone, EndpointTimeout) as error:
            self._drop(str(error))
            raise RuntimeError(f"{self.name}: {error}; the next test connects again") from None
        except Refused as error:
            raise RuntimeError(f"{self.name}: the endpoint refused {error.command!r}: {error.reason}") from None

    def next_test(self) -> None:
        """A test begins: a connection that was lost is made again now (RecoversBetweenTests); from here a
        connection lost during the test ends the test rather than being made again silently."""
        self._in_test = False
        self._lost = ""
        if self._endpoint is None or not self._endpoint.alive():
            self._live()
        self._in_test = True

    def endpoint_info(self) -> EndpointInfo:
        endpoint = self._live()
        return endpoint.info if endpoint.info is not None else endpoint.hello()

    # -- the contract ----------------------------------------------------------------------------------
    def info(self) -> Info:
        if self._info is None:
            fields = dict(self.endpoint_info().fields)
            details = {k.removeprefix("detail."): v for k, v in fields.items() if k.startswith("detail.")}
            details.update({"transport": self.transport, "endpoint": self._live().where})
            if "windows" in fields:
                details["windows"] = fields["windows"]
            self._info = Info(name=self.name, version=fields.get("version", "unknown"),
                              platform=fields.get("platform") or f"{fields.get('name', 'unknown')} "
                                                                 f"{fields.get('version', '')}".strip(),
                              architecture=fields.get("arch", "x86_64"), kernel_mode=fields.get("kernel") == "1",
                              kernel_in_process=fields.get("kernel") == "process",
                              details={"implementation": fields.get("name", "unknown"), **details})
        return self._info

    def resolve(self, module: str | None, symbol: str) -> Export | None:
        found = self._command(lambda endpoint: endpoint.resolve(module, symbol))
        if found is None:
            return None
        self._names[found.address] = symbol
        return Export(found.address, found.stub)

    def resolve_inline(self, inline: "Inline") -> Export | None:
        """`resolve inline <name>`: the endpoint's copy of the headers' inline definition (an agent in front
        of the wine adapter or the model has one); an endpoint without says `missing`."""
        return self.resolve(INLINE_MODULE, inline.name)

    def alloc(self, size: int) -> int:
        return self._command(lambda endpoint: endpoint.alloc(size))

    def write(self, address: int, data: bytes) -> None:
        try:
            self._command(lambda endpoint: endpoint.write(address, data))
        except MemoryFault as fault:
            raise RemoteMemoryFault(f"writing {len(data)} bytes at 0x{address:X} faulted ({fault.answer})") from None

    def read(self, address: int, size: int) -> bytes:
        try:
            return self._command(lambda endpoint: endpoint.read(address, size))
        except MemoryFault as fault:
            raise RemoteMemoryFault(f"reading {size} bytes at 0x{address:X} faulted ({fault.answer})") from None

    def free(self, address: int) -> None:
        if self._endpoint is not None:
            self._command(lambda endpoint: endpoint.free(address))

    def last_error_sentinel(self) -> int:
        """The endpoint sets one before each call (the protocol's `ret <value> -`)."""
        return LAST_ERROR_SENTINEL

    def call(self, address: int, args: list[int], timeout: float | None = None) -> CallResult:
        if len(args) > MAX_ARGS:
            raise ValueError(f"a call passes at most {MAX_ARGS} arguments, not {len(args)}")
        endpoint = self._live()
        limited = endpoint.info is not None and endpoint.info.fields.get("limit") == "1"
        started = time.monotonic()
        try:
            if limited:  # the endpoint bounds the call; the client waits a little longer for its answer
                answer = endpoint.call(address, args, None if timeout is None else timeout + 30.0, limit=timeout)
            else:
                answer = endpoint.call(address, args, timeout)
        except EndpointTimeout as error:
            self._drop(str(error))
            return CallResult(timed_out=True, diagnostics=tuple(error.diagnostics),
                              duration=time.monotonic() - started)
        except EndpointGone as error:
            self._drop(str(error))
            note = f"{self.name}: {error} during the call; the next test connects again"
            return CallResult(fault=Fault(0, address), diagnostics=(*error.diagnostics, note),
                              duration=time.monotonic() - started)
        except (Refused, UnexpectedAnswer) as error:
            raise RuntimeError(f"{self.name}: unexpected answer to a call: {error.answer!r}") from None
        duration = time.monotonic() - started
        if answer.timed_out:
            return CallResult(timed_out=True, diagnostics=tuple(answer.diagnostics), duration=duration)
        if answer.fault is not None:
            notes = (f"{self.name}: unimplemented function {answer.fault.where}",) if answer.fault.where else ()
            return CallResult(fault=Fault(answer.fault.code, answer.fault.address),
                              diagnostics=(*answer.diagnostics, *notes), duration=duration)
        stub = answer.stub or stub_note(self._names.get(address), answer.diagnostics)
        return CallResult(value=answer.value, diagnostics=tuple(answer.diagnostics), duration=duration,
                          stub=stub, last_error=answer.last_error)

    def close(self) -> None:
        if self._endpoint is not None:
            self._endpoint.stop()
            self._endpoint = None
