"""Heaps, as the heapapi pages describe them: the process heap, private heaps, and their blocks.

A heap is a handle (the process heap's never goes away) and the set of
blocks allocated from it in the model's address space. The pages say the
allocation functions do not call SetLastError when they fail ("If the
function fails, it does not call SetLastError"): HeapAlloc, HeapReAlloc and
HeapSize fail by their value alone. HeapFree, HeapDestroy, HeapLock and
HeapUnlock fail with ERROR_INVALID_HANDLE for a handle that is no heap, and
HeapFree with ERROR_INVALID_PARAMETER for a block the heap did not give.
Freeing NULL frees nothing and succeeds, as the C runtime's free does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .core import export
from .kernel32 import ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, FALSE, KERNEL32, TRUE, Kernel32Functions

PROCESS_HEAP = 0x0000_0000_0060_0000
HEAP_STEP = 0x10000
SIZE_T_FAILED = 0xFFFF_FFFF_FFFF_FFFF  # (SIZE_T)-1
HEAP_ZERO_MEMORY = 0x8
HEAP_REALLOC_IN_PLACE_ONLY = 0x10


@dataclass
class Heap:
    blocks: set[int] = field(default_factory=set)
    locked: int = 0


class HeapFunctions(Kernel32Functions):
    """The heapapi exports; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.heaps: dict[int, Heap] = {PROCESS_HEAP: Heap()}
        self._next_heap = PROCESS_HEAP

    def _heap(self, hHeap: int, set_error: bool = True) -> Heap | None:
        heap = self.heaps.get(hHeap)
        if heap is None:
            self.diag(f"0x{hHeap:X} is not a heap handle")
            if set_error:
                self.set_last_error(ERROR_INVALID_HANDLE)
        return heap

    @export(*KERNEL32)
    def GetProcessHeap(self) -> int:
        return PROCESS_HEAP

    @export(*KERNEL32)
    def HeapCreate(self, flOptions: int, dwInitialSize: int, dwMaximumSize: int) -> int:
        self._next_heap += HEAP_STEP
        self.heaps[self._next_heap] = Heap()
        return self._next_heap

    @export(*KERNEL32)
    def HeapDestroy(self, hHeap: int) -> int:
        heap = self._heap(hHeap)
        if heap is None or hHeap == PROCESS_HEAP:  # "Do not use HeapDestroy to destroy the process heap"
            if heap is not None:
                self.set_last_error(ERROR_INVALID_HANDLE)
            return FALSE
        for block in heap.blocks:
            self.memory.free(block)
        del self.heaps[hHeap]
        return TRUE

    @export(*KERNEL32)
    def HeapAlloc(self, hHeap: int, dwFlags: int, dwBytes: int) -> int:
        heap = self._heap(hHeap, set_error=False)  # "it does not call SetLastError"
        if heap is None:
            return 0
        try:
            block = self.memory.alloc(dwBytes & 0xFFFF_FFFF_FFFF_FFFF)
        except MemoryError:
            return 0
        heap.blocks.add(block)
        return block

    @export(*KERNEL32)
    def HeapReAlloc(self, hHeap: int, dwFlags: int, lpMem: int, dwBytes: int) -> int:
        heap = self._heap(hHeap, set_error=False)
        if heap is None or lpMem not in heap.blocks or dwFlags & HEAP_REALLOC_IN_PLACE_ONLY:
            return 0
        old = self.memory.read(lpMem, self.memory.size_of(lpMem) or 0)
        try:
            block = self.memory.alloc(dwBytes & 0xFFFF_FFFF_FFFF_FFFF, old[:dwBytes])
        except MemoryError:
            return 0
        heap.blocks.discard(lpMem)
        self.memory.free(lpMem)
        heap.blocks.add(block)
        return block

    @export(*KERNEL32)
    def HeapFree(self, hHeap: int, dwFlags: int, lpMem: int) -> int:
        heap = self._heap(hHeap)
        if heap is None:
            return FALSE
        if not lpMem:
            return TRUE
        if lpMem not in heap.blocks:
            self.diag(f"0x{lpMem:X} is not a block of heap 0x{hHeap:X}")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        heap.blocks.discard(lpMem)
        self.memory.free(lpMem)
        return TRUE

    @export(*KERNEL32)
    def HeapSize(self, hHeap: int, dwFlags: int, lpMem: int) -> int:
        heap = self._heap(hHeap, set_error=False)  # "The function does not call SetLastError"
        if heap is None or lpMem not in heap.blocks:
            return SIZE_T_FAILED
        return self.memory.size_of(lpMem) or 0

    @export(*KERNEL32)
    def HeapValidate(self, hHeap: int, dwFlags: int, lpMem: int) -> int:
        heap = self._heap(hHeap, set_error=False)  # "HeapValidate does not set the thread's last error value"
        if heap is None:
            return FALSE
        return TRUE if not lpMem or lpMem in heap.blocks else FALSE

    @export(*KERNEL32)
    def HeapLock(self, hHeap: int) -> int:
        heap = self._heap(hHeap)
        if heap is None:
            return FALSE
        heap.locked += 1
        return TRUE

    @export(*KERNEL32)
    def HeapUnlock(self, hHeap: int) -> int:
        heap = self._heap(hHeap)
        if heap is None:
            return FALSE
        if not heap.locked:
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        heap.locked -= 1
        return TRUE
