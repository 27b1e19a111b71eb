"""A minimal specproof adapter, packaged on its own: memory works, no function is exported.

Every conformance test run against it is `not-implemented`, which is what a
new implementation looks like on its first day.
"""

from __future__ import annotations

from specproof.adapter import Availability, CallResult, Export, Fault, Info
from specproof.adapter.contract import ACCESS_VIOLATION


class ExampleAdapter:
    def __init__(self, **options: str) -> None:
        self._memory: dict[int, bytearray] = {}
        self._next = 0x10000

    @staticmethod
    def availability() -> Availability:
        return Availability(True)

    def info(self) -> Info:
        return Info(name="example", version="0.1.0", platform="nowhere", kernel_mode=False)

    def resolve(self, module: str | None, symbol: str) -> Export | None:
        return None

    def alloc(self, size: int) -> int:
        address, self._next = self._next, self._next + ((size + 15) // 16 + 1) * 16
        self._memory[address] = bytearray(size)
        return address

    def write(self, address: int, data: bytes) -> None:
        self._memory[address][: len(data)] = data

    def read(self, address: int, size: int) -> bytes:
        return bytes(self._memory[address][:size])

    def free(self, address: int) -> None:
        self._memory.pop(address, None)

    def call(self, address: int, args: list[int], timeout: float) -> CallResult:
        return CallResult(fault=Fault(ACCESS_VIOLATION, address))

    def close(self) -> None:
        self._memory.clear()
