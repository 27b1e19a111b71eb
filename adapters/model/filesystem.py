"""The model's disk: one volume, C:, as a tree of directories and files, with the open files on it.

The fileapi pages describe a file system the functions share: names that
are found without regard to case (as NTFS finds them), directories that must exist before
anything is made in them, files with contents, attributes and times, and
open handles whose sharing modes decide who else may open a file. This
module holds that state and the rules that do not touch the caller's
memory; the exports (`files.py`, `directories.py`) read and write the
caller's arguments and turn a refusal (`FsError`) into the failure value
and last error their pages give.

The disk starts with C:\\, C:\\users\\specproof (the profile and current
directory), its Temp folder, and C:\\windows\\system32. It holds no file
bigger than `MAX_FILE_SIZE`, so that a huge seek-and-write fails as a full
disk would instead of eating the host's memory.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from .kernel32 import ERROR_INVALID_HANDLE, KernelObject, Kernel32Functions

F = TypeVar("F", bound=Callable[..., int])

# Error codes, as winerror.h defines them.
ERROR_INVALID_FUNCTION = 1
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_NO_MORE_FILES = 18
ERROR_SHARING_VIOLATION = 32
ERROR_LOCK_VIOLATION = 33
ERROR_HANDLE_EOF = 38
ERROR_BAD_NETPATH = 53
ERROR_FILE_EXISTS = 80
ERROR_BUFFER_OVERFLOW = 111
ERROR_DISK_FULL = 112
ERROR_INVALID_NAME = 123
ERROR_NEGATIVE_SEEK = 131
ERROR_DIR_NOT_EMPTY = 145
ERROR_NOT_LOCKED = 158
ERROR_DIRECTORY = 267
ERROR_USER_MAPPED_FILE = 1224

# Attributes (winnt.h) and the ones SetFileAttributes may set (its page's table).
FILE_ATTRIBUTE_READONLY = 0x1
FILE_ATTRIBUTE_HIDDEN = 0x2
FILE_ATTRIBUTE_SYSTEM = 0x4
FILE_ATTRIBUTE_DIRECTORY = 0x10
FILE_ATTRIBUTE_ARCHIVE = 0x20
FILE_ATTRIBUTE_NORMAL = 0x80
FILE_ATTRIBUTE_TEMPORARY = 0x100
FILE_ATTRIBUTE_OFFLINE = 0x1000
FILE_ATTRIBUTE_NOT_CONTENT_INDEXED = 0x2000
SETTABLE_ATTRIBUTES = (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE
                       | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)

# The sharing modes (FILE_SHARE_*), which are also the bits of the access a sharing check compares.
FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_SHARE_DELETE = 0x1, 0x2, 0x4
SHARE_ALL = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE

# Access rights (winnt.h).
GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL = 0x80000000, 0x40000000, 0x20000000, 0x10000000
MAXIMUM_ALLOWED = 0x02000000
FILE_READ_DATA, FILE_WRITE_DATA, FILE_APPEND_DATA, FILE_EXECUTE = 0x0001, 0x0002, 0x0004, 0x0020
DELETE = 0x00010000
FILE_GENERIC_READ = 0x00120089
FILE_GENERIC_WRITE = 0x00120116
FILE_GENERIC_EXECUTE = 0x001200A0
FILE_ALL_ACCESS = 0x001F01FF

MAX_PATH = 260
MAX_COMPONENT = 255
#: The largest file the model's disk holds (the model's largest memory block).
MAX_FILE_SIZE = 256 * 1024 * 1024
#: FILETIME of 1970-01-01: 100-ns intervals since 1601.
UNIX_EPOCH_FILETIME = 116444736000000000
#: Characters no name may contain (the wildcards are allowed only in a search pattern).
INVALID_NAME_CHARACTERS = frozenset('<>:"/\\|?*') | frozenset(chr(c) for c in range(32))

DRIVE = "C:"
PROFILE = "C:\\users\\specproof"
TEMP = PROFILE + "\\Temp"
WINDOWS = "C:\\windows"
SYSTEM32 = WINDOWS + "\\system32"


class FsError(Exception):
    """A file system refusal: the last error a function sets (`code`) and a diagnostic (`why`)."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = code
        self.why = why


def filetime_now() -> int:
    return UNIX_EPOCH_FILETIME + time.time_ns() // 100


@dataclass(eq=False)
class Node:
    """A directory entry; `name` keeps the spelling it was created with."""

    name: str
    attributes: int
    parent: Directory | None = None
    created: int = field(default_factory=filetime_now)
    accessed: int = 0
    written: int = 0
    delete_pending: bool = False

    def __post_init__(self) -> None:
        self.accessed = self.accessed or self.created
        self.written = self.written or self.created

    @property
    def size(self) -> int:
        return 0

    def path(self) -> str:
        if self.parent is None:
            return self.name + "\\"
        return self.parent.path().rstrip("\\") + "\\" + self.name

    def reported_attributes(self) -> int:
        """FILE_ATTRIBUTE_NORMAL "does not have other attributes set", so a file with none reports it."""
        return self.attributes or FILE_ATTRIBUTE_NORMAL


@dataclass(eq=False)
class File(Node):
    """A file's data; other modules (file mappings) share `contents` itself, so it is changed in place."""

    contents: bytearray = field(default_factory=bytearray)

    @property
    def size(self) -> int:
        return len(self.contents)


@dataclass(eq=False)
class Directory(Node):
    children: dict[str, Node] = field(default_factory=dict)  # by upper-case name

    def child(self, name: str) -> Node | None:
        return self.children.get(name.upper())


@dataclass(eq=False)
class FileObject(KernelObject):
    """What a handle from CreateFileW refers to: the file, the access and sharing it was opened with, its
    file pointer and the byte ranges locked through it. Duplicated handles share one object, as they share
    the file pointer. It is a kernel object in the handle table, so CloseHandle closes it; the rights are
    the handle's (the table's `access`)."""

    kind: str = "file"
    signalled: bool = True  # no I/O is ever pending: waiting on a file handle returns at once
    node: Node | None = None
    opened_for: int = 0  # the access a sharing check compares, as FILE_SHARE_* bits
    share: int = 0
    flags: int = 0  # dwFlagsAndAttributes's FILE_FLAG_* bits
    position: int = 0
    locks: list[tuple[int, int]] = field(default_factory=list)  # (offset, length)

    @property
    def contents(self) -> bytearray | None:
        """The file's bytes (None for a directory), which a file mapping maps."""
        return self.node.contents if isinstance(self.node, File) else None


@dataclass
class Where:
    """Where a path leads: the directory that holds (or would hold) its last name, and the entry there."""

    parent: Directory | None  # None for the root
    name: str
    node: Node | None
    trailing: bool  # the path ended with a separator
    path: str


def is_valid_name(name: str, pattern: bool = False) -> bool:
    bad = INVALID_NAME_CHARACTERS - ({"*", "?"} if pattern else set())
    return 0 < len(name) <= MAX_COMPONENT and not any(c in bad for c in name)


def full_path(name: str, current: str) -> str:
    """GetFullPathName's merge "of the current drive and directory with a specified file name".

    Forward slashes are backslashes; "." and ".." are resolved (never above
    the root); trailing dots and spaces leave the last name; a trailing
    separator stays. "\\\\?\\" and "\\\\.\\" names are taken as they are.
    """
    text = name.replace("/", "\\")
    if text.startswith(("\\\\?\\", "\\\\.\\")):
        return text
    if text.startswith("\\\\"):  # \\server\share\...
        pieces = text[2:].split("\\", 2)
        root, base, rest = "\\\\" + "\\".join(pieces[:2]), [], pieces[2] if len(pieces) > 2 else ""
    elif len(text) >= 2 and text[1] == ":" and text[0].isalpha():
        root, rest = text[:2], text[2:]
        relative = not rest.startswith("\\") and root.upper() == current[:2].upper()
        base = current[3:].split("\\") if relative else []
    elif text.startswith("\\"):
        root, base, rest = current[:2], [], text
    else:
        root, base, rest = current[:2], current[3:].split("\\"), text
    parts: list[str] = []
    for part in [p for p in base if p] + rest.split("\\"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    trailing = rest.endswith("\\") and bool(parts)
    if parts and not trailing and rest.split("\\")[-1] not in (".", ".."):
        parts[-1] = parts[-1].rstrip(" .")
        if not parts[-1]:
            parts.pop()
    if root.startswith("\\\\"):
        return root + "".join("\\" + p for p in parts) + ("\\" if trailing else "")
    return root + "\\" + "\\".join(parts) + ("\\" if trailing else "")


def matches(pattern: str, name: str) -> bool:
    """A name against a search pattern's `*` and `?`, without regard to case ("*.*" matches every name,
    "x.*" also "x", and a pattern ending in "." names without an extension)."""
    pattern, name = pattern.upper(), name.upper()
    if pattern in ("*", "*.*"):
        return True

    def plain(p: str) -> bool:
        return re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p),
                            name, re.DOTALL) is not None

    if plain(pattern):
        return True
    if pattern.endswith(".*") and plain(pattern[:-2]):
        return True
    return pattern.endswith(".") and "." not in name and name not in ("", ".") and plain(pattern.rstrip("."))


def file_rights(desired: int) -> int:
    """The file access rights a handle opened for `desired` has: the generic rights mapped as the file
    objects map them (FILE_GENERIC_READ ...), MAXIMUM_ALLOWED as every file right (the model keeps no
    security descriptors), the specific rights as asked."""
    desired &= 0xFFFFFFFF
    rights = desired & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED)
    for generic, mapped in ((GENERIC_READ, FILE_GENERIC_READ), (GENERIC_WRITE, FILE_GENERIC_WRITE),
                            (GENERIC_EXECUTE, FILE_GENERIC_EXECUTE), (GENERIC_ALL | MAXIMUM_ALLOWED, FILE_ALL_ACCESS)):
        if desired & generic:
            rights |= mapped
    return rights


def sharing_access(rights: int) -> int:
    """The access a sharing check compares (read, write, delete, as FILE_SHARE_* bits)."""
    return ((FILE_SHARE_READ if rights & (FILE_READ_DATA | FILE_EXECUTE) else 0)
            | (FILE_SHARE_WRITE if rights & (FILE_WRITE_DATA | FILE_APPEND_DATA) else 0)
            | (FILE_SHARE_DELETE if rights & DELETE else 0))


class FileSystem:
    """The volume C:, the process's current directory, and the file objects open on it."""

    def __init__(self) -> None:
        self.root = Directory(name=DRIVE, attributes=FILE_ATTRIBUTE_DIRECTORY)
        self.current_directory = PROFILE
        #: The file objects some handle refers to, as the handle table says at the start of each call.
        self.live: list[FileObject] = []
        #: Objects opened with FILE_FLAG_DELETE_ON_CLOSE whose file goes once the object is closed.
        self.delete_on_close: list[FileObject] = []
        for path in (TEMP, SYSTEM32):
            self.make_directories(path)

    def make_directories(self, path: str) -> None:
        directory = self.root
        for part in path[3:].split("\\"):
            found = directory.child(part)
            if not isinstance(found, Directory):
                found = Directory(name=part, attributes=FILE_ATTRIBUTE_DIRECTORY, parent=directory)
                directory.children[part.upper()] = found
            directory = found

    # -- open files -----------------------------------------------------------------------------
    def settle(self, live: list[FileObject]) -> None:
        """Catch up with the handles closed since the last call: "the file deletion does not occur until
        the last handle to the file is closed" (DeleteFile); FILE_FLAG_DELETE_ON_CLOSE files go "after all
        of its handles are closed"."""
        self.live = live
        for obj in list(self.delete_on_close):
            if all(o is not obj for o in live):
                self.delete_on_close = [o for o in self.delete_on_close if o is not obj]
                if obj.node is not None:
                    obj.node.delete_pending = True
        self._reap(self.root)

    def _reap(self, directory: Directory) -> None:
        for key, node in list(directory.children.items()):
            if isinstance(node, Directory):
                self._reap(node)
            if node.delete_pending and not self.opened(node):
                del directory.children[key]
                node.parent = None

    def opened(self, node: Node) -> list[FileObject]:
        return [o for o in self.live if o.node is node]

    def check_sharing(self, node: Node, access: int, share: int) -> None:
        """"You cannot request a sharing mode that conflicts with the access mode that is specified in an
        existing request that has an open handle", nor an access the open handles do not share. Opens
        that ask for no data access ("query certain metadata") take no part."""
        if not access:
            return
        for other in self.opened(node):
            if other.opened_for and (access & ~other.share or other.opened_for & ~share):
                raise FsError(ERROR_SHARING_VIOLATION, f"{node.path()} is open for 0x{other.opened_for:X} "
                                                       f"sharing 0x{other.share:X}")

    # -- names ------------------------------------------------------------------------------------
    def full(self, name: str) -> str:
        return full_path(name, self.current_directory)

    def locate(self, name: str, missing_name: int = ERROR_PATH_NOT_FOUND) -> Where:
        """The entry a path names. An empty name fails with `missing_name`; an intermediate directory that
        does not exist with ERROR_PATH_NOT_FOUND; other volumes, network shares and devices do not exist."""
        if not name:
            raise FsError(missing_name, "no file name")
        full = self.full(name)
        if full.startswith("\\\\?\\"):  # the name as it is: no "." / ".." processing
            full = full[4:]
            if full.upper().startswith("UNC\\"):
                full = "\\" + full[3:]
        if full.startswith("\\\\.\\"):
            raise FsError(ERROR_FILE_NOT_FOUND, f"{full}: the model has no devices")
        if full.startswith("\\\\"):
            raise FsError(ERROR_BAD_NETPATH, f"{full}: the model has no network")
        if full[:2].upper() != DRIVE or full[2:3] != "\\":
            raise FsError(ERROR_PATH_NOT_FOUND, f"{full}: the model has only the volume {DRIVE}")
        trailing = full.endswith("\\") and len(full) > 3
        parts = [p for p in full[3:].split("\\") if p]
        if not parts:
            return Where(None, "", self.root, trailing, full)
        directory = self.root
        for part in parts[:-1]:
            found = directory.child(part)
            if not isinstance(found, Directory):
                raise FsError(ERROR_PATH_NOT_FOUND, f"{full}: {part!r} is not a directory in {directory.path()}")
            directory = found
        return Where(directory, parts[-1], directory.child(parts[-1]), trailing, full)

    # -- entries ----------------------------------------------------------------------------------
    def add(self, where: Where, node: Node) -> Node:
        if where.parent is None or not is_valid_name(where.name):
            raise FsError(ERROR_INVALID_NAME, f"{where.path}: not a valid name")
        if where.parent.delete_pending:
            raise FsError(ERROR_ACCESS_DENIED, f"{where.parent.path()} is to be deleted")
        node.parent = where.parent
        where.parent.children[where.name.upper()] = node
        return node

    def remove(self, node: Node) -> None:
        """Delete now if nothing has it open, else mark it: "marks a file for deletion on close"."""
        node.delete_pending = True
        self._reap(node.parent or self.root)


def failing(value: int) -> Callable[[F], F]:
    """An export that fails the Win32 way: an `FsError` becomes `value`, with its code as the last error."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def run(self: FileSystemFunctions, *args: int) -> int:
            try:
                return method(self, *args)
            except FsError as error:
                self.diag(error.why)
                self.set_last_error(error.code)
                return value

        return run  # type: ignore[return-value]

    return wrap


class FileSystemFunctions(Kernel32Functions):
    """What the fileapi exports share: the disk, the names they are given, and the file handles."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.fs = FileSystem()
        # GetTempPath reads TMP, TEMP and USERPROFILE, which a logged-on user's environment has.
        environment = getattr(self, "environment", None)
        if isinstance(environment, dict):
            for variable, value in (("TMP", TEMP), ("TEMP", TEMP), ("USERPROFILE", PROFILE)):
                if not any(k.upper() == variable for k in environment):
                    environment[variable] = value

    def _fs_disk(self) -> FileSystem:
        """The disk, once the handles closed since the last call have had their effect."""
        live: list[FileObject] = []
        for obj, _ in self.handles.values():
            if isinstance(obj, FileObject) and all(o is not obj for o in live):
                live.append(obj)
        self.fs.settle(live)
        return self.fs

    def _fs_name(self, address: int) -> str:
        """A path argument; NULL reads as no name (each function's page, or Wine, says how it fails)."""
        return self.memory.read_wstr(address) if address else ""

    def _fs_where(self, address: int, missing_name: int = ERROR_PATH_NOT_FOUND) -> Where:
        return self._fs_disk().locate(self._fs_name(address), missing_name)

    def _fs_mapped(self, node: Node) -> bool:
        """Whether a file mapping object or a view of one (mapping.py) holds the file's bytes."""
        if not isinstance(node, File):
            return False
        stores = [getattr(obj, "store", None) for obj, _ in self.handles.values()]
        regions = getattr(self.memory, "regions", None)
        if callable(regions):
            stores += [getattr(region, "store", None) for region in regions()]
        return any(getattr(store, "contents", None) is node.contents for store in stores)

    def _fs_handle(self, handle: int, rights: int = 0, what: str = "") -> FileObject:
        """The file object behind a handle from CreateFileW, or ERROR_INVALID_HANDLE; with `rights`, the
        handle must have one of them ("must have been created with ... access"), else ERROR_ACCESS_DENIED."""
        self._fs_disk()
        entry = self.handles.get(handle)
        if entry is None or not isinstance(entry[0], FileObject):
            raise FsError(ERROR_INVALID_HANDLE, f"handle 0x{handle:X} is not an open file handle")
        if rights and not self.access.get(handle, FILE_ALL_ACCESS) & rights:
            raise FsError(ERROR_ACCESS_DENIED, f"handle 0x{handle:X} was not opened with {what} access")
        return entry[0]
