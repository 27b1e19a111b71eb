"""File mapping objects and their views: CreateFileMappingW, OpenFileMappingW, MapViewOfFile, UnmapViewOfFile.

A file mapping object is a kernel object (CloseHandle closes its handles)
that owns a store of bytes: the paging file's (hFile is
INVALID_HANDLE_VALUE) or a file's, when the handle's object carries its
bytes as `contents`. A view is a MEM_MAPPED region over that store, so all
views of one object are coherent, and the store lives as long as a handle
or a view refers to it ("a file mapping object does not close until all
references to it are released"). A name is looked up in the same namespace
as events and mutexes, and goes away with the object's last handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .core import export
from .kernel32 import (ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_SUCCESS,
                       HANDLE_FLAG_INHERIT, KERNEL32, TRUE, Kernel32Functions, granted)
from .memory import MAX_BLOCK
from .objects import KernelObject
from .pages import (ALLOCATION_GRANULARITY, MEM_MAPPED, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
                    PAGE_EXECUTE_WRITECOPY, PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, FileStore,
                    PageStore, Region, page_up)

INVALID_HANDLE_VALUE = 0xFFFF_FFFF_FFFF_FFFF  # (HANDLE)(LONG_PTR)-1
# winnt.h: section attributes and access rights; FILE_MAP_* are the SECTION_MAP_* rights.
SEC_FILE = 0x800000
SEC_IMAGE = 0x1000000
SEC_RESERVE = 0x4000000
SEC_COMMIT = 0x8000000
SEC_NOCACHE = 0x10000000
SEC_WRITECOMBINE = 0x40000000
SEC_LARGE_PAGES = 0x80000000
SEC_IMAGE_NO_EXECUTE = SEC_IMAGE | SEC_NOCACHE
SECTION_QUERY = 0x0001
SECTION_MAP_WRITE = 0x0002
SECTION_MAP_READ = 0x0004
SECTION_MAP_EXECUTE = 0x0008
SECTION_EXTEND_SIZE = 0x0010
SECTION_MAP_EXECUTE_EXPLICIT = 0x0020
STANDARD_RIGHTS_REQUIRED = 0x000F0000
SECTION_ALL_ACCESS = (STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | SECTION_MAP_WRITE | SECTION_MAP_READ
                      | SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE)
FILE_MAP_COPY = 0x1
FILE_MAP_WRITE = SECTION_MAP_WRITE
FILE_MAP_READ = SECTION_MAP_READ
FILE_MAP_EXECUTE = SECTION_MAP_EXECUTE_EXPLICIT
FILE_MAP_ALL_ACCESS = SECTION_ALL_ACCESS
FILE_READ_DATA, FILE_WRITE_DATA, FILE_EXECUTE = 0x0001, 0x0002, 0x0020  # a file handle's rights
# winerror.h
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_NOT_ENOUGH_MEMORY = 8
ERROR_DISK_FULL = 112
ERROR_BAD_EXE_FORMAT = 193
ERROR_INVALID_ADDRESS = 487
ERROR_FILE_INVALID = 1006
ERROR_MAPPED_ALIGNMENT = 1132
ERROR_PRIVILEGE_NOT_HELD = 1314
ERROR_COMMITMENT_LIMIT = 1455

#: The protections CreateFileMapping's page lists for flProtect, and the attributes it may add.
MAPPING_PROTECTIONS = (PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
                       PAGE_EXECUTE_WRITECOPY)
SECTION_ATTRIBUTES = SEC_COMMIT | SEC_IMAGE | SEC_LARGE_PAGES | SEC_NOCACHE | SEC_RESERVE | SEC_WRITECOMBINE
WRITABLE_MAPPINGS = (PAGE_READWRITE, PAGE_EXECUTE_READWRITE)
EXECUTABLE_MAPPINGS = (PAGE_EXECUTE_READ, PAGE_EXECUTE_WRITECOPY, PAGE_EXECUTE_READWRITE)

# The machine the model pretends to be: memory sizes that bound what can be committed (GlobalMemoryStatusEx).
TOTAL_PHYSICAL = 8 << 30
COMMIT_LIMIT = 12 << 30  # physical memory and a 4 GiB paging file
SYSTEM_COMMIT = 2 << 30  # committed by everything else on the machine
#: The model's own limits: one reservation or view, and one paging-file mapping.
MAX_REGION = 4 << 30
MAX_SECTION = 16 << 30


@dataclass(eq=False)
class FileMapping(KernelObject):
    """A file mapping object: its size, its protection and attributes, and the store its views share."""

    kind: str = "mapping"
    signalled: bool = False
    size: int = 0
    protect: int = 0
    attributes: int = 0
    store: PageStore | None = None

    #: The wait functions do not take a file mapping object.
    waitable: ClassVar[bool] = False


class FileMappingFunctions(Kernel32Functions):
    """The file mapping exports; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.locked_pages: set[int] = set()  # VirtualLock's pages, by address

    def _memory_fail(self, code: int, text: str) -> int:
        """Fail the Win32 way: a diagnostic, the last error, and 0 (FALSE or NULL) as the value."""
        self.diag(text)
        self.set_last_error(code)
        return 0

    def _commit_fits(self, extra: int) -> bool:
        return self.memory.commit_charge() + extra <= COMMIT_LIMIT - SYSTEM_COMMIT

    @staticmethod
    def _session_name(name: str) -> str:
        """A name without the "Local\\" prefix, which names the session namespace unprefixed names use too."""
        return name[len("Local\\"):] if name.startswith("Local\\") else name

    def _mapping_name(self, lpName: int) -> tuple[bool, str | None]:
        """The object name at lpName (None: unnamed); False, with the last error set, when it is not a name.

        "The name can have a "Global\\" or "Local\\" prefix ... The remainder
        of the name can contain any character except the backslash."
        """
        if not lpName:
            return True, None
        name = self.memory.read_wstr(lpName)
        rest = self._session_name(name)
        if "\\" in (rest[len("Global\\"):] if rest.startswith("Global\\") else rest):
            self.diag(f"{name!r}: the part after the namespace prefix contains a backslash")
            self.set_last_error(ERROR_PATH_NOT_FOUND)
            return False, None
        return True, name if rest else None

    def _named_object(self, name: str) -> KernelObject | None:
        """The object of any kind with this name ("these objects share the same namespace")."""
        wanted = self._session_name(name)
        return next((o for o in self.objects.values() if o.name and self._session_name(o.name) == wanted), None)

    def _file_store(self, hFile: int, protect: int, size: int) -> PageStore | int:
        """The store of the file behind hFile, grown to `size` if the protection allows writing; or an error code."""
        contents: bytearray = getattr(self.handles[hFile][0], "contents")
        # "The file handle that the hFile parameter specifies must be created with the GENERIC_READ [and
        # GENERIC_WRITE / GENERIC_EXECUTE] access rights" the protection names.
        needed = FILE_READ_DATA | (FILE_WRITE_DATA if protect in WRITABLE_MAPPINGS else 0) \
            | (FILE_EXECUTE if protect in EXECUTABLE_MAPPINGS else 0)
        if self.access.get(hFile, needed) & needed != needed:
            self.diag("the file was not opened with the access rights the protection needs")
            return ERROR_ACCESS_DENIED
        if size == 0:
            if not contents:  # "An attempt to map a file with a length of 0 (zero) fails ... ERROR_FILE_INVALID"
                self.diag("the file is empty and no size was given")
                return ERROR_FILE_INVALID
            size = len(contents)
        elif size > len(contents):
            if protect not in WRITABLE_MAPPINGS:
                self.diag("a mapping larger than its file needs a protection that allows writing")
                return ERROR_NOT_ENOUGH_MEMORY
            if size > MAX_BLOCK:  # "If the file on disk cannot be increased ... ERROR_DISK_FULL"
                self.diag(f"the model does not grow a file beyond {MAX_BLOCK} bytes")
                return ERROR_DISK_FULL
            contents.extend(bytes(size - len(contents)))  # "the file on disk is increased to match"
        return FileStore(contents, size)

    @export(*KERNEL32)
    def CreateFileMappingW(self, hFile: int, lpFileMappingAttributes: int, flProtect: int, dwMaximumSizeHigh: int,
                           dwMaximumSizeLow: int, lpName: int) -> int:
        flProtect &= 0xFFFFFFFF
        protect, attributes = flProtect & 0xFF, flProtect & ~0xFF
        if protect not in MAPPING_PROTECTIONS or attributes & ~SECTION_ATTRIBUTES:
            return self._memory_fail(ERROR_INVALID_PARAMETER, f"flProtect 0x{flProtect:X} is not a protection the "
                                                              f"page lists")
        if attributes & SEC_COMMIT and attributes & SEC_RESERVE:
            return self._memory_fail(ERROR_INVALID_PARAMETER, "SEC_COMMIT cannot be combined with SEC_RESERVE")
        if attributes & SEC_IMAGE and (attributes & ~SEC_IMAGE_NO_EXECUTE or (
                attributes == SEC_IMAGE_NO_EXECUTE and protect != PAGE_READONLY)):
            # "No other attributes are valid with SEC_IMAGE"; SEC_IMAGE_NO_EXECUTE "must be combined with the
            # PAGE_READONLY page protection value"
            return self._memory_fail(ERROR_INVALID_PARAMETER, "no other attributes are valid with SEC_IMAGE")
        if not attributes & SEC_IMAGE and attributes & (SEC_NOCACHE | SEC_WRITECOMBINE) and \
                not attributes & (SEC_COMMIT | SEC_RESERVE):
            return self._memory_fail(ERROR_INVALID_PARAMETER,
                                     "SEC_NOCACHE and SEC_WRITECOMBINE need SEC_COMMIT or SEC_RESERVE")
        if attributes & SEC_LARGE_PAGES and not attributes & SEC_COMMIT:
            return self._memory_fail(ERROR_INVALID_PARAMETER, "SEC_LARGE_PAGES requires SEC_COMMIT")
        size = ((dwMaximumSizeHigh & 0xFFFFFFFF) << 32) | (dwMaximumSizeLow & 0xFFFFFFFF)
        pagefile = hFile == INVALID_HANDLE_VALUE
        if pagefile and attributes & SEC_IMAGE:
            return self._memory_fail(ERROR_BAD_EXE_FORMAT, "SEC_IMAGE needs an executable image file")
        if pagefile and size == 0:  # "the calling process must also specify a size"
            return self._memory_fail(ERROR_INVALID_PARAMETER, "a paging-file mapping needs a size")
        if attributes & SEC_LARGE_PAGES:
            if not pagefile:
                return self._memory_fail(ERROR_INVALID_PARAMETER, "SEC_LARGE_PAGES is not supported for data files")
            return self._memory_fail(ERROR_PRIVILEGE_NOT_HELD, "SEC_LARGE_PAGES requires SeLockMemoryPrivilege")
        if not pagefile:
            entry = self.handles.get(hFile)
            if not entry or not isinstance(getattr(entry[0], "contents", None), bytearray):
                return self._memory_fail(ERROR_INVALID_HANDLE, f"hFile 0x{hFile:X} is not an open file handle")
            if attributes & SEC_IMAGE:
                return self._memory_fail(ERROR_BAD_EXE_FORMAT, "the model does not load executable images")
        named, name = self._mapping_name(lpName)
        if not named:
            return 0
        existing = self._named_object(name) if name else None
        if existing is not None:
            if not isinstance(existing, FileMapping):  # "these objects share the same namespace"
                return self._memory_fail(ERROR_INVALID_HANDLE, f"{name!r} names a {existing.kind}, not a file mapping")
            self.set_last_error(ERROR_ALREADY_EXISTS)  # "with its current size, not the specified size"
            return self._new_handle(existing, SECTION_ALL_ACCESS, self._inherit_flag(lpFileMappingAttributes))
        if pagefile:
            if size > MAX_SECTION:
                return self._memory_fail(ERROR_NOT_ENOUGH_MEMORY, f"the model's paging-file mappings hold at most "
                                                                  f"{MAX_SECTION} bytes")
            reserved = bool(attributes & SEC_RESERVE)  # "If no attribute is specified, SEC_COMMIT is assumed"
            if not reserved and not self._commit_fits(page_up(size)):
                return self._memory_fail(ERROR_COMMITMENT_LIMIT, "the system cannot commit the entire mapping")
            store: PageStore | int = PageStore(page_up(size), reserved=reserved)
            size = page_up(size)
        else:
            store = self._file_store(hFile, protect, size)
            if isinstance(store, int):
                return self._memory_fail(store, "the file cannot back this mapping")
            size = store.size
        if pagefile:
            self.memory.stores.add(store)
        mapping = FileMapping(name=name, size=size, protect=protect, attributes=attributes or SEC_COMMIT, store=store)
        self.objects[id(mapping)] = mapping
        # "The handle that CreateFileMapping returns has full access to a new file mapping object"; the caller
        # tells a new object from an existing one by the last error (ERROR_ALREADY_EXISTS).
        self.set_last_error(ERROR_SUCCESS)
        return self._new_handle(mapping, SECTION_ALL_ACCESS, self._inherit_flag(lpFileMappingAttributes))

    @export(*KERNEL32)
    def OpenFileMappingW(self, dwDesiredAccess: int, bInheritHandle: int, lpName: int) -> int:
        if not lpName:
            return self._memory_fail(ERROR_INVALID_PARAMETER, "lpName is NULL: OpenFileMapping opens a named object")
        named, name = self._mapping_name(lpName)
        if not named:
            return 0
        existing = self._named_object(name) if name else None
        if existing is None:
            return self._memory_fail(ERROR_FILE_NOT_FOUND, f"no object is named {name!r}")
        if not isinstance(existing, FileMapping):
            return self._memory_fail(ERROR_INVALID_HANDLE, f"{name!r} names a {existing.kind}, not a file mapping")
        flags = HANDLE_FLAG_INHERIT if bInheritHandle & 0xFFFFFFFF else 0
        return self._new_handle(existing, granted(dwDesiredAccess), flags)

    @staticmethod
    def _view_protection(access: int) -> int:
        """The pages' protection for dwDesiredAccess (FILE_MAP_ALL_ACCESS is FILE_MAP_WRITE with MapViewOfFile)."""
        execute = bool(access & FILE_MAP_EXECUTE)
        if access & FILE_MAP_WRITE:
            return PAGE_EXECUTE_READWRITE if execute else PAGE_READWRITE
        if access & FILE_MAP_COPY:
            return PAGE_EXECUTE_WRITECOPY if execute else PAGE_WRITECOPY
        if access & FILE_MAP_READ:
            return PAGE_EXECUTE_READ if execute else PAGE_READONLY
        return PAGE_NOACCESS

    @export(*KERNEL32)
    def MapViewOfFile(self, hFileMappingObject: int, dwDesiredAccess: int, dwFileOffsetHigh: int,
                      dwFileOffsetLow: int, dwNumberOfBytesToMap: int) -> int:
        mapping = self._object(hFileMappingObject, "mapping")
        if not isinstance(mapping, FileMapping) or mapping.store is None:
            return 0  # ERROR_INVALID_HANDLE is set
        access = dwDesiredAccess & 0xFFFFFFFF
        protect = self._view_protection(access)
        rights = self.access.get(hFileMappingObject, 0)
        needed = SECTION_MAP_WRITE if access & FILE_MAP_WRITE else SECTION_MAP_READ
        if rights & needed != needed or (access & FILE_MAP_EXECUTE and
                                         not rights & (SECTION_MAP_EXECUTE | SECTION_MAP_EXECUTE_EXPLICIT)):
            return self._memory_fail(ERROR_ACCESS_DENIED, "the handle does not grant the access the view needs")
        if access & FILE_MAP_WRITE and mapping.protect not in WRITABLE_MAPPINGS:
            return self._memory_fail(ERROR_ACCESS_DENIED,
                                     "FILE_MAP_WRITE needs a PAGE_READWRITE or PAGE_EXECUTE_READWRITE mapping")
        if access & FILE_MAP_EXECUTE and mapping.protect not in EXECUTABLE_MAPPINGS:
            return self._memory_fail(ERROR_ACCESS_DENIED, "FILE_MAP_EXECUTE needs a PAGE_EXECUTE_* mapping")
        offset = ((dwFileOffsetHigh & 0xFFFFFFFF) << 32) | (dwFileOffsetLow & 0xFFFFFFFF)
        if offset % ALLOCATION_GRANULARITY:  # "the offset must be a multiple of the ... allocation granularity"
            return self._memory_fail(ERROR_MAPPED_ALIGNMENT, f"offset 0x{offset:X} is not a multiple of 64 KiB")
        count = dwNumberOfBytesToMap or max(0, mapping.size - offset)
        if offset >= mapping.size or offset + count > mapping.size:  # "All bytes must be within the maximum size"
            return self._memory_fail(ERROR_ACCESS_DENIED, f"0x{count:X} bytes at offset 0x{offset:X} are not all "
                                                          f"within the mapping's 0x{mapping.size:X}")
        size = page_up(count)
        base = self.memory.place(size) if size <= MAX_REGION else None
        if base is None:
            return self._memory_fail(ERROR_NOT_ENOUGH_MEMORY, f"no room for a view of 0x{size:X} bytes")
        view = Region(base, size, MEM_MAPPED, protect, mapping.store, offset, protect=protect)
        view.mapping_protect = mapping.protect
        self.memory.add_region(view)
        return base

    @export(*KERNEL32)
    def UnmapViewOfFile(self, lpBaseAddress: int) -> int:
        """Unmaps the view holding lpBaseAddress (the page asks for the address MapViewOfFile returned)."""
        view = self.memory.region_at(lpBaseAddress)
        if view is None or view.kind != MEM_MAPPED:
            return self._memory_fail(ERROR_INVALID_ADDRESS, f"0x{lpBaseAddress:X} is not in a mapped view")
        self.memory.remove_region(view)
        self._forget_locks(view.base, view.end)
        return TRUE

    def _forget_locks(self, start: int, end: int) -> None:
        """Pages that are unmapped or decommitted are no longer locked."""
        self.locked_pages = {page for page in self.locked_pages if not start <= page < end}
