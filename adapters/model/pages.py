"""Pages, regions and what backs them: the data of the model's virtual memory.

The memoryapi pages describe memory in pages (4 KiB here, as GetSystemInfo
reports) grouped into regions that one VirtualAlloc or MapViewOfFile call
made, each starting on the 64 KiB allocation granularity. A page of a
region is reserved or committed, and a committed page has a protection
(PAGE_NOACCESS ... PAGE_EXECUTE_WRITECOPY, optionally PAGE_GUARD,
PAGE_NOCACHE or PAGE_WRITECOMBINE). The bytes live in a store: the region's
own for VirtualAlloc memory, the file mapping object's for a view, so that
every view of one mapping sees the same bytes ("Coherency is guaranteed for
views within a process"). Nothing here faults; `memory.AddressSpace` checks
each access against a page's state and protection.
"""

from __future__ import annotations

from array import array

PAGE_SIZE = 0x1000
ALLOCATION_GRANULARITY = 0x10000
#: The lowest and highest addresses a process may use (SYSTEM_INFO's lpMinimum/lpMaximumApplicationAddress).
MIN_APPLICATION_ADDRESS = 0x10000
MAX_APPLICATION_ADDRESS = 0x7FFF_FFFE_FFFF

# winnt.h: memory protection constants and the page states and types VirtualQuery reports.
PAGE_NOACCESS = 0x01
PAGE_READONLY = 0x02
PAGE_READWRITE = 0x04
PAGE_WRITECOPY = 0x08
PAGE_EXECUTE = 0x10
PAGE_EXECUTE_READ = 0x20
PAGE_EXECUTE_READWRITE = 0x40
PAGE_EXECUTE_WRITECOPY = 0x80
PAGE_GUARD = 0x100
PAGE_NOCACHE = 0x200
PAGE_WRITECOMBINE = 0x400
PAGE_TARGETS_INVALID = 0x40000000
MEM_COMMIT = 0x1000
MEM_RESERVE = 0x2000
MEM_FREE = 0x10000
MEM_PRIVATE = 0x20000
MEM_MAPPED = 0x40000
#: winnt.h STATUS_GUARD_PAGE_VIOLATION: the exception the first access to a guard page raises.
STATUS_GUARD_PAGE_VIOLATION = 0x80000001

BASE_PROTECTIONS = (PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE, PAGE_EXECUTE_READ,
                    PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY)
READABLE = frozenset(BASE_PROTECTIONS) - {PAGE_NOACCESS}
WRITABLE = frozenset({PAGE_READWRITE, PAGE_EXECUTE_READWRITE})
#: A write to a copy-on-write page makes it private and changes its protection to read/write (MapViewOfFile).
COPY_ON_WRITE = {PAGE_WRITECOPY: PAGE_READWRITE, PAGE_EXECUTE_WRITECOPY: PAGE_EXECUTE_READWRITE}


def page_down(address: int) -> int:
    return address & ~(PAGE_SIZE - 1)


def page_up(address: int) -> int:
    return (address + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def granule_down(address: int) -> int:
    return address & ~(ALLOCATION_GRANULARITY - 1)


def granule_up(address: int) -> int:
    return (address + ALLOCATION_GRANULARITY - 1) & ~(ALLOCATION_GRANULARITY - 1)


def pages_in(size: int) -> int:
    return page_up(size) // PAGE_SIZE


class PageStore:
    """Bytes backed by the paging file: zero until written, kept only for the pages that were written.

    "The initial contents of the pages in a file mapping object backed by
    the operating system paging file are 0 (zero)." A store made for a
    SEC_RESERVE mapping starts with every page reserved (`commit_map`);
    VirtualAlloc commits them for all the mapping's views at once.
    """

    def __init__(self, size: int, reserved: bool = False) -> None:
        self.size = size
        self._pages: dict[int, bytearray] = {}
        count = pages_in(size)
        self.commit_map: bytearray | None = bytearray(count) if reserved else None
        self.committed_pages = 0 if reserved else count

    @property
    def charge(self) -> int:
        """The bytes of commit this store holds against the paging file."""
        return self.committed_pages * PAGE_SIZE

    def is_committed(self, page: int) -> bool:
        return self.commit_map is None or (0 <= page < len(self.commit_map) and self.commit_map[page] != 0)

    def commit(self, first: int, count: int) -> None:
        if self.commit_map is None:
            return
        for page in range(first, first + count):
            if not self.commit_map[page]:
                self.commit_map[page] = 1
                self.committed_pages += 1

    def read(self, offset: int, size: int) -> bytes:
        out = bytearray()
        while size > 0:
            page, within = divmod(offset, PAGE_SIZE)
            take = min(size, PAGE_SIZE - within)
            stored = self._pages.get(page)
            out += stored[within:within + take] if stored is not None else bytes(take)
            offset, size = offset + take, size - take
        return bytes(out)

    def write(self, offset: int, data: bytes) -> None:
        done = 0
        while done < len(data):
            page, within = divmod(offset + done, PAGE_SIZE)
            take = min(len(data) - done, PAGE_SIZE - within)
            stored = self._pages.setdefault(page, bytearray(PAGE_SIZE))
            stored[within:within + take] = data[done:done + take]
            done += take

    def discard(self, first: int, count: int) -> None:
        """Forget the contents of pages, as decommitting does: committed again, they read as zero."""
        for page in range(first, first + count):
            self._pages.pop(page, None)


class FileStore(PageStore):
    """Bytes of a file (a file object's `contents`): views of one file read and write the file itself.

    The part of a view's last page past the end of the file is memory that
    the file does not hold; it reads as zero until written, like paging-file
    memory, and is not written to the file.
    """

    def __init__(self, contents: bytearray, size: int) -> None:
        super().__init__(size)
        self.contents = contents
        self.committed_pages = 0  # a data file is its own backing store: no paging-file charge

    def read(self, offset: int, size: int) -> bytes:
        inside = max(0, min(size, len(self.contents) - offset))
        head = bytes(self.contents[offset:offset + inside])
        return head + super().read(offset + inside, size - inside) if inside < size else head

    def write(self, offset: int, data: bytes) -> None:
        inside = max(0, min(len(data), len(self.contents) - offset))
        self.contents[offset:offset + inside] = data[:inside]
        if inside < len(data):
            super().write(offset + inside, data[inside:])


class Region:
    """The pages one VirtualAlloc (MEM_PRIVATE) or MapViewOfFile (MEM_MAPPED) call made, from `base`.

    `protect[i]` is page i's protection; for private memory 0 means the page
    is reserved, not committed. A view's pages are committed when its store
    says so, and each view keeps its own protections. `copies` holds the
    view's pages that a write to a copy-on-write page made private.
    """

    def __init__(self, base: int, size: int, kind: int, allocation_protect: int, store: PageStore,
                 offset: int = 0, protect: int = 0) -> None:
        self.base = base
        self.size = size
        self.kind = kind
        self.allocation_protect = allocation_protect
        self.store = store
        self.offset = offset
        self.protect = array("I", [protect]) * (size // PAGE_SIZE)
        self.copies: dict[int, bytearray] = {}
        self.committed_pages = len(self.protect) if protect and kind == MEM_PRIVATE else 0
        self.file_backed = isinstance(store, FileStore)
        self.mapping_protect = 0  # for a view: the protection its file mapping object was created with

    @property
    def end(self) -> int:
        return self.base + self.size

    def index(self, address: int) -> int:
        return (address - self.base) // PAGE_SIZE

    def committed(self, index: int) -> bool:
        if self.kind == MEM_PRIVATE:
            return self.protect[index] != 0
        return self.store.is_committed(self.offset // PAGE_SIZE + index)

    def state(self, index: int) -> tuple[int, int]:
        """VirtualQuery's State and Protect for page `index`."""
        if self.committed(index):
            return MEM_COMMIT, self.protect[index]
        return MEM_RESERVE, 0

    def read(self, address: int, size: int) -> bytes:
        """Bytes within one page of the region (the caller has checked the page's access)."""
        index = self.index(address)
        copy = self.copies.get(index)
        if copy is not None:
            within = address - self.base - index * PAGE_SIZE
            return bytes(copy[within:within + size])
        return self.store.read(self.offset + address - self.base, size)

    def write(self, address: int, data: bytes) -> None:
        """Bytes within one page; a write to a copy-on-write page first makes the page private."""
        index = self.index(address)
        base = self.protect[index] & 0xFF
        if base in COPY_ON_WRITE and index not in self.copies:
            self.copies[index] = bytearray(self.store.read(self.offset + index * PAGE_SIZE, PAGE_SIZE))
        if base in COPY_ON_WRITE:
            self.protect[index] = (self.protect[index] & ~0xFF) | COPY_ON_WRITE[base]
        copy = self.copies.get(index)
        if copy is not None:
            within = address - self.base - index * PAGE_SIZE
            copy[within:within + len(data)] = data
        else:
            self.store.write(self.offset + address - self.base, data)
