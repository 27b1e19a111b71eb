"""The model's address space: sparse, strict, and never reused.

Conformance tests pass pointers into the implementation (buffers, handles
behind pointers, garbage). A real process faults when code touches memory
that is not mapped; the model must do the same, or a test that hands a
function a garbage pointer would learn nothing. So every block lives alone
between unmapped guard gaps, addresses are never handed out twice (a
use-after-free always faults instead of silently reading a newer block),
and any access that is not wholly inside one live block raises
`ModelFault` with the address a processor would report.

Besides the heap's blocks the address space holds page regions
(`pages.Region`): memory that VirtualAlloc or MapViewOfFile placed at
64 KiB-aligned addresses. An access to a region is checked page by page,
as a processor's page tables would: a page that is not committed, or whose
protection forbids the access, faults at the first byte touched, and the
first touch of a guard page raises STATUS_GUARD_PAGE_VIOLATION and clears
the guard.
"""

from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass
from typing import Iterator

from .pages import (ALLOCATION_GRANULARITY, COPY_ON_WRITE, MAX_APPLICATION_ADDRESS, MEM_PRIVATE, PAGE_GUARD,
                    PAGE_SIZE, READABLE, STATUS_GUARD_PAGE_VIOLATION, WRITABLE, PageStore, Region, granule_down,
                    granule_up, page_down, page_up)

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
#: Where regions the system places go: bottom-up from VIRTUAL_BASE, top-down (MEM_TOP_DOWN) from VIRTUAL_TOP.
VIRTUAL_BASE = 0x0000_0100_0000_0000
VIRTUAL_TOP = HEAP_BASE - ALLOCATION_GRANULARITY

MASK64 = (1 << 64) - 1



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
    """Blocks of bytes and page regions at 64-bit addresses, with a fault for every access outside them."""

    def __init__(self, base: int = HEAP_BASE, limit: int = HEAP_LIMIT) -> None:
        self._starts: list[int] = []
        self._blocks: dict[int, _Block] = {}
        self._next = base
        self._limit = limit
        self._region_starts: list[int] = []
        self._regions: dict[int, Region] = {}
        self._next_region = VIRTUAL_BASE
        self._next_top = VIRTUAL_TOP
        #: Paging-file stores of file mapping objects still alive (open handles or views keep them).
        self.stores: weakref.WeakSet[PageStore] = weakref.WeakSet()

    # -- blocks -----------------------------------------------------------------------------
    def alloc(self, size: int, data: bytes = b"") -> int:
        """A new zero-filled block of `size` bytes (optionally starting with `data`); returns its address."""
        if size < 0 or size > MAX_BLOCK:
            raise MemoryError(f"model: cannot allocate {size} bytes (limit {MAX_BLOCK})")
        start = self._next
        while (clash := self.regions_overlapping(page_down(start), page_up(start + max(size, 1)) + GUARD)):
            start = _align(clash[-1].end + GUARD)  # a region placed at a chosen address is stepped over
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

    def heap_pages_at(self, address: int) -> tuple[int, int] | None:
        """The pages [first, end) of the heap block that has bytes in the page holding `address`, if any."""
        index = bisect.bisect_right(self._starts, page_down(address) + PAGE_SIZE - 1) - 1
        if index < 0:
            return None
        block = self._blocks[self._starts[index]]
        first, end = page_down(block.start), page_up(block.end if block.data else block.start + 1)
        return (first, end) if first <= address < end else None

    # -- regions ----------------------------------------------------------------------------
    def region_at(self, address: int) -> Region | None:
        """The region whose pages hold `address`."""
        index = bisect.bisect_right(self._region_starts, address) - 1
        if index < 0:
            return None
        region = self._regions[self._region_starts[index]]
        return region if address < region.end else None

    def regions_overlapping(self, start: int, end: int) -> list[Region]:
        first = max(0, bisect.bisect_right(self._region_starts, start) - 1)
        last = bisect.bisect_left(self._region_starts, end)
        found = (self._regions[s] for s in self._region_starts[first:last])
        return [r for r in found if r.end > start and r.base < end]

    def is_free(self, start: int, end: int) -> bool:
        """Whether no region and no heap block has bytes in [start, end)."""
        if self.regions_overlapping(start, end):
            return False
        index = bisect.bisect_left(self._starts, end) - 1
        return index < 0 or self._blocks[self._starts[index]].end + GUARD <= start

    def place(self, size: int, top_down: bool = False) -> int | None:
        """A 64 KiB-aligned address with `size` free bytes that the system chooses (never one handed out before)."""
        while True:
            if top_down:
                base = granule_down(self._next_top - size)
                if base < self._next_region:
                    return None
                self._next_top = base - ALLOCATION_GRANULARITY
            else:
                base = granule_up(self._next_region)
                if base + size > self._next_top:
                    return None
                self._next_region = granule_up(base + size) + ALLOCATION_GRANULARITY
            if self.is_free(base, base + size):
                return base

    def add_region(self, region: Region) -> None:
        bisect.insort(self._region_starts, region.base)
        self._regions[region.base] = region

    def remove_region(self, region: Region) -> None:
        del self._regions[region.base]
        self._region_starts.pop(bisect.bisect_left(self._region_starts, region.base))

    def next_allocation_after(self, address: int) -> int:
        """Where the free memory at `address` ends: the next region or heap page, or the top of user space."""
        candidates = [MAX_APPLICATION_ADDRESS + 1]
        index = bisect.bisect_right(self._region_starts, address)
        if index < len(self._region_starts):
            candidates.append(self._region_starts[index])
        index = bisect.bisect_right(self._starts, address)
        if index < len(self._starts):
            candidates.append(page_down(self._starts[index]))
        return min(candidates)

    def reserved_bytes(self) -> int:
        """Address space in use: every region, and the span of the heap's blocks."""
        heap = self._next - HEAP_BASE if self._starts else 0
        return sum(r.size for r in self._regions.values()) + heap

    def commit_charge(self) -> int:
        """Bytes committed against the paging file: private pages and the paging-file mappings alive."""
        private = sum(r.committed_pages for r in self._regions.values() if r.kind == MEM_PRIVATE)
        return private * PAGE_SIZE + sum(store.charge for store in list(self.stores))

    def _check_page(self, region: Region, address: int, write: bool, probe: bool = False) -> bool:
        """Whether the page holding `address` allows the access; a fault (or False when probing) if not."""
        index = region.index(address)
        protect = region.protect[index]
        if not region.committed(index):
            problem = "a page that is not committed"
        elif protect & PAGE_GUARD:
            if probe:
                return False
            region.protect[index] = protect & ~PAGE_GUARD  # a guard page is a one-shot alarm
            raise ModelFault(address, STATUS_GUARD_PAGE_VIOLATION, "first access to a guard page")
        elif (protect & 0xFF) not in READABLE:
            problem = f"a page with protection 0x{protect:X}"
        elif write and (protect & 0xFF) not in WRITABLE and (protect & 0xFF) not in COPY_ON_WRITE:
            problem = f"a page with protection 0x{protect:X}"
        else:
            return True
        if probe:
            return False
        raise ModelFault(address, what=f"{'write' if write else 'read'} of {problem}")

    def _pieces(self, address: int, size: int, write: bool, probe: bool = False) -> list[tuple[Region, int, int]]:
        """The page-sized pieces of [address, address + size), every page checked before any is touched."""
        pieces: list[tuple[Region, int, int]] = []
        at, end = address, address + size
        while at < end:
            region = self.region_at(at)
            if region is None:
                if probe:
                    return []
                raise ModelFault(at, what=f"{size}-byte access at 0x{address:X} reaches unmapped memory")
            if not self._check_page(region, at, write, probe):
                return []
            take = min(end, page_down(at) + PAGE_SIZE) - at
            pieces.append((region, at, take))
            at += take
        return pieces

    def probe(self, address: int, size: int, write: bool = False) -> bool:
        """Whether an access would succeed, without faulting or touching a guard page (a system call's check)."""
        if self.region_at(address) is not None:
            return size == 0 or bool(self._pieces(address, size, write, probe=True))
        block = self._block_at(address)
        return block is not None and address + size <= block.end and not (size and address == block.end)

    # -- bytes ------------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        if self._regions and self.region_at(address) is not None:
            return b"".join(region.read(at, take) for region, at, take in self._pieces(address, size, False))
        block, offset = self._locate(address, size)
        return bytes(block.data[offset: offset + size])

    def write(self, address: int, data: bytes) -> None:
        if self._regions and self.region_at(address) is not None:
            done = 0
            for region, at, take in self._pieces(address, len(data), True):
                region.write(at, data[done:done + take])
                done += take
            return
        block, offset = self._locate(address, len(data))
        block.data[offset: offset + len(data)] = data

    def _chunks(self, address: int, most: int) -> Iterator[bytes]:
        """Readable bytes from `address` on, up to `most` in all; a fault where the readable memory ends first."""
        if self._regions and self.region_at(address) is not None:
            at, given = address, 0
            while given < most:
                region = self.region_at(at)
                if region is None:
                    raise ModelFault(at, what=f"string at 0x{address:X} runs into unmapped memory")
                self._check_page(region, at, write=False)
                take = min(most - given, page_down(at) + PAGE_SIZE - at)
                yield region.read(at, take)
                at, given = at + take, given + take
            return
        block, offset = self._locate(address, 0)
        chunk = bytes(block.data[offset:offset + most])
        yield chunk
        if len(chunk) < most:
            raise ModelFault(block.end, what=f"string at 0x{address:X} runs past its block unterminated")

    def _scan(self, address: int, width: int, limit: int) -> tuple[bytes, bool]:
        """The bytes before the first NUL unit (`width` is 1 or 2) within `limit` bytes, and whether a NUL ended them.

        Faults where a real strlen would: at the first byte it cannot read.
        """
        data = bytearray()
        scanned = 0
        for chunk in self._chunks(address, limit + width):
            data += chunk
            bound = min(len(data), limit)
            if width == 1:
                found = data.find(0, scanned, bound)
                if found >= 0:
                    return bytes(data[:found]), True
                scanned = bound
            while width == 2 and scanned + 1 < bound:
                if data[scanned] == 0 and data[scanned + 1] == 0:
                    return bytes(data[:scanned]), True
                scanned += 2
            if len(data) > limit:
                return bytes(data[:limit]), False
        return bytes(data[:limit]), False

    def read_terminated(self, address: int, width: int = 1, limit: int = MAX_BLOCK) -> bytes:
        """The raw units of a NUL-terminated string (without the NUL), `width` bytes a unit."""
        return self._scan(address, width, limit)[0]

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

    def read_wstr(self, address: int, max_chars: int = 32767) -> str:
        """A NUL-terminated UTF-16 string, faulting where a real wcslen would: at the end of its block."""
        return self._scan(address, 2, 2 * max_chars)[0].decode("utf-16-le", errors="replace")

    def read_astr(self, address: int, max_chars: int = 4096) -> str:
        """A NUL-terminated single-byte string (GetProcAddress's names), faulting where a real strlen would."""
        return self._scan(address, 1, max_chars)[0].decode("latin-1")

    def read_counted_wstr(self, address: int, length_bytes: int) -> str:
        """`length_bytes` of UTF-16 at `address` (a UNICODE_STRING's Buffer, not NUL-terminated)."""
        return self.read(address, length_bytes & ~1).decode("utf-16-le", errors="replace")
