"""Files, directories and find handles, as the fileapi pages describe them.

CreateFileW opens or creates a file on the model's disk (`filesystem.py`)
and gives a handle in the kernel handle table, so CloseHandle closes it and
duplicates share its file pointer. The functions here work through such a
handle: ReadFile, WriteFile, the size and file-pointer functions,
SetEndOfFile, FlushFileBuffers, GetFileType, LockFile and UnlockFile. A
handle that is not an open file handle fails with ERROR_INVALID_HANDLE.
The functions that take names (directories, attributes, deletion, searches,
the temporary and full path names) are in `directories.py`.

I/O completes before the call returns, also on a handle opened with
FILE_FLAG_OVERLAPPED ("can also behave synchronously"): the OVERLAPPED
gives the offset and receives the status and count, and its event is set.
The caller's buffer is copied by "the system": a buffer it cannot reach
makes ReadFile and WriteFile fail with ERROR_NOACCESS, while the counts and
structures the function itself writes fault as they would in a process.
"""

from __future__ import annotations

from specproof.adapter.structs import layout

from .core import export
from .directories import INVALID_HANDLE_VALUE, DirectoryFunctions
from .filesystem import (DELETE, ERROR_ACCESS_DENIED, ERROR_DISK_FULL, ERROR_FILE_EXISTS, ERROR_FILE_NOT_FOUND,
                         ERROR_HANDLE_EOF, ERROR_INVALID_FUNCTION, ERROR_INVALID_NAME, ERROR_LOCK_VIOLATION,
                         ERROR_NEGATIVE_SEEK, ERROR_NOT_LOCKED, ERROR_PATH_NOT_FOUND, ERROR_USER_MAPPED_FILE,
                         FILE_APPEND_DATA, FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_HIDDEN, FILE_ATTRIBUTE_READONLY,
                         FILE_ATTRIBUTE_SYSTEM, FILE_READ_DATA, FILE_SHARE_DELETE, FILE_SHARE_WRITE,
                         FILE_WRITE_DATA, MAX_FILE_SIZE, MAXIMUM_ALLOWED, SETTABLE_ATTRIBUTES, SHARE_ALL, Directory,
                         File, FileObject, FsError, failing, file_rights, filetime_now, sharing_access)
from .kernel32 import (ERROR_ALREADY_EXISTS, ERROR_INVALID_PARAMETER, ERROR_NOACCESS, ERROR_SUCCESS, FALSE, KERNEL32,
                       TRUE)
from .memory import ModelFault
from .structures import signed

CREATE_NEW, CREATE_ALWAYS, OPEN_EXISTING, OPEN_ALWAYS, TRUNCATE_EXISTING = 1, 2, 3, 4, 5
WRITE_DATA = FILE_WRITE_DATA | FILE_APPEND_DATA
FILE_FLAG_OVERLAPPED = 0x40000000
FILE_FLAG_NO_BUFFERING = 0x20000000
FILE_FLAG_DELETE_ON_CLOSE = 0x04000000
FILE_FLAG_BACKUP_SEMANTICS = 0x02000000
FILE_FLAGS = 0xFFF80000  # the FILE_FLAG_* bits of dwFlagsAndAttributes
FILE_BEGIN, FILE_CURRENT, FILE_END = 0, 1, 2
FILE_TYPE_UNKNOWN, FILE_TYPE_DISK = 0x0000, 0x0001
INVALID_FILE_SIZE = 0xFFFFFFFF
INVALID_SET_FILE_POINTER = 0xFFFFFFFF
STATUS_SUCCESS, STATUS_END_OF_FILE = 0x00000000, 0xC0000011
#: The sector size a FILE_FLAG_NO_BUFFERING handle must keep its offsets and sizes aligned to.
SECTOR = 512


class FileFunctions(DirectoryFunctions):
    """The fileapi exports; methods are named exactly like the functions they model."""

    # -- opening ----------------------------------------------------------------------------------
    @export(*KERNEL32)
    @failing(INVALID_HANDLE_VALUE)
    def CreateFileW(self, lpFileName: int, dwDesiredAccess: int, dwShareMode: int, lpSecurityAttributes: int,
                    dwCreationDisposition: int, dwFlagsAndAttributes: int, hTemplateFile: int) -> int:
        name = self._fs_name(lpFileName)
        if not name:  # the page is silent; Wine fails with ERROR_PATH_NOT_FOUND
            raise FsError(ERROR_PATH_NOT_FOUND, "no file name")
        disposition, flags = dwCreationDisposition & 0xFFFFFFFF, dwFlagsAndAttributes & 0xFFFFFFFF
        desired, share = dwDesiredAccess & 0xFFFFFFFF, dwShareMode & SHARE_ALL
        if not CREATE_NEW <= disposition <= TRUNCATE_EXISTING:  # "must be one of the following values"
            raise FsError(ERROR_INVALID_PARAMETER, f"dwCreationDisposition {disposition} is not a disposition")
        rights = file_rights(desired) | (DELETE if flags & FILE_FLAG_DELETE_ON_CLOSE else 0)
        if disposition == TRUNCATE_EXISTING and not rights & FILE_WRITE_DATA:
            # "The calling process must open the file with the GENERIC_WRITE bit set"
            raise FsError(ERROR_INVALID_PARAMETER, "TRUNCATE_EXISTING without write access")
        # "The bInheritHandle member of the structure specifies whether the returned handle can be inherited."
        inherit = self._inherit_flag(lpSecurityAttributes)
        where = self._fs_where(lpFileName)
        node = where.node
        if node is not None and node.attributes & FILE_ATTRIBUTE_READONLY and desired & MAXIMUM_ALLOWED:
            rights &= ~(WRITE_DATA | DELETE)  # the most a read-only file allows
        access = sharing_access(rights)
        wanted = (flags & SETTABLE_ATTRIBUTES) | FILE_ATTRIBUTE_ARCHIVE  # NTFS marks new files for backup
        if node is not None:
            if node.delete_pending:  # "a file that is pending deletion ... GetLastError returns ERROR_ACCESS_DENIED"
                raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is to be deleted")
            if disposition == CREATE_NEW:  # "If the specified file exists, the function fails ... ERROR_FILE_EXISTS"
                raise FsError(ERROR_FILE_EXISTS, f"{where.path} exists")
            if isinstance(node, Directory):
                if not flags & FILE_FLAG_BACKUP_SEMANTICS:  # "You must set this flag to obtain a handle to a directory"
                    raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is a directory")
                if disposition not in (OPEN_EXISTING, OPEN_ALWAYS):  # "only the OPEN_EXISTING value is valid"
                    raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is a directory: it cannot be replaced")
            elif where.trailing:
                raise FsError(ERROR_INVALID_NAME, f"{where.path}: a file name ends with a separator")
            elif node.attributes & FILE_ATTRIBUTE_READONLY and (access & (FILE_SHARE_WRITE | FILE_SHARE_DELETE)
                                                                 or disposition in (CREATE_ALWAYS, TRUNCATE_EXISTING)):
                # "Applications can read the file, but cannot write to it or delete it."
                raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is read-only")
            elif disposition == CREATE_ALWAYS and node.attributes & ~wanted & (FILE_ATTRIBUTE_HIDDEN
                                                                              | FILE_ATTRIBUTE_SYSTEM):
                # "fails ... ERROR_ACCESS_DENIED if the file exists and has the FILE_ATTRIBUTE_HIDDEN or
                # FILE_ATTRIBUTE_SYSTEM attribute"
                raise FsError(ERROR_ACCESS_DENIED, f"{where.path} is hidden or system: give the same attributes")
            self.fs.check_sharing(node, access, share)
            if disposition in (CREATE_ALWAYS, TRUNCATE_EXISTING) and self._fs_mapped(node):
                raise FsError(ERROR_USER_MAPPED_FILE, f"{where.path} is mapped: it cannot be truncated")
            if isinstance(node, File) and disposition in (CREATE_ALWAYS, TRUNCATE_EXISTING):
                del node.contents[:]  # "truncates the file"
                node.written = filetime_now()
                if disposition == CREATE_ALWAYS:
                    node.attributes = wanted
            if disposition in (CREATE_ALWAYS, OPEN_ALWAYS):  # "last-error code is set to ERROR_ALREADY_EXISTS"
                self.set_last_error(ERROR_ALREADY_EXISTS)
        else:
            if disposition in (OPEN_EXISTING, TRUNCATE_EXISTING):  # "... is set to ERROR_FILE_NOT_FOUND (2)"
                raise FsError(ERROR_FILE_NOT_FOUND, f"{where.path} does not exist")
            if where.trailing:
                raise FsError(ERROR_INVALID_NAME, f"{where.path}: a file name ends with a separator")
            if hTemplateFile:  # "A valid handle to a template file with the GENERIC_READ access right. The
                # template file supplies file attributes ... for the file that is being created."
                template = self._fs_handle(hTemplateFile, FILE_READ_DATA, "read").node
                wanted = template.attributes & SETTABLE_ATTRIBUTES | FILE_ATTRIBUTE_ARCHIVE
            node = self.fs.add(where, File(name=where.name, attributes=wanted))
            if disposition in (CREATE_ALWAYS, OPEN_ALWAYS):  # "the last-error code is set to zero"
                self.set_last_error(ERROR_SUCCESS)
        obj = FileObject(node=node, opened_for=access, share=share, flags=flags & FILE_FLAGS)
        handle = self._new_handle(obj, rights, inherit)
        if flags & FILE_FLAG_DELETE_ON_CLOSE:  # "deleted immediately after all of its handles are closed"
            self.fs.delete_on_close.append(obj)
        return handle

    # -- reading and writing -------------------------------------------------------------------------
    def _fs_data(self, hFile: int, rights: int, what: str) -> tuple[FileObject, File]:
        """The open file behind a handle with one of `rights`, or the failure (a directory has no data)."""
        obj = self._fs_handle(hFile, rights, what)
        if not isinstance(obj.node, File):
            raise FsError(ERROR_INVALID_FUNCTION, "the handle is a directory's")
        return obj, obj.node

    def _fs_start(self, hFile: int, obj: FileObject, file: File, lpOverlapped: int, count: int,
                  writing: bool) -> int:
        """Where a transfer starts: "at the offset that is specified in the OVERLAPPED structure", else "at
        the current file position"."""
        if lpOverlapped:
            overlapped = layout("OVERLAPPED")
            fields = overlapped.unpack(self.memory.read(lpOverlapped, overlapped.size))
            start = fields.Offset | fields.OffsetHigh << 32
            if writing and fields.Offset == fields.OffsetHigh == 0xFFFFFFFF:
                start = file.size  # "To write to the end of file, specify both ... as 0xFFFFFFFF"
        elif obj.flags & FILE_FLAG_OVERLAPPED:  # "The lpOverlapped parameter must not be NULL"
            raise FsError(ERROR_INVALID_PARAMETER, "an asynchronous handle needs an OVERLAPPED")
        else:
            start = obj.position
        if writing and not self.access.get(hFile, 0) & FILE_WRITE_DATA:
            start = file.size  # a handle that may only append (FILE_APPEND_DATA)
        if obj.flags & FILE_FLAG_NO_BUFFERING and (start % SECTOR or count % SECTOR):
            raise FsError(ERROR_INVALID_PARAMETER, "FILE_FLAG_NO_BUFFERING transfers whole sectors")
        for other in self.fs.opened(file):  # a region locked through another handle cannot be accessed
            if other is not obj and any(start < offset + length and offset < start + count
                                        for offset, length in other.locks if length):
                raise FsError(ERROR_LOCK_VIOLATION, "the region is locked through another handle")
        return start

    def _fs_complete(self, lpOverlapped: int, status: int, count: int) -> None:
        """"The system updates the OVERLAPPED Internal and InternalHigh fields"; the event, which the call
        "resets ... to a nonsignaled state when it begins the I/O operation", "is set to a signaled state
        when the ... operation is complete" (the low bit of hEvent only keeps a completion port out)."""
        if not lpOverlapped:
            return
        overlapped = layout("OVERLAPPED")
        self.memory.write_u64(lpOverlapped + overlapped.offset("Internal"), status)
        self.memory.write_u64(lpOverlapped + overlapped.offset("InternalHigh"), count)
        event = self.handles.get(self.memory.read_u64(lpOverlapped + overlapped.offset("hEvent")) & ~1)
        if event is not None and event[0].kind == "event":
            event[0].signalled = status == STATUS_SUCCESS

    @export(*KERNEL32)
    @failing(FALSE)
    def ReadFile(self, hFile: int, lpBuffer: int, nNumberOfBytesToRead: int, lpNumberOfBytesRead: int,
                 lpOverlapped: int) -> int:
        if lpNumberOfBytesRead:  # "sets this value to zero before doing any work or error checking"
            self.memory.write_u32(lpNumberOfBytesRead, 0)
        obj, file = self._fs_data(hFile, FILE_READ_DATA, "read")  # "must have been created with read access"
        count = nNumberOfBytesToRead & 0xFFFFFFFF
        start = self._fs_start(hFile, obj, file, lpOverlapped, count, writing=False)
        if lpOverlapped and start >= file.size:
            # "If a read operation on a file begins at or beyond the end of the file, then the read operation
            # fails with the error ERROR_HANDLE_EOF." (Without an OVERLAPPED a synchronous read there reads 0.)
            self._fs_complete(lpOverlapped, STATUS_END_OF_FILE, 0)
            raise FsError(ERROR_HANDLE_EOF, f"offset {start} is at or past the end ({file.size})")
        data = bytes(file.contents[start:start + count])
        if data:
            try:
                self.memory.write(lpBuffer, data)
            except ModelFault as fault:
                raise FsError(ERROR_NOACCESS, f"the data cannot be stored in lpBuffer: {fault}") from None
        file.accessed = filetime_now()
        if not obj.flags & FILE_FLAG_OVERLAPPED:  # "the system updates the file pointer before ReadFile returns"
            obj.position = start + len(data)
        if lpNumberOfBytesRead:
            self.memory.write_u32(lpNumberOfBytesRead, len(data))
        self._fs_complete(lpOverlapped, STATUS_SUCCESS, len(data))
        return TRUE

    @export(*KERNEL32)
    @failing(FALSE)
    def WriteFile(self, hFile: int, lpBuffer: int, nNumberOfBytesToWrite: int, lpNumberOfBytesWritten: int,
                  lpOverlapped: int) -> int:
        if lpNumberOfBytesWritten:  # "WriteFile sets this value to zero before doing any work or error checking"
            self.memory.write_u32(lpNumberOfBytesWritten, 0)
        obj, file = self._fs_data(hFile, WRITE_DATA, "write")  # "must have been created with the write access"
        count = nNumberOfBytesToWrite & 0xFFFFFFFF
        start = self._fs_start(hFile, obj, file, lpOverlapped, count, writing=True)
        if count:  # zero bytes: "a null write operation ... does not truncate or extend the file"
            try:
                data = self.memory.read(lpBuffer, count)
            except ModelFault as fault:
                raise FsError(ERROR_NOACCESS, f"the data cannot be read from lpBuffer: {fault}") from None
            if start + count > MAX_FILE_SIZE:
                raise FsError(ERROR_DISK_FULL, f"the model's disk holds files of up to {MAX_FILE_SIZE} bytes")
            if start > file.size:
                file.contents.extend(bytes(start - file.size))
            file.contents[start:start + count] = data
            file.written = filetime_now()
        if not obj.flags & FILE_FLAG_OVERLAPPED:  # "the system updates the file pointer before WriteFile returns"
            obj.position = start + count
        if lpNumberOfBytesWritten:
            self.memory.write_u32(lpNumberOfBytesWritten, count)
        self._fs_complete(lpOverlapped, STATUS_SUCCESS, count)
        return TRUE

    @export(*KERNEL32)
    @failing(FALSE)
    def FlushFileBuffers(self, hFile: int) -> int:
        self._fs_handle(hFile, WRITE_DATA, "write")  # "must have the GENERIC_WRITE access right"
        return TRUE  # the model's disk has no cache: everything written is on it

    # -- size and file pointer ----------------------------------------------------------------------
    @export(*KERNEL32)
    @failing(INVALID_FILE_SIZE)
    def GetFileSize(self, hFile: int, lpFileSizeHigh: int) -> int:
        size = self._fs_handle(hFile).node.size
        if lpFileSizeHigh:  # "puts the high-order doubleword of the file size into the variable"
            self.memory.write_u32(lpFileSizeHigh, size >> 32)
        if size & 0xFFFFFFFF == INVALID_FILE_SIZE:  # "GetLastError will return NO_ERROR (0) upon success"
            self.set_last_error(ERROR_SUCCESS)
        return size & 0xFFFFFFFF

    @export(*KERNEL32)
    @failing(FALSE)
    def GetFileSizeEx(self, hFile: int, lpFileSize: int) -> int:
        size = self._fs_handle(hFile).node.size
        self.memory.write(lpFileSize, layout("LARGE_INTEGER").pack(QuadPart=size))
        return TRUE

    def _fs_seek(self, hFile: int, distance: int, method: int, fits_32: bool) -> int:
        obj = self._fs_handle(hFile)
        bases = {FILE_BEGIN: 0, FILE_CURRENT: obj.position, FILE_END: obj.node.size}
        if method & 0xFFFFFFFF not in bases:
            raise FsError(ERROR_INVALID_PARAMETER, f"dwMoveMethod {method & 0xFFFFFFFF} is not a move method")
        new = bases[method & 0xFFFFFFFF] + distance
        if new < 0:  # "the function fails, the file pointer is not moved, and ... ERROR_NEGATIVE_SEEK"
            raise FsError(ERROR_NEGATIVE_SEEK, f"the new file pointer would be {new}")
        if fits_32 and new >> 32:  # "does not fit in a 32-bit value, the function fails"
            raise FsError(ERROR_INVALID_PARAMETER, f"the new file pointer 0x{new:X} needs lpDistanceToMoveHigh")
        if obj.flags & FILE_FLAG_NO_BUFFERING and new % SECTOR:  # "only to sector-aligned positions"
            raise FsError(ERROR_INVALID_PARAMETER, f"{new} is not sector-aligned")
        obj.position = new  # "it is not an error to set a file pointer to a position beyond the end of the file"
        return new

    @export(*KERNEL32)
    @failing(INVALID_SET_FILE_POINTER)
    def SetFilePointer(self, hFile: int, lDistanceToMove: int, lpDistanceToMoveHigh: int, dwMoveMethod: int) -> int:
        if lpDistanceToMoveHigh:  # "lpDistanceToMoveHigh and lDistanceToMove form a single 64-bit signed value"
            distance = signed(self.memory.read_u32(lpDistanceToMoveHigh) << 32 | lDistanceToMove & 0xFFFFFFFF, 64)
        else:  # "If lpDistanceToMoveHigh is NULL, lDistanceToMove is a 32-bit signed value."
            distance = signed(lDistanceToMove, 32)
        new = self._fs_seek(hFile, distance, dwMoveMethod, fits_32=not lpDistanceToMoveHigh)
        if lpDistanceToMoveHigh:  # "receives the high order DWORD of the new value of the file pointer"
            self.memory.write_u32(lpDistanceToMoveHigh, new >> 32)
        if new & 0xFFFFFFFF == INVALID_SET_FILE_POINTER:  # success that looks like failure: NO_ERROR
            self.set_last_error(ERROR_SUCCESS)
        return new & 0xFFFFFFFF

    @export(*KERNEL32)
    @failing(FALSE)
    def SetFilePointerEx(self, hFile: int, liDistanceToMove: int, lpNewFilePointer: int, dwMoveMethod: int) -> int:
        # The LARGE_INTEGER comes by value, in a register: its QuadPart is the signed distance.
        new = self._fs_seek(hFile, signed(liDistanceToMove, 64), dwMoveMethod, fits_32=False)
        if lpNewFilePointer:  # "If this parameter is NULL, the new file pointer is not returned."
            self.memory.write(lpNewFilePointer, layout("LARGE_INTEGER").pack(QuadPart=new))
        return TRUE

    @export(*KERNEL32)
    @failing(FALSE)
    def SetEndOfFile(self, hFile: int) -> int:
        obj, file = self._fs_data(hFile, FILE_WRITE_DATA, "write")  # "GENERIC_WRITE access right"
        end = obj.position  # "sets the file size" to the file pointer
        if self._fs_mapped(file):  # "UnmapViewOfFile must be called first ... before you can call SetEndOfFile"
            raise FsError(ERROR_USER_MAPPED_FILE, "the file is mapped")
        if end > MAX_FILE_SIZE:
            raise FsError(ERROR_DISK_FULL, f"the model's disk holds files of up to {MAX_FILE_SIZE} bytes")
        if end < file.size:
            del file.contents[end:]
        else:  # "the contents of the file between the old end of the file and the new end ... are not defined"
            file.contents.extend(bytes(end - file.size))
        file.written = filetime_now()
        return TRUE

    @export(*KERNEL32)
    @failing(FILE_TYPE_UNKNOWN)
    def GetFileType(self, hFile: int) -> int:
        self._fs_handle(hFile)  # an error: "GetLastError will return the error code"
        return FILE_TYPE_DISK  # "The specified file is a disk file."

    # -- locks ----------------------------------------------------------------------------------------
    @export(*KERNEL32)
    @failing(FALSE)
    def LockFile(self, hFile: int, dwFileOffsetLow: int, dwFileOffsetHigh: int, nNumberOfBytesToLockLow: int,
                 nNumberOfBytesToLockHigh: int) -> int:
        obj, file = self._fs_data(hFile, FILE_READ_DATA | WRITE_DATA, "read or write")
        offset = (dwFileOffsetHigh & 0xFFFFFFFF) << 32 | dwFileOffsetLow & 0xFFFFFFFF
        length = (nNumberOfBytesToLockHigh & 0xFFFFFFFF) << 32 | nNumberOfBytesToLockLow & 0xFFFFFFFF
        for other in self.fs.opened(file):  # "Exclusive locks cannot overlap an existing locked region"
            if length and any(offset < o + n and o < offset + length for o, n in other.locks if n):
                raise FsError(ERROR_LOCK_VIOLATION, "the region overlaps a locked region")  # "returns zero immediately"
        obj.locks.append((offset, length))  # "You can lock bytes that are beyond the end of the current file."
        return TRUE

    @export(*KERNEL32)
    @failing(FALSE)
    def UnlockFile(self, hFile: int, dwFileOffsetLow: int, dwFileOffsetHigh: int, nNumberOfBytesToUnlockLow: int,
                   nNumberOfBytesToUnlockHigh: int) -> int:
        obj, _ = self._fs_data(hFile, 0, "")
        region = ((dwFileOffsetHigh & 0xFFFFFFFF) << 32 | dwFileOffsetLow & 0xFFFFFFFF,
                  (nNumberOfBytesToUnlockHigh & 0xFFFFFFFF) << 32 | nNumberOfBytesToUnlockLow & 0xFFFFFFFF)
        if region not in obj.locks:  # "The region to unlock must correspond exactly to an existing locked region."
            raise FsError(ERROR_NOT_LOCKED, f"no region {region} is locked through this handle")
        obj.locks.remove(region)
        return TRUE
