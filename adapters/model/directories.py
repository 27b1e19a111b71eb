"""Names on the model's disk: directories, attributes, deletion, searches and the path functions.

These fileapi functions work on names, not handles. Each resolves its name
against the process's current directory (C:\\users\\specproof) and fails as
its page says: ERROR_FILE_NOT_FOUND for a last name that does not exist,
ERROR_PATH_NOT_FOUND for a directory on the way that does not, and the
codes each page adds (ERROR_ALREADY_EXISTS, ERROR_ACCESS_DENIED,
ERROR_NO_MORE_FILES ...). Where a page is silent about a NULL name, the
model fails the way Wine does.

Search handles (FindFirstFileW) are not kernel objects: "close it by using
the FindClose function, not CloseHandle", so they live in a table of their
own, at values no kernel handle takes, and are never reused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from specproof.adapter.structs import layout

from .core import export
from .filesystem import (ERROR_ACCESS_DENIED, ERROR_BUFFER_OVERFLOW, ERROR_DIR_NOT_EMPTY, ERROR_DIRECTORY,
                         ERROR_FILE_EXISTS, ERROR_FILE_NOT_FOUND, ERROR_INVALID_NAME, ERROR_NO_MORE_FILES,
                         ERROR_PATH_NOT_FOUND, ERROR_SHARING_VIOLATION, FILE_ATTRIBUTE_ARCHIVE,
                         FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_READONLY, FILE_SHARE_DELETE, MAX_PATH,
                         SETTABLE_ATTRIBUTES, SHARE_ALL, WINDOWS, Directory, File, FileSystemFunctions, FsError, Node,
                         failing, is_valid_name, matches)
from .kernel32 import ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, FALSE, KERNEL32, TRUE

INVALID_HANDLE_VALUE = 0xFFFF_FFFF_FFFF_FFFF  # (HANDLE)-1
INVALID_FILE_ATTRIBUTES = 0xFFFFFFFF
#: Search handles: below every address the model hands out (memory.VIRTUAL_BASE) and above any kernel handle.
FIND_HANDLE_BASE = 0x0000_00F0_0000_0000
FIND_HANDLE_STEP = 0x10


@dataclass
class Search:
    """An open search: the entries that matched, and how many FindFirstFileW/FindNextFileW have given."""

    entries: list[tuple[str, Node]]
    given: int = 0


def _filetime(value: int) -> dict[str, int]:
    return {"dwLowDateTime": value & 0xFFFFFFFF, "dwHighDateTime": value >> 32}


class DirectoryFunctions(FileSystemFunctions):
    """The fileapi exports that take names; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.file_searches: dict[int, Search] = {}
        self._last_file_search = FIND_HANDLE_BASE

    # -- directories -------------------------------------------------------------------------------
    @export(*KERNEL32)
    @failing(FALSE)
    def CreateDirectoryW(self, lpPathName: int, lpSecurityAttributes: int) -> int:
        where = self._fs_where(lpPathName)
        if where.node is not None:
            raise FsError(ERROR_ALREADY_EXISTS, f"{where.path} exists")  # "The specified directory already exists."
        self.fs.add(where, Directory(name=where.name, attributes=FILE_ATTRIBUTE_DIRECTORY))
        return TRUE

    @export(*KERNEL32)
    @failing(FALSE)
    def RemoveDirectoryW(self, lpPathName: int) -> int:
        where = self._fs_where(lpPathName, missing_name=ERROR_INVALID_NAME)  # a NULL name: as Wine
        node = where.node
        if node is None:
            raise FsError(ERROR_FILE_NOT_FOUND, f"{where.path} does not exist")
        if not isinstance(node, Directory):
            raise FsError(ERROR_DIRECTORY, f"{where.path} is a file")
        if node.parent is None or node.delete_pending:
            raise FsError(ERROR_ACCESS_DENIED, f"{where.path} cannot be removed")
        if node.children:  # "This path must specify an empty directory"
            raise FsError(ERROR_DIR_NOT_EMPTY, f"{where.path} is not empty")
        current = self.fs.current_directory.upper() + "\\"
        if current.startswith(node.path().upper() + "\\"):  # the process holds its current directory open
            raise FsError(ERROR_SHARING_VIOLATION, f"{where.path} is the current directory")
        self.fs.check_sharing(node, FILE_SHARE_DELETE, SHARE_ALL)
        self.fs.remove(node)  # "marks a directory for deletion on close"
        return TRUE

    # -- files by name -----------------------------------------------------------------------------
    @export(*KERNEL32)
    @failing(FALSE)
    def DeleteFileW(self, lpFileName: int) -> int:
        where = self._fs_where(lpFileName)
        node = where.node
        if node is None:  # "fails with ERROR_FILE_NOT_FOUND"
            raise FsError(ERROR_FILE_NOT_FOUND, f"{where.path} does not exist")
        if isinstance(node, Directory):
            raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is a directory")
        if node.attributes & FILE_ATTRIBUTE_READONLY:  # "If the file is a read-only file ... ERROR_ACCESS_DENIED"
            raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is read-only")
        if node.delete_pending:
            raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is already to be deleted")
        # "fails if ... other handles open for normal I/O or as a memory-mapped file (FILE_SHARE_DELETE must
        # have been specified when other handles were opened)"
        self.fs.check_sharing(node, FILE_SHARE_DELETE, SHARE_ALL)
        if self._fs_mapped(node):
            raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is mapped into memory")
        self.fs.remove(node)  # "marks a file for deletion on close"
        return TRUE

    @export(*KERNEL32)
    @failing(INVALID_FILE_ATTRIBUTES)
    def GetFileAttributesW(self, lpFileName: int) -> int:
        where = self._fs_where(lpFileName)
        if where.parent is not None and not is_valid_name(where.name):
            raise FsError(ERROR_INVALID_NAME, f"{where.path}: not a valid name")
        if where.node is None:
            raise FsError(ERROR_FILE_NOT_FOUND, f"{where.path} does not exist")
        return where.node.reported_attributes()

    @export(*KERNEL32)
    @failing(FALSE)
    def SetFileAttributesW(self, lpFileName: int, dwFileAttributes: int) -> int:
        where = self._fs_where(lpFileName)
        if where.node is None:
            raise FsError(ERROR_FILE_NOT_FOUND, f"{where.path} does not exist")
        # Only the page's table can be set ("all other values override FILE_ATTRIBUTE_NORMAL", which alone
        # clears them); "Files cannot be converted into directories".
        where.node.attributes = (where.node.attributes & ~SETTABLE_ATTRIBUTES) | (dwFileAttributes
                                                                                 & SETTABLE_ATTRIBUTES)
        return TRUE

    # -- searches ---------------------------------------------------------------------------------
    def _fs_find_data(self, address: int, name: str, node: Node) -> None:
        size = node.size
        self.memory.write(address, layout("WIN32_FIND_DATAW").pack(
            dwFileAttributes=node.reported_attributes(), ftCreationTime=_filetime(node.created),
            ftLastAccessTime=_filetime(node.accessed), ftLastWriteTime=_filetime(node.written),
            nFileSizeHigh=size >> 32, nFileSizeLow=size & 0xFFFFFFFF, cFileName=name))

    @export(*KERNEL32)
    @failing(INVALID_HANDLE_VALUE)
    def FindFirstFileW(self, lpFileName: int, lpFindFileData: int) -> int:
        text = self._fs_name(lpFileName).replace("/", "\\")
        disk = self._fs_disk()
        if not text:  # "NULL, or empty string ... is not a valid use": no file can match
            raise FsError(ERROR_FILE_NOT_FOUND, "no file name")
        if text.endswith("\\"):
            raise FsError(ERROR_FILE_NOT_FOUND, "\"An attempt to open a search with a trailing backslash always "
                                                "fails.\"")
        cut = text.rfind("\\") + 1 or (2 if text[1:2] == ":" else 0)
        folder, pattern = text[:cut], text[cut:]
        if pattern in (".", ".."):  # names a directory itself: search its parent for it
            full = disk.full(text)
            cut = full.rfind("\\") + 1
            folder, pattern = full[:cut], full[cut:]
        where = disk.locate(folder or ".")
        directory = where.node
        if not isinstance(directory, Directory):
            raise FsError(ERROR_PATH_NOT_FOUND, f"{where.path} is not a directory")
        if not is_valid_name(pattern, pattern=True):
            raise FsError(ERROR_INVALID_NAME if pattern else ERROR_FILE_NOT_FOUND, f"{pattern!r}: not a pattern")
        entries: list[tuple[str, Node]] = []
        if directory.parent is not None:
            entries += [(".", directory), ("..", directory.parent)]
        entries += sorted(((n.name, n) for n in directory.children.values()), key=lambda e: e[0].upper())
        found = [(name, node) for name, node in entries if matches(pattern, name)]
        if not found:  # "If the function fails because no matching files can be found ... ERROR_FILE_NOT_FOUND"
            raise FsError(ERROR_FILE_NOT_FOUND, f"nothing in {directory.path()} matches {pattern!r}")
        self._fs_find_data(lpFindFileData, *found[0])
        self._last_file_search += FIND_HANDLE_STEP
        self.file_searches[self._last_file_search] = Search(found, 1)
        return self._last_file_search

    @export(*KERNEL32)
    @failing(FALSE)
    def FindNextFileW(self, hFindFile: int, lpFindFileData: int) -> int:
        search = self.file_searches.get(hFindFile)
        if search is None:
            raise FsError(ERROR_INVALID_HANDLE, f"0x{hFindFile:X} is not an open search handle")
        self._fs_disk()
        while search.given < len(search.entries):
            name, node = search.entries[search.given]
            if node.parent is not None or node is self.fs.root:  # an entry deleted since is not found
                self._fs_find_data(lpFindFileData, name, node)
                search.given += 1
                return TRUE
            search.given += 1
        # "If the function fails because no more matching files can be found ... ERROR_NO_MORE_FILES."
        raise FsError(ERROR_NO_MORE_FILES, "no more matching files")

    @export(*KERNEL32)
    @failing(FALSE)
    def FindClose(self, hFindFile: int) -> int:
        # "the handle ... cannot be used in subsequent calls to the FindNextFile ... or FindClose functions"
        if self.file_searches.pop(hFindFile, None) is None:
            raise FsError(ERROR_INVALID_HANDLE, f"0x{hFindFile:X} is not an open search handle")
        return TRUE

    # -- paths ------------------------------------------------------------------------------------
    def _fs_give_path(self, path: str, nBufferLength: int, lpBuffer: int) -> int:
        """The GetFullPathName/GetTempPath convention: the length without the NUL when the buffer holds the
        path, else "the size ... of the buffer that is required to hold the path and the terminating null
        character"."""
        if (nBufferLength & 0xFFFFFFFF) < len(path) + 1:
            return len(path) + 1
        self.memory.write(lpBuffer, (path + "\0").encode("utf-16-le"))
        return len(path)

    @export(*KERNEL32)
    @failing(0)
    def GetFullPathNameW(self, lpFileName: int, nBufferLength: int, lpBuffer: int, lpFilePart: int) -> int:
        name = self._fs_name(lpFileName)
        if not name:  # no name to merge with the current directory ("fails for any other reason")
            raise FsError(ERROR_INVALID_NAME, "no file name")
        path = self._fs_disk().full(name)  # "does not verify that the resulting path and file name are valid"
        length = self._fs_give_path(path, nBufferLength, lpBuffer)
        if length == len(path) and lpFilePart:
            # "the address (within lpBuffer) of the final file name component"; zero for a directory
            self.memory.write_u64(lpFilePart, 0 if path.endswith("\\") else lpBuffer + 2 * (path.rfind("\\") + 1))
        return length

    @export(*KERNEL32)
    @failing(0)
    def GetTempPathW(self, nBufferLength: int, lpBuffer: int) -> int:
        # "checks for the existence of environment variables in the following order": TMP, TEMP, USERPROFILE,
        # then the Windows directory; "does not verify that the path exists". It ends with a backslash.
        environment = getattr(self, "environment", {})
        candidates = [next((v for k, v in environment.items() if k.upper() == variable), "")
                      for variable in ("TMP", "TEMP", "USERPROFILE")]
        for value in [c for c in candidates if c] + [WINDOWS]:
            path = self._fs_disk().full(value).rstrip("\\") + "\\"
            if len(path) <= MAX_PATH:  # "The maximum possible return value is MAX_PATH+1 (261)."
                break
        return self._fs_give_path(path, nBufferLength, lpBuffer)

    @export(*KERNEL32)
    @failing(0)
    def GetTempFileNameW(self, lpPathName: int, lpPrefixString: int, uUnique: int, lpTempFileName: int) -> int:
        if not lpPathName or not lpPrefixString or not lpTempFileName:
            # lpPathName: "If this parameter is NULL, the function fails."
            raise FsError(ERROR_INVALID_PARAMETER, "a NULL argument")
        folder = self.memory.read_wstr(lpPathName)
        prefix = self.memory.read_wstr(lpPrefixString)[:3]  # "up to the first three characters"
        if len(folder) > MAX_PATH - 14:  # ERROR_BUFFER_OVERFLOW: "more than MAX_PATH–14 characters"
            raise FsError(ERROR_BUFFER_OVERFLOW, f"lpPathName has {len(folder)} characters")
        disk = self._fs_disk()
        base = disk.full(folder).rstrip("\\") + "\\"
        unique = uUnique & 0xFFFF  # "Only the lower 16 bits of the uUnique parameter are used."
        if unique:  # "the function does not attempt to verify the uniqueness of the file name"
            name = f"{base}{prefix}{unique:X}.TMP"  # <path>\<pre><uuuu>.TMP
        else:  # "using the current system time ... increased by one ... creates a file by that name and closes it"
            unique = (time.time_ns() // 1_000_000) & 0xFFFF or 1
            for _ in range(0xFFFF):
                name = f"{base}{prefix}{unique:X}.TMP"
                where = disk.locate(name)
                if where.node is None:
                    disk.add(where, File(name=where.name, attributes=FILE_ATTRIBUTE_ARCHIVE))
                    break
                unique = unique % 0xFFFF + 1
            else:
                raise FsError(ERROR_FILE_EXISTS, f"every name {base}{prefix}XXXX.TMP exists")
        self.memory.write(lpTempFileName, (name + "\0").encode("utf-16-le"))
        return unique
