"""Virtual memory, as the memoryapi pages describe it: reserving, committing, protecting, querying and locking pages.

VirtualAlloc reserves regions on the 64 KiB allocation granularity and
commits 4 KiB pages in them; committed memory reads as zero until written
("Memory allocated by this function is automatically initialized to zero")
and is read and written through the model's address space, which faults on
pages that are reserved, freed or protected against the access. The
function family fails the Win32 way (FALSE or NULL and a last error): an
argument out of range gives ERROR_INVALID_PARAMETER, an address range in
the wrong state ERROR_INVALID_ADDRESS, as the system's error mapping of the
memory manager's statuses does. The heap's blocks are committed
read/write memory to VirtualQuery and VirtualLock, but their protection is
the heap's: VirtualProtect changes only pages VirtualAlloc or
MapViewOfFile made. The file mapping functions and the state they share
(the commit charge, the locked pages) are in `mapping.py`.
"""

from __future__ import annotations

from specproof.adapter.structs import layout

from .core import export
from .kernel32 import ERROR_INVALID_PARAMETER, ERROR_NOACCESS, KERNEL32, TRUE
from .mapping import (ERROR_ACCESS_DENIED, ERROR_COMMITMENT_LIMIT, ERROR_INVALID_ADDRESS, ERROR_NOT_ENOUGH_MEMORY,
                      ERROR_PRIVILEGE_NOT_HELD, MAX_REGION, FileMappingFunctions)
from .memory import HEAP_LIMIT
from .pages import (BASE_PROTECTIONS, COPY_ON_WRITE, MAX_APPLICATION_ADDRESS, MEM_COMMIT, MEM_FREE, MEM_MAPPED,
                    MEM_PRIVATE, MEM_RESERVE, MIN_APPLICATION_ADDRESS, PAGE_EXECUTE, PAGE_EXECUTE_READ,
                    PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD, PAGE_NOACCESS, PAGE_NOCACHE,
                    PAGE_READONLY, PAGE_READWRITE, PAGE_SIZE, PAGE_TARGETS_INVALID, PAGE_WRITECOMBINE, PAGE_WRITECOPY,
                    PageStore, Region, granule_down, page_down, page_up)

MEM_DECOMMIT = 0x4000
MEM_RELEASE = 0x8000
MEM_RESET = 0x80000
MEM_TOP_DOWN = 0x100000
MEM_WRITE_WATCH = 0x200000
MEM_PHYSICAL = 0x400000
MEM_RESET_UNDO = 0x1000000
MEM_LARGE_PAGES = 0x20000000
ALLOCATION_TYPES = (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO | MEM_LARGE_PAGES | MEM_PHYSICAL
                    | MEM_TOP_DOWN | MEM_WRITE_WATCH)
ERROR_WORKING_SET_QUOTA = 1453
ERROR_NOT_LOCKED = 158
#: VirtualLock: "The maximum number of pages that a process can lock is equal to the number of pages in its
#: minimum working set minus a small overhead" (a 200 KiB minimum working set, 8 pages of overhead).
LOCKABLE_PAGES = 50 - 8

#: What each protection lets a view's pages do (read, write, copy-on-write, execute), to tell whether a
#: protection is "compatible with the access protection specified when the view was mapped".
_R, _W, _C, _X = 1, 2, 4, 8
_RIGHTS = {PAGE_READONLY: _R, PAGE_WRITECOPY: _R, PAGE_READWRITE: _R | _W, PAGE_EXECUTE: _R | _X,
           PAGE_EXECUTE_READ: _R | _X, PAGE_EXECUTE_WRITECOPY: _R | _C | _X,
           PAGE_EXECUTE_READWRITE: _R | _W | _C | _X}


def protection_ok(protect: int, copy_on_write: bool) -> bool:
    """Whether `protect` is one memory protection constant, with modifiers the constants allow."""
    base, modifiers = protect & 0xFF, protect & ~0xFF
    if base not in BASE_PROTECTIONS or modifiers & ~(PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE
                                                     | PAGE_TARGETS_INVALID):
        return False
    if base in COPY_ON_WRITE and not copy_on_write:
        return False  # the copy-on-write protections are for mapped views only
    if modifiers & PAGE_NOCACHE and modifiers & PAGE_WRITECOMBINE:
        return False
    return not (base == PAGE_NOACCESS and modifiers & (PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE))


def compatible_with_view(view: Region, protect: int) -> bool:
    """Whether a view's pages may take `protect`: no right its view or its mapping object lacks."""
    wanted, held = _RIGHTS.get(protect & 0xFF, 0), _RIGHTS.get(view.allocation_protect, 0)
    if wanted == held:
        return True
    return bool(held) and wanted & held == wanted and wanted & _RIGHTS.get(view.mapping_protect, 0) == wanted


class VirtualMemoryFunctions(FileMappingFunctions):
    """The memoryapi exports; methods are named exactly like the functions they model."""

    def _page_span(self, address: int, size: int) -> tuple[int, int]:
        """The pages holding one or more bytes of [address, address + size); at least the page at address."""
        return page_down(address), max(page_up(address + size), page_down(address) + PAGE_SIZE)

    def _region_span(self, first: int, end: int) -> Region | None:
        region = self.memory.region_at(first)
        return region if region is not None and end <= region.end else None

    @export(*KERNEL32)
    def VirtualAlloc(self, lpAddress: int, dwSize: int, flAllocationType: int, flProtect: int) -> int:
        kind, protect = flAllocationType & 0xFFFFFFFF, flProtect & 0xFFFFFFFF
        if not dwSize:
            return self._memory_fail(ERROR_INVALID_PARAMETER, "dwSize is 0")
        if kind & ~ALLOCATION_TYPES or not kind & (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO):
            # "This parameter must contain one of the following values."
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"flAllocationType 0x{kind:X} has unknown bits or "
                                                              f"none of MEM_COMMIT, MEM_RESERVE, MEM_RESET(_UNDO)")
        if kind & (MEM_RESET | MEM_RESET_UNDO) and kind not in (MEM_RESET, MEM_RESET_UNDO):
            return self._memory_fail(ERROR_INVALID_PARAMETER,
                                     "MEM_RESET and MEM_RESET_UNDO cannot be used with any other value")
        if (kind & MEM_LARGE_PAGES and kind & (MEM_RESERVE | MEM_COMMIT) != MEM_RESERVE | MEM_COMMIT) or \
                (kind & MEM_PHYSICAL and kind & ~MEM_TOP_DOWN != MEM_RESERVE | MEM_PHYSICAL) or \
                (kind & MEM_WRITE_WATCH and not kind & MEM_RESERVE):
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"flAllocationType 0x{kind:X} combines values the page "
                                                              f"does not allow together")
        if not protection_ok(protect, copy_on_write=False):  # "you must still set flProtect to a valid value"
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"flProtect 0x{protect:X} is no valid protection")
        if kind & MEM_PHYSICAL and protect != PAGE_READWRITE:  # "The page protection must be set to PAGE_READWRITE"
            return self._memory_fail(ERROR_INVALID_PARAMETER, "an AWE region is PAGE_READWRITE")
        if kind & MEM_LARGE_PAGES:
            return self._memory_fail(ERROR_PRIVILEGE_NOT_HELD, "large pages need SeLockMemoryPrivilege")
        if dwSize > MAX_APPLICATION_ADDRESS + 1 - MIN_APPLICATION_ADDRESS or (lpAddress and not (
                MIN_APPLICATION_ADDRESS <= lpAddress and lpAddress + dwSize - 1 <= MAX_APPLICATION_ADDRESS)):
            return self._memory_fail(ERROR_INVALID_PARAMETER, "the range is not in the process's address space")
        if kind & (MEM_RESET | MEM_RESET_UNDO):
            return self._reset_pages(lpAddress, dwSize)
        if kind & MEM_RESERVE or not lpAddress:  # MEM_COMMIT alone with a NULL address reserves and commits
            return self._reserve_region(lpAddress, dwSize, kind, protect)
        return self._commit_pages(lpAddress, dwSize, protect)

    def _reserve_region(self, lpAddress: int, dwSize: int, kind: int, protect: int) -> int:
        if lpAddress:  # "rounded down to the nearest multiple of the allocation granularity"
            base, end = granule_down(lpAddress), page_up(lpAddress + dwSize)
            if end > HEAP_LIMIT:
                return self._memory_fail(ERROR_INVALID_ADDRESS, "the model's exports occupy the top of user space")
            if not self.memory.is_free(base, end):  # "VirtualAlloc cannot reserve a reserved page"
                return self._memory_fail(ERROR_INVALID_ADDRESS, f"[0x{base:X}, 0x{end:X}) is not free")
        else:
            base, end = 0, page_up(dwSize)  # "this value is rounded up to the next page boundary"
        if end - base > MAX_REGION:
            return self._memory_fail(ERROR_NOT_ENOUGH_MEMORY, f"the model reserves at most {MAX_REGION} bytes at once")
        if kind & MEM_COMMIT and not self._commit_fits(end - base):
            return self._memory_fail(ERROR_COMMITMENT_LIMIT, "the paging file cannot back this much committed memory")
        if not lpAddress:
            placed = self.memory.place(end, top_down=bool(kind & MEM_TOP_DOWN))
            if placed is None:
                return self._memory_fail(ERROR_NOT_ENOUGH_MEMORY, "no free range is large enough")
            base, end = placed, placed + end
        region = Region(base, end - base, MEM_PRIVATE, protect, PageStore(end - base),
                        protect=protect if kind & MEM_COMMIT else 0)
        self.memory.add_region(region)
        return base

    def _commit_pages(self, lpAddress: int, dwSize: int, protect: int) -> int:
        first, end = self._page_span(lpAddress, dwSize)
        region = self._region_span(first, end)
        if region is None:  # "fails unless the entire range has already been reserved"
            return self._memory_fail(ERROR_INVALID_ADDRESS, f"[0x{first:X}, 0x{end:X}) is not all in one reservation")
        pages = range(region.index(first), region.index(end - 1) + 1)
        if region.kind == MEM_MAPPED:
            if region.file_backed or region.store.commit_map is None:
                return self._memory_fail(ERROR_ACCESS_DENIED, "the view's pages are committed by its mapping object")
            if not compatible_with_view(region, protect):
                return self._memory_fail(ERROR_INVALID_PARAMETER, "the protection is not compatible with the view")
            fresh = sum(1 for i in pages if not region.committed(i))
            if not self._commit_fits(fresh * PAGE_SIZE):
                return self._memory_fail(ERROR_COMMITMENT_LIMIT, "the paging file cannot back this much memory")
            region.store.commit(region.offset // PAGE_SIZE + pages.start, len(pages))
        else:
            fresh = sum(1 for i in pages if not region.protect[i])
            if not self._commit_fits(fresh * PAGE_SIZE):
                return self._memory_fail(ERROR_COMMITMENT_LIMIT, "the paging file cannot back this much memory")
            region.committed_pages += fresh  # "An attempt to commit a page that is already committed does not fail"
        for i in pages:
            region.protect[i] = protect
        return first

    def _reset_pages(self, lpAddress: int, dwSize: int) -> int:
        """MEM_RESET and MEM_RESET_UNDO: the data stays (the page does not promise zeros), the pages stay committed."""
        first, end = self._page_span(lpAddress, dwSize)
        region = self._region_span(first, end)
        pages = range(region.index(first), region.index(end - 1) + 1) if region is not None else range(0)
        if region is None or not all(region.committed(i) for i in pages):
            return self._memory_fail(ERROR_INVALID_ADDRESS, f"[0x{first:X}, 0x{end:X}) is not all committed")
        if region.file_backed:  # "VirtualAlloc returns an error if you use MEM_RESET and ... mapped to a file"
            return self._memory_fail(ERROR_INVALID_PARAMETER, "the range is mapped to a file")
        return first

    @export(*KERNEL32)
    def VirtualFree(self, lpAddress: int, dwSize: int, dwFreeType: int) -> int:
        kind = dwFreeType & 0xFFFFFFFF
        if kind not in (MEM_DECOMMIT, MEM_RELEASE):  # one of them; "Do not use this value with MEM_DECOMMIT"
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"dwFreeType 0x{kind:X} is not MEM_DECOMMIT or "
                                                              f"MEM_RELEASE")
        if kind == MEM_RELEASE and dwSize:  # "If you specify this value, dwSize must be 0 (zero)"
            return self._memory_fail(ERROR_INVALID_PARAMETER, "MEM_RELEASE needs dwSize 0")
        if not MIN_APPLICATION_ADDRESS <= lpAddress <= MAX_APPLICATION_ADDRESS:
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"0x{lpAddress:X} is not in the process's address space")
        region = self.memory.region_at(lpAddress)
        if region is None:
            return self._memory_fail(ERROR_INVALID_ADDRESS, f"0x{lpAddress:X} is not in memory VirtualAlloc allocated")
        if region.kind == MEM_MAPPED:  # "it cannot be freed or decommitted by calling VirtualFree"
            return self._memory_fail(ERROR_INVALID_PARAMETER, "a mapped view is unmapped with UnmapViewOfFile")
        if kind == MEM_RELEASE:
            if lpAddress != region.base:  # "lpAddress must point to the base address returned by VirtualAlloc"
                return self._memory_fail(ERROR_INVALID_ADDRESS, f"0x{lpAddress:X} is not the region's base "
                                                                f"0x{region.base:X}")
            self.memory.remove_region(region)
            self._forget_locks(region.base, region.end)
            return TRUE
        first, end = (page_down(lpAddress), region.end) if not dwSize else self._page_span(lpAddress, dwSize)
        if end > region.end:
            return self._memory_fail(ERROR_INVALID_PARAMETER, "the range runs past the region VirtualAlloc allocated")
        pages = range(region.index(first), region.index(end - 1) + 1)
        region.committed_pages -= sum(1 for i in pages if region.protect[i])
        for i in pages:  # "The function does not fail if you attempt to decommit an uncommitted page"
            region.protect[i] = 0
        region.store.discard(pages.start, len(pages))
        self._forget_locks(first, end)
        return TRUE

    @export(*KERNEL32)
    def VirtualProtect(self, lpAddress: int, dwSize: int, flNewProtect: int, lpflOldProtect: int) -> int:
        protect = flNewProtect & 0xFFFFFFFF
        if not self.memory.probe(lpflOldProtect, 4, write=True):
            # "If this parameter is NULL or does not point to a valid variable, the function fails."
            return self._memory_fail(ERROR_NOACCESS, "lpflOldProtect is not a variable the system can write")
        if not protection_ok(protect, copy_on_write=True):
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"flNewProtect 0x{protect:X} is no valid protection")
        if not MIN_APPLICATION_ADDRESS <= lpAddress <= MAX_APPLICATION_ADDRESS:
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"0x{lpAddress:X} is not in the process's address space")
        first, end = self._page_span(lpAddress, dwSize)
        region = self._region_span(first, end)
        if region is None:  # "The pages cannot span adjacent reserved regions"
            return self._memory_fail(ERROR_INVALID_ADDRESS, f"[0x{first:X}, 0x{end:X}) is not in one reserved region")
        pages = range(region.index(first), region.index(end - 1) + 1)
        if not all(region.committed(i) for i in pages):
            # "If the state of any page in the specified region is not committed, the function fails"
            return self._memory_fail(ERROR_INVALID_ADDRESS, "the range has pages that are not committed")
        if region.kind == MEM_PRIVATE and protect & 0xFF in COPY_ON_WRITE:
            return self._memory_fail(ERROR_INVALID_PARAMETER, "copy-on-write protections are for mapped views")
        if region.kind == MEM_MAPPED and not compatible_with_view(region, protect):
            return self._memory_fail(ERROR_INVALID_PARAMETER, "the protection is not compatible with the view's access")
        self.memory.write_u32(lpflOldProtect, region.protect[pages.start])  # "of the first page in the region"
        for i in pages:
            region.protect[i] = protect
        return TRUE

    def _basic_information(self, address: int) -> dict[str, int]:
        """MEMORY_BASIC_INFORMATION for the run of pages from `address` that share state and protection."""
        base = page_down(address)
        region = self.memory.region_at(base)
        if region is not None:
            first = region.index(base)
            state, protect = region.state(first)
            last = first + 1
            while last < len(region.protect) and region.state(last) == (state, protect):
                last += 1
            return dict(BaseAddress=base, AllocationBase=region.base, AllocationProtect=region.allocation_protect,
                        RegionSize=(last - first) * PAGE_SIZE, State=state, Protect=protect, Type=region.kind)
        heap = self.memory.heap_pages_at(base)
        if heap is not None:  # the heap's blocks are committed read/write memory
            return dict(BaseAddress=base, AllocationBase=heap[0], AllocationProtect=PAGE_READWRITE,
                        RegionSize=heap[1] - base, State=MEM_COMMIT, Protect=PAGE_READWRITE, Type=MEM_PRIVATE)
        return dict(BaseAddress=base, AllocationBase=0, AllocationProtect=0, State=MEM_FREE, Protect=PAGE_NOACCESS,
                    RegionSize=self.memory.next_allocation_after(base) - base, Type=0)

    @export(*KERNEL32)
    def VirtualQuery(self, lpAddress: int, lpBuffer: int, dwLength: int) -> int:
        """Fills MEMORY_BASIC_INFORMATION; returns "the actual number of bytes returned in the information buffer"."""
        info = layout("MEMORY_BASIC_INFORMATION")
        if lpAddress > MAX_APPLICATION_ADDRESS:
            # "If lpAddress specifies an address above the highest memory address accessible to the process,
            # the function fails with ERROR_INVALID_PARAMETER."
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"0x{lpAddress:X} is above the highest user address")
        if dwLength < info.size:
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"dwLength {dwLength} is less than the structure's "
                                                              f"{info.size} bytes")
        if not self.memory.probe(lpBuffer, info.size, write=True):
            return self._memory_fail(ERROR_NOACCESS, "lpBuffer is not memory the system can write")
        self.memory.write(lpBuffer, info.pack(**self._basic_information(lpAddress)))
        return info.size

    @export(*KERNEL32)
    def VirtualLock(self, lpAddress: int, dwSize: int) -> int:
        if not MIN_APPLICATION_ADDRESS <= lpAddress <= MAX_APPLICATION_ADDRESS:
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"0x{lpAddress:X} is not in the process's address space")
        first, end = self._page_span(lpAddress, dwSize)
        wanted = range(first, end, PAGE_SIZE)
        if len(wanted) > LOCKABLE_PAGES:
            return self._memory_fail(ERROR_WORKING_SET_QUOTA, f"a process can lock at most {LOCKABLE_PAGES} pages")
        for page in wanted:
            region = self.memory.region_at(page)
            if region is None:
                heap = self.memory.heap_pages_at(page)
                if heap is None:
                    return self._memory_fail(ERROR_NOACCESS, f"page 0x{page:X} is not committed")
                continue
            state, protect = region.state(region.index(page))
            if state != MEM_COMMIT or protect & 0xFF == PAGE_NOACCESS:
                # "All pages in the specified region must be committed. Memory protected with PAGE_NOACCESS
                # cannot be locked."
                return self._memory_fail(ERROR_NOACCESS, f"page 0x{page:X} is not committed or is PAGE_NOACCESS")
        fresh = [page for page in wanted if page not in self.locked_pages]
        if len(self.locked_pages) + len(fresh) > LOCKABLE_PAGES:
            return self._memory_fail(ERROR_WORKING_SET_QUOTA, f"a process can lock at most {LOCKABLE_PAGES} pages")
        self.locked_pages.update(fresh)  # "There is no lock count for virtual pages"
        return TRUE

    @export(*KERNEL32)
    def VirtualUnlock(self, lpAddress: int, dwSize: int) -> int:
        first, end = self._page_span(lpAddress, dwSize)
        wanted = range(first, end, PAGE_SIZE)
        if any(page not in self.locked_pages for page in wanted):
            # "If any of the pages in the specified range are not locked, VirtualUnlock ... sets last error to
            # ERROR_NOT_LOCKED, and returns FALSE."
            return self._memory_fail(ERROR_NOT_LOCKED, "the range has pages that are not locked")
        self.locked_pages.difference_update(wanted)
        return TRUE

