"""The model's address space: sparse, strict, and never reused.

Conformance tests pass pointers into the implementation (buffers, handles
behind pointers, garbage). A real process faults when code touches memory
that is not mapped; the model must do the same, or a test that hands a
function a garbage pointer would learn nothing. So every block lives alone
between unmapped guard gaps, addresses are never handed out twice (a
use-after-free always faults instead of silently reading a newer block),
and any access that is not wholly inside one live block raises
`ModelFault` with the address a processor would report.
"""

from __future__ import annotations

import bisect
import ctypes
from dataclasses import dataclass
from typing import TypeVar

#: STATUS_ACCESS_VIOLATION, the exception code of a bad memory access.
ACCESS_VIOLATION = 0xC0000005

#: Where the first block goes: high, so that small integers (and NULL) never look like model pointers.
HEAP_BASE = 0x0000_0200_0000_0000
#: The heap must stay below this address; `CODE_BASE` and above belong to fake exports.
HEAP_LIMIT = 0x0000_7FF0_0000_0000
#: Unmapped bytes between two blocks, so that running off the end of one never lands in the next.
GUARD = 0x1000
#: Block alignment, as a Windows x64 heap gives it.
ALIGN = 16
#: The largest single block, to keep a garbage size from eating the host's memory.
MAX_BLOCK = 256 * 1024 * 1024

MASK64 = (1 << 64) - 1

S = TypeVar("S", bound=ctypes.Structure)


class ModelFault(Exception):
    """The model touched memory it must not: the call ends as a fault (exception code and address)."""

    def __init__(self, address: int, code: int = ACCESS_VIOLATION, what: str = "") -> None:
        self.address = address & MASK64
        self.code = code
        text = f"exception 0x{code:08X} at 0x{self.address:X}"
        super().__init__(f"{text}: {what}" if what else text)


@dataclass
class _Block:
    start: int
    data: bytearray

    @property
    def end(self) -> int:
        return self.start + len(self.data)


def _align(value: int, to: int = ALIGN) -> int:
    return (value + to - 1) & ~(to - 1)


class AddressSpace:
    """Blocks of bytes at 64-bit addresses, with a fault for every access outside a live block."""

    def __init__(self, base: int = HEAP_BASE, limit: int = HEAP_LIMIT) -> None:
        self._starts: list[int] = []
        self._blocks: dict[int, _Block] = {}
        self._next = base
        self._limit = limit

    # -- blocks -----------------------------------------------------------------------------
    def alloc(self, size: int, data: bytes = b"") -> int:
        """A new zero-filled block of `size` bytes (optionally starting with `data`); returns its address."""
        if size < 0 or size > MAX_BLOCK:
            raise MemoryError(f"model: cannot allocate {size} bytes (limit {MAX_BLOCK})")
        start = self._next
        if start + size > self._limit:
            raise MemoryError("model: address space exhausted")
        block = _Block(start, bytearray(size))
        block.data[: len(data)] = data[:size]
        self._next = _align(start + max(size, 1)) + GUARD
        bisect.insort(self._starts, start)
        self._blocks[start] = block
        return start

    def free(self, address: int) -> None:
        """Release the block that starts at `address`; anything else (inside a block, freed, NULL) faults."""
        block = self._blocks.get(address)
        if block is None:
            raise ModelFault(address, what="free of an address that does not start a live block")
        del self._blocks[address]
        self._starts.pop(bisect.bisect_left(self._starts, address))

    def owns(self, address: int) -> bool:
        """Whether `address` starts a live block."""
        return address in self._blocks

    def size_of(self, address: int) -> int | None:
        block = self._blocks.get(address)
        return None if block is None else len(block.data)

    def live_blocks(self) -> int:
        return len(self._blocks)

    def _block_at(self, address: int) -> _Block | None:
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0:
            return None
        block = self._blocks[self._starts[index]]
        return block if address <= block.end else None

    def _locate(self, address: int, size: int) -> tuple[_Block, int]:
        """The block holding [address, address + size) and the offset in it, or a fault at the first bad byte."""
        if size < 0:
            raise ValueError("negative size")
        block = self._block_at(address)
        if block is None or (size and address == block.end):
            raise ModelFault(address, what=f"{size}-byte access to unmapped memory")
        if address + size > block.end:
            raise ModelFault(block.end, what=f"{size}-byte access at 0x{address:X} runs past its block")
        return block, address - block.start

    # -- bytes ------------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        block, offset = self._locate(address, size)
        return bytes(block.data[offset: offset + size])

    def write(self, address: int, data: bytes) -> None:
        block, offset = self._locate(address, len(data))
        block.data[offset: offset + len(data)] = data

    # -- typed helpers ----------------------------------------------------------------------
    def read_u16(self, address: int) -> int:
        return int.from_bytes(self.read(address, 2), "little")

    def read_u32(self, address: int) -> int:
        return int.from_bytes(self.read(address, 4), "little")

    def read_u64(self, address: int) -> int:
        return int.from_bytes(self.read(address, 8), "little")

    def write_u32(self, address: int, value: int) -> None:
        self.write(address, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def write_u64(self, address: int, value: int) -> None:
        self.write(address, (value & MASK64).to_bytes(8, "little"))

    def read_struct(self, address: int, layout: type[S]) -> S:
        """A copy of the structure at `address` (a ctypes layout, as in specproof.adapter.layouts)."""
        return layout.from_buffer_copy(self.read(address, ctypes.sizeof(layout)))

    def write_struct(self, address: int, value: ctypes.Structure) -> None:
        self.write(address, bytes(value))

    def read_wstr(self, address: int, max_chars: int = 32767) -> str:
        """A NUL-terminated UTF-16 string, faulting where a real wcslen would: at the end of its block."""
        block, offset = self._locate(address, 0)
        data = block.data
        limit = min(len(data), offset + 2 * max_chars)
        end = offset
        while end + 1 < limit:
            if data[end] == 0 and data[end + 1] == 0:
                return bytes(data[offset:end]).decode("utf-16-le", errors="replace")
            end += 2
        if limit < len(data):
            return bytes(data[offset:limit]).decode("utf-16-le", errors="replace")
        raise ModelFault(block.end, what=f"string at 0x{address:X} runs past its block unterminated")

    def read_astr(self, address: int, max_chars: int = 4096) -> str:
        """A NUL-terminated single-byte string (GetProcAddress's names), faulting where a real strlen would."""
        block, offset = self._locate(address, 0)
        data = block.data
        end = data.find(0, offset, min(len(data), offset + max_chars))
        if end < 0:
            if offset + max_chars < len(data):
                return bytes(data[offset:offset + max_chars]).decode("latin-1")
            raise ModelFault(block.end, what=f"string at 0x{address:X} runs past its block unterminated")
        return bytes(data[offset:end]).decode("latin-1")

    def read_counted_wstr(self, address: int, length_bytes: int) -> str:
        """`length_bytes` of UTF-16 at `address` (a UNICODE_STRING's Buffer, not NUL-terminated)."""
        return self.read(address, length_bytes & ~1).decode("utf-16-le", errors="replace")
