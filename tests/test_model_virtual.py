"""The model's virtual memory and file mappings, against the memoryapi pages' words (adapters/model/virtual.py,
mapping.py, pages.py and the page regions of memory.py)."""

from __future__ import annotations

from modelcalls import call, failed, wide
from specproof.adapter.structs import layout
from specproof_adapters.model import ModelAdapter, ModelFault

ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE, ERROR_NOT_LOCKED = 2, 5, 6, 158
ERROR_INVALID_PARAMETER, ERROR_ALREADY_EXISTS, ERROR_INVALID_ADDRESS, ERROR_NOACCESS = 87, 183, 487, 998
ERROR_FILE_INVALID, ERROR_MAPPED_ALIGNMENT, ERROR_WORKING_SET_QUOTA = 1006, 1132, 1453
MEM_COMMIT, MEM_RESERVE, MEM_DECOMMIT, MEM_RELEASE, MEM_FREE = 0x1000, 0x2000, 0x4000, 0x8000, 0x10000
MEM_PRIVATE, MEM_MAPPED, MEM_RESET = 0x20000, 0x40000, 0x80000
PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY = 0x01, 0x02, 0x04, 0x08
PAGE_EXECUTE_READWRITE, PAGE_GUARD = 0x40, 0x100
SEC_RESERVE = 0x4000000
FILE_MAP_COPY, FILE_MAP_WRITE, FILE_MAP_READ = 0x1, 0x2, 0x4
GENERIC_READ, GENERIC_WRITE, CREATE_NEW = 0x80000000, 0x40000000, 1
INVALID_HANDLE_VALUE = 0xFFFF_FFFF_FFFF_FFFF
STATUS_GUARD_PAGE_VIOLATION = 0x80000001
MBI = layout("MEMORY_BASIC_INFORMATION")


def query(model: ModelAdapter, address: int):
    buffer = model.alloc(MBI.size)
    assert call(model, "VirtualQuery", address, buffer, MBI.size).value == MBI.size, "it returns the bytes written"
    return MBI.unpack(model.read(buffer, MBI.size))


def faults(action, address: int | None = None, code: int = 0xC0000005) -> bool:
    try:
        action()
    except ModelFault as fault:
        return fault.code == code and (address is None or fault.address == address)
    return False


def test_reserved_pages_are_committed_later_and_read_as_zero(model):
    base = call(model, "VirtualAlloc", 0, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS).value
    assert base and base % 0x10000 == 0, "a reservation starts on the 64 KiB allocation granularity"
    info = query(model, base)
    assert (info.BaseAddress, info.AllocationBase, info.RegionSize) == (base, base, 0x10000)
    assert (info.State, info.Protect, info.Type, info.AllocationProtect) == (MEM_RESERVE, 0, MEM_PRIVATE, PAGE_NOACCESS)
    assert faults(lambda: model.read(base, 1), base), "a reserved page is not memory yet"
    assert call(model, "VirtualAlloc", base + 0x10, 0x10, MEM_COMMIT, PAGE_READWRITE).value == base, \
        "committing rounds the address down to the page"
    assert model.read(base, 0x1000) == bytes(0x1000), "automatically initialized to zero"
    model.write(base + 8, b"kept")
    info = query(model, base)
    assert (info.RegionSize, info.State, info.Protect) == (0x1000, MEM_COMMIT, PAGE_READWRITE)
    assert call(model, "VirtualAlloc", base, 0x2000, MEM_COMMIT, PAGE_READWRITE).value == base, \
        "an attempt to commit a page that is already committed does not cause the function to fail"
    assert model.read(base + 8, 4) == b"kept"
    assert failed(call(model, "VirtualAlloc", base, 0x1000, MEM_RESERVE, PAGE_READWRITE), ERROR_INVALID_ADDRESS), \
        "VirtualAlloc cannot reserve a reserved page"


def test_committing_what_was_never_reserved_and_bad_arguments(model):
    base = call(model, "VirtualAlloc", 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE).value
    assert failed(call(model, "VirtualAlloc", base + 0x10000, 0x1000, MEM_COMMIT, PAGE_READWRITE),
                  ERROR_INVALID_ADDRESS), "MEM_COMMIT without MEM_RESERVE fails unless the range is reserved"
    assert failed(call(model, "VirtualAlloc", 0, 0, MEM_RESERVE, PAGE_READWRITE), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualAlloc", 0, 0x1000, 0, PAGE_READWRITE), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualAlloc", 0, 0x1000, MEM_RESERVE, 0), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualAlloc", 0, 0x1000, MEM_COMMIT, PAGE_WRITECOPY), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualAlloc", base, 0x1000, MEM_RESET | MEM_COMMIT, PAGE_READWRITE),
                  ERROR_INVALID_PARAMETER), "MEM_RESET cannot be used with any other value"
    assert call(model, "VirtualAlloc", base, 0x1000, MEM_RESET, PAGE_NOACCESS).value == base


def test_virtual_free_decommits_and_releases_as_documented(model):
    base = call(model, "VirtualAlloc", 0, 0x3000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE).value
    model.write(base + 0x1000, b"gone")
    assert failed(call(model, "VirtualFree", base, 0x1000, 0), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualFree", base, 0, MEM_DECOMMIT | MEM_RELEASE), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualFree", base, 1, MEM_RELEASE), ERROR_INVALID_PARAMETER), "dwSize must be 0"
    assert failed(call(model, "VirtualFree", base + 0x1000, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS), \
        "lpAddress must be the base address VirtualAlloc returned"
    assert call(model, "VirtualFree", base + 0x1FFF, 2, MEM_DECOMMIT).value == 1, "a 2-byte range straddles two pages"
    assert faults(lambda: model.read(base + 0x1000, 1), base + 0x1000), "a decommitted page faults"
    assert query(model, base + 0x1000).State == MEM_RESERVE and query(model, base + 0x1000).RegionSize == 0x2000
    assert call(model, "VirtualFree", base + 0x1000, 0x1000, MEM_DECOMMIT).value == 1, \
        "The function does not fail if you attempt to decommit an uncommitted page"
    call(model, "VirtualAlloc", base + 0x1000, 0x1000, MEM_COMMIT, PAGE_READWRITE)
    assert model.read(base + 0x1000, 4) == bytes(4), "decommit and recommit to get zeros"
    assert call(model, "VirtualFree", base, 0, MEM_RELEASE).value == 1
    info = query(model, base)
    assert (info.State, info.Protect, info.AllocationBase, info.Type) == (MEM_FREE, PAGE_NOACCESS, 0, 0)
    assert faults(lambda: model.read(base, 1), base), "a released page faults"
    assert failed(call(model, "VirtualFree", base, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS)


def test_virtual_protect_returns_the_old_protection_and_pages_obey_the_new_one(model):
    base = call(model, "VirtualAlloc", 0, 0x2000, MEM_COMMIT, PAGE_READWRITE).value
    old = model.alloc(4)
    assert call(model, "VirtualProtect", base, 0x1000, PAGE_READONLY, old).value == 1
    assert model.read(old, 4) == PAGE_READWRITE.to_bytes(4, "little")
    assert faults(lambda: model.write(base, b"x"), base) and model.read(base, 1) == b"\0"
    model.write(base + 0x1000, b"ok")
    assert failed(call(model, "VirtualProtect", base, 0x1000, PAGE_READWRITE, 0), ERROR_NOACCESS), \
        "If this parameter is NULL or does not point to a valid variable, the function fails."
    assert failed(call(model, "VirtualProtect", base, 0x1000, 0, old), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualProtect", base, 0x1000, PAGE_READONLY | PAGE_READWRITE, old),
                  ERROR_INVALID_PARAMETER)
    reserved = call(model, "VirtualAlloc", 0, 0x2000, MEM_RESERVE, PAGE_READWRITE).value
    call(model, "VirtualAlloc", reserved, 0x1000, MEM_COMMIT, PAGE_READWRITE)
    assert failed(call(model, "VirtualProtect", reserved, 0x2000, PAGE_READONLY, old), ERROR_INVALID_ADDRESS), \
        "If the state of any page in the specified region is not committed, the function fails"
    assert query(model, reserved).Protect == PAGE_READWRITE, "without modifying the access protection of any pages"
    assert call(model, "VirtualProtect", base, 0x1000, PAGE_READWRITE | PAGE_GUARD, old).value == 1
    assert faults(lambda: model.read(base, 1), base, STATUS_GUARD_PAGE_VIOLATION), "guard pages are alarms"
    assert model.read(base, 1) == b"\0", "one-shot: the guard is gone after the first access"


def test_virtual_query_describes_free_memory_heap_blocks_and_bad_arguments(model):
    buffer = model.alloc(MBI.size)
    assert failed(call(model, "VirtualQuery", 0x7FFF_FFFF_0000, buffer, MBI.size), ERROR_INVALID_PARAMETER), \
        "an address above the highest memory address accessible to the process"
    assert failed(call(model, "VirtualQuery", buffer, buffer, MBI.size - 1), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualQuery", buffer, 0, MBI.size), ERROR_NOACCESS)
    heap = query(model, buffer)
    assert (heap.State, heap.Protect, heap.Type, heap.BaseAddress) == (MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE,
                                                                        buffer & ~0xFFF)
    free = query(model, 0x20000)
    assert (free.State, free.BaseAddress, free.AllocationBase) == (MEM_FREE, 0x20000, 0) and free.RegionSize > 0


def test_virtual_lock_needs_committed_pages_and_unlock_needs_locked_ones(model):
    base = call(model, "VirtualAlloc", 0, 0x10000, MEM_RESERVE, PAGE_READWRITE).value
    call(model, "VirtualAlloc", base, 0x2000, MEM_COMMIT, PAGE_READWRITE)
    assert call(model, "VirtualLock", base, 0x2000).value == 1
    assert call(model, "VirtualLock", base, 0x1000).value == 1, "There is no lock count for virtual pages"
    assert call(model, "VirtualUnlock", base, 0x2000).value == 1
    assert failed(call(model, "VirtualUnlock", base, 0x1000), ERROR_NOT_LOCKED), \
        "multiple calls to the VirtualUnlock function are never required"
    assert failed(call(model, "VirtualLock", base, 0x3000), ERROR_NOACCESS), "All pages ... must be committed"
    old = model.alloc(4)
    call(model, "VirtualProtect", base, 0x1000, PAGE_NOACCESS, old)
    assert failed(call(model, "VirtualLock", base, 1), ERROR_NOACCESS), "PAGE_NOACCESS cannot be locked"
    big = call(model, "VirtualAlloc", 0, 0x100000, MEM_COMMIT, PAGE_READWRITE).value
    assert failed(call(model, "VirtualLock", big, 0x100000), ERROR_WORKING_SET_QUOTA), \
        "a process can lock its minimum working set minus a small overhead"
    assert failed(call(model, "VirtualLock", 0, 0), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "VirtualUnlock", 0, 0), ERROR_NOT_LOCKED)


def test_views_of_a_paging_file_mapping_share_their_bytes(model):
    mapping = call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE, 0, 5000, 0)
    assert mapping.value and mapping.last_error == 0
    writer = call(model, "MapViewOfFile", mapping.value, FILE_MAP_WRITE, 0, 0, 0).value
    reader = call(model, "MapViewOfFile", mapping.value, FILE_MAP_READ, 0, 0, 0).value
    assert writer % 0x10000 == 0 and reader != writer
    assert model.read(reader, 5000) == bytes(5000), "The initial contents of the pages ... are 0 (zero)"
    model.write(writer + 4000, b"coherent")
    assert model.read(reader + 4000, 8) == b"coherent", "Coherency is guaranteed for views within a process"
    assert faults(lambda: model.write(reader, b"x"), reader), "An attempt to write to the file view ... violation"
    info = query(model, reader)
    assert (info.Type, info.State, info.Protect, info.RegionSize) == (MEM_MAPPED, MEM_COMMIT, PAGE_READONLY, 0x2000)
    copy = call(model, "MapViewOfFile", mapping.value, FILE_MAP_COPY, 0, 0, 0).value
    model.write(copy + 4000, b"private!")
    assert model.read(copy + 4000, 8) == b"private!" and model.read(reader + 4000, 8) == b"coherent"
    assert query(model, copy + 4000).Protect == PAGE_READWRITE, "changes from copy-on-write to read/write"
    assert failed(call(model, "VirtualFree", writer, 0, MEM_RELEASE), ERROR_INVALID_PARAMETER)
    assert call(model, "UnmapViewOfFile", writer).value == 1
    assert faults(lambda: model.read(writer, 1), writer)
    assert failed(call(model, "UnmapViewOfFile", writer), ERROR_INVALID_ADDRESS)
    assert call(model, "CloseHandle", mapping.value).value == 1, "mapping handles are closed with CloseHandle"
    assert model.read(reader + 4000, 8) == b"coherent", "a view keeps its file mapping object"


def test_named_mappings_open_by_name_until_their_last_handle_closes(model):
    name = wide(model, "Local\\specproof-mapping")
    first = call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE, 0, 0x1000, name)
    again = call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE, 0, 0x9000, name)
    assert first.value and again.value and again.last_error == ERROR_ALREADY_EXISTS
    opened = call(model, "OpenFileMappingW", FILE_MAP_READ, 0, wide(model, "specproof-mapping"))
    assert opened.value, "the Local\\ prefix names the session namespace"
    view = call(model, "MapViewOfFile", again.value, FILE_MAP_WRITE, 0, 0, 0).value
    assert query(model, view).RegionSize == 0x1000, "its current size, not the specified size"
    assert failed(call(model, "MapViewOfFile", opened.value, FILE_MAP_WRITE, 0, 0, 0), ERROR_ACCESS_DENIED)
    assert failed(call(model, "OpenFileMappingW", FILE_MAP_READ, 0, wide(model, "SPECPROOF-MAPPING")),
                  ERROR_FILE_NOT_FOUND), "names are case-sensitive"
    for handle in (first.value, again.value, opened.value):
        call(model, "CloseHandle", handle)
    assert failed(call(model, "OpenFileMappingW", FILE_MAP_READ, 0, name), ERROR_FILE_NOT_FOUND)
    event = call(model, "CreateEventW", 0, 1, 0, wide(model, "specproof-shared-name")).value
    assert event and failed(call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE, 0, 0x1000,
                                 wide(model, "specproof-shared-name")), ERROR_INVALID_HANDLE), \
        "If lpName matches the name of an existing event ... ERROR_INVALID_HANDLE"


def test_mapping_arguments_the_pages_rule_out(model):
    assert failed(call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE, 0, 0, 0),
                  ERROR_INVALID_PARAMETER), "the calling process must also specify a size"
    assert failed(call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_NOACCESS, 0, 0x1000, 0),
                  ERROR_INVALID_PARAMETER)
    assert failed(call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE | SEC_RESERVE | 0x8000000,
                       0, 0x1000, 0), ERROR_INVALID_PARAMETER), "SEC_COMMIT cannot be combined with SEC_RESERVE"
    assert failed(call(model, "CreateFileMappingW", 0x1234, 0, PAGE_READWRITE, 0, 0x1000, 0), ERROR_INVALID_HANDLE)
    assert failed(call(model, "OpenFileMappingW", FILE_MAP_READ, 0, 0), ERROR_INVALID_PARAMETER)
    mapping = call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READONLY, 0, 0x30000, 0).value
    assert failed(call(model, "MapViewOfFile", mapping, FILE_MAP_WRITE, 0, 0, 0), ERROR_ACCESS_DENIED), \
        "FILE_MAP_WRITE: the file mapping object must have been created with PAGE_READWRITE"
    assert failed(call(model, "MapViewOfFile", mapping, FILE_MAP_READ, 0, 0x1000, 0), ERROR_MAPPED_ALIGNMENT)
    assert failed(call(model, "MapViewOfFile", mapping, FILE_MAP_READ, 0, 0x20000, 0x20000), ERROR_ACCESS_DENIED), \
        "All bytes must be within the maximum size specified by CreateFileMapping"
    tail = call(model, "MapViewOfFile", mapping, FILE_MAP_READ, 0, 0x20000, 0).value
    assert query(model, tail).RegionSize == 0x10000, "0 maps from the offset to the end of the file mapping"
    assert failed(call(model, "MapViewOfFile", 0, FILE_MAP_READ, 0, 0, 0), ERROR_INVALID_HANDLE)


def test_sec_reserve_views_are_committed_with_virtual_alloc(model):
    mapping = call(model, "CreateFileMappingW", INVALID_HANDLE_VALUE, 0, PAGE_READWRITE | SEC_RESERVE, 0, 0x20000, 0)
    first = call(model, "MapViewOfFile", mapping.value, FILE_MAP_WRITE, 0, 0, 0).value
    second = call(model, "MapViewOfFile", mapping.value, FILE_MAP_WRITE, 0, 0, 0).value
    assert query(model, first).State == MEM_RESERVE and faults(lambda: model.read(first, 1), first)
    assert call(model, "VirtualAlloc", first, 0x10000, MEM_COMMIT, PAGE_READWRITE).value == first
    model.write(first + 0x100, b"both")
    assert model.read(second + 0x100, 4) == b"both", "committing affects the mapping, so every view"
    assert failed(call(model, "VirtualFree", first, 0x10000, MEM_DECOMMIT), ERROR_INVALID_PARAMETER), \
        "After a page from the reserved range is committed, it cannot be freed or decommitted"


def test_a_file_backed_mapping_reads_and_writes_the_file(model):
    path = wide(model, "C:\\specproof-mapped.bin")
    file = call(model, "CreateFileW", path, GENERIC_READ | GENERIC_WRITE, 0, 0, CREATE_NEW, 0x80, 0).value
    assert failed(call(model, "CreateFileMappingW", file, 0, PAGE_READWRITE, 0, 0, 0), ERROR_FILE_INVALID), \
        "An attempt to map a file with a length of 0 (zero) fails with an error code of ERROR_FILE_INVALID"
    mapping = call(model, "CreateFileMappingW", file, 0, PAGE_READWRITE, 0, 6, 0).value
    assert call(model, "GetFileSize", file, 0).value == 6, "the file on disk is increased to match"
    view = call(model, "MapViewOfFile", mapping, FILE_MAP_WRITE, 0, 0, 0).value
    model.write(view, b"mapped")
    buffer, count = model.alloc(6), model.alloc(4)
    call(model, "SetFilePointer", file, 0, 0, 0)
    assert call(model, "ReadFile", file, buffer, 6, count, 0).value == 1 and model.read(buffer, 6) == b"mapped"
    assert model.read(view + 6, 10) == bytes(10), "the rest of the view's page reads as zero"


def test_strings_are_read_across_committed_pages_and_fault_at_the_first_uncommitted_one(model):
    base = call(model, "VirtualAlloc", 0, 0x2000, MEM_RESERVE, PAGE_READWRITE).value
    call(model, "VirtualAlloc", base, 0x1000, MEM_COMMIT, PAGE_READWRITE)
    model.write(base + 0xFF8, "abcd".encode("utf-16-le"))
    assert faults(lambda: model.memory.read_wstr(base + 0xFF8), base + 0x1000)
    call(model, "VirtualAlloc", base + 0x1000, 0x1000, MEM_COMMIT, PAGE_READWRITE)
    assert model.memory.read_wstr(base + 0xFF8) == "abcd", "a string may straddle two committed pages"
    assert model.read(base + 0xFFE, 4) == "d".encode("utf-16-le") + b"\0\0"
    assert call(model, "VirtualAlloc", 0, 0x1000, MEM_COMMIT, PAGE_EXECUTE_READWRITE).value, "execute memory too"
