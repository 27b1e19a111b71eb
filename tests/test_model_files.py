"""The model's files, directories and searches, against the fileapi pages' words (adapters/model/files.py,
directories.py, filesystem.py)."""

from __future__ import annotations

from specproof.adapter.contract import CallResult
from specproof.adapter.structs import layout
from specproof_adapters.model import ModelAdapter

from modelcalls import call, wide

ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE = 2, 3, 5, 6
ERROR_INVALID_FUNCTION, ERROR_NO_MORE_FILES, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION = 1, 18, 32, 33
ERROR_HANDLE_EOF, ERROR_FILE_EXISTS, ERROR_INVALID_PARAMETER, ERROR_BUFFER_OVERFLOW = 38, 80, 87, 111
ERROR_NEGATIVE_SEEK, ERROR_DIR_NOT_EMPTY, ERROR_NOT_LOCKED, ERROR_ALREADY_EXISTS = 131, 145, 158, 183
ERROR_DIRECTORY, ERROR_NOACCESS = 267, 998
GENERIC_READ, GENERIC_WRITE = 0x80000000, 0x40000000
SHARE_ALL = 0x7  # FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
CREATE_NEW, CREATE_ALWAYS, OPEN_EXISTING, OPEN_ALWAYS, TRUNCATE_EXISTING = 1, 2, 3, 4, 5
FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_NORMAL = 0x1, 0x10, 0x80
FILE_FLAG_OVERLAPPED, FILE_FLAG_DELETE_ON_CLOSE, FILE_FLAG_BACKUP_SEMANTICS = 0x40000000, 0x04000000, 0x02000000
FILE_BEGIN, FILE_CURRENT, FILE_END = 0, 1, 2
INVALID_HANDLE_VALUE = 0xFFFF_FFFF_FFFF_FFFF
TEMP = "C:\\users\\specproof\\Temp\\"


def text_at(model: ModelAdapter, address: int, chars: int) -> str:
    return model.read(address, 2 * chars).decode("utf-16-le")


def create(model: ModelAdapter, path: str, disposition: int = CREATE_NEW, access: int = GENERIC_READ | GENERIC_WRITE,
           share: int = SHARE_ALL, flags: int = FILE_ATTRIBUTE_NORMAL) -> CallResult:
    return call(model, "CreateFileW", wide(model, path), access, share, 0, disposition, flags, 0)


def write(model: ModelAdapter, handle: int, data: bytes, overlapped: int = 0) -> CallResult:
    buffer, count = model.alloc(max(len(data), 1)), model.alloc(4)
    model.write(buffer, data)
    return call(model, "WriteFile", handle, buffer, len(data), count, overlapped)


def read(model: ModelAdapter, handle: int, size: int, overlapped: int = 0) -> tuple[CallResult, bytes]:
    buffer, count = model.alloc(size), model.alloc(4)
    returned = call(model, "ReadFile", handle, buffer, size, count, overlapped)
    return returned, model.read(buffer, int.from_bytes(model.read(count, 4), "little"))


def overlapped(model: ModelAdapter, offset: int, event: int = 0) -> int:
    block = model.alloc(layout("OVERLAPPED").size)
    model.write(block, layout("OVERLAPPED").pack(Offset=offset & 0xFFFFFFFF, OffsetHigh=offset >> 32, hEvent=event))
    return block


def failed(result: CallResult, value: int, error: int) -> bool:
    return (result.value, result.last_error) == (value, error)


def test_a_file_is_created_written_read_sized_and_deleted(model):
    path = TEMP + "notes.txt"
    handle = create(model, path)
    assert handle.value not in (0, INVALID_HANDLE_VALUE) and handle.last_error is None
    written = write(model, handle.value, b"hello, world")
    assert written.value == 1
    high = model.alloc(4)
    assert call(model, "GetFileSize", handle.value, high).value == 12 and model.read(high, 4) == bytes(4)
    size = model.alloc(8)
    assert call(model, "GetFileSizeEx", handle.value, size).value == 1
    assert layout("LARGE_INTEGER").unpack(model.read(size, 8)).QuadPart == 12
    assert call(model, "SetFilePointer", handle.value, 0, 0, FILE_BEGIN).value == 0
    got, data = read(model, handle.value, 5)
    assert got.value == 1 and data == b"hello", "a read starts at the file pointer"
    got, data = read(model, handle.value, 100)
    assert got.value == 1 and data == b", world", "a read past the end reads what there is"
    got, data = read(model, handle.value, 100)
    assert got.value == 1 and data == b"", "a synchronous read at the end reads nothing"
    moved = model.alloc(8)
    assert call(model, "SetFilePointerEx", handle.value, 5, moved, FILE_BEGIN).value == 1
    assert layout("LARGE_INTEGER").unpack(model.read(moved, 8)).QuadPart == 5
    assert call(model, "SetEndOfFile", handle.value).value == 1, "\"sets the file size\" at the pointer"
    assert call(model, "GetFileSize", handle.value, 0).value == 5
    assert call(model, "FlushFileBuffers", handle.value).value == 1
    assert call(model, "GetFileType", handle.value).value == 1  # FILE_TYPE_DISK
    assert call(model, "CloseHandle", handle.value).value == 1, "a file handle is a kernel handle"
    assert failed(call(model, "CloseHandle", handle.value), 0, ERROR_INVALID_HANDLE)
    assert failed(read(model, handle.value, 1)[0], 0, ERROR_INVALID_HANDLE)
    again = create(model, path.upper(), OPEN_EXISTING)
    assert again.value != INVALID_HANDLE_VALUE, "names are found without regard to case"
    assert read(model, again.value, 10)[1] == b"hello"
    call(model, "CloseHandle", again.value)
    assert call(model, "DeleteFileW", wide(model, path)).value == 1
    assert failed(call(model, "GetFileAttributesW", wide(model, path)), 0xFFFFFFFF, ERROR_FILE_NOT_FOUND)
    assert failed(call(model, "DeleteFileW", wide(model, path)), 0, ERROR_FILE_NOT_FOUND)


def test_creation_dispositions_and_their_last_errors(model):
    path = TEMP + "d.txt"
    assert failed(create(model, path, OPEN_EXISTING), INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND)
    assert failed(create(model, path, TRUNCATE_EXISTING), INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND)
    made = create(model, path, OPEN_ALWAYS)
    assert made.value != INVALID_HANDLE_VALUE and made.last_error == 0, "created: \"set to zero\""
    write(model, made.value, b"12345")
    assert failed(create(model, path, CREATE_NEW), INVALID_HANDLE_VALUE, ERROR_FILE_EXISTS)
    opened = create(model, path, OPEN_ALWAYS)
    assert opened.value != INVALID_HANDLE_VALUE and opened.last_error == ERROR_ALREADY_EXISTS
    assert call(model, "GetFileSize", opened.value, 0).value == 5, "OPEN_ALWAYS keeps the contents"
    replaced = create(model, path, CREATE_ALWAYS)
    assert replaced.value != INVALID_HANDLE_VALUE and replaced.last_error == ERROR_ALREADY_EXISTS
    assert call(model, "GetFileSize", made.value, 0).value == 0, "CREATE_ALWAYS truncates the file"
    fresh = create(model, TEMP + "e.txt", CREATE_ALWAYS)
    assert fresh.value != INVALID_HANDLE_VALUE and fresh.last_error == 0
    assert failed(create(model, path, TRUNCATE_EXISTING, access=GENERIC_READ), INVALID_HANDLE_VALUE,
                  ERROR_INVALID_PARAMETER), "TRUNCATE_EXISTING needs GENERIC_WRITE"
    assert failed(create(model, TEMP + "no-dir\\x.txt", CREATE_NEW), INVALID_HANDLE_VALUE, ERROR_PATH_NOT_FOUND)
    assert failed(create(model, path, 9), INVALID_HANDLE_VALUE, ERROR_INVALID_PARAMETER)
    assert failed(create(model, "Q:\\x.txt", CREATE_NEW), INVALID_HANDLE_VALUE, ERROR_PATH_NOT_FOUND)


def test_sharing_modes_decide_who_else_may_open_or_delete(model):
    path = TEMP + "shared.txt"
    alone = create(model, path, share=0).value
    assert failed(create(model, path, OPEN_EXISTING), INVALID_HANDLE_VALUE, ERROR_SHARING_VIOLATION)
    metadata = create(model, path, OPEN_EXISTING, access=0).value
    assert metadata != INVALID_HANDLE_VALUE, "no data access: no part in sharing"
    assert failed(call(model, "DeleteFileW", wide(model, path)), 0, ERROR_SHARING_VIOLATION)
    call(model, "CloseHandle", alone)
    kept = create(model, path, OPEN_EXISTING, share=SHARE_ALL).value
    assert call(model, "DeleteFileW", wide(model, path)).value == 1, "FILE_SHARE_DELETE lets it be deleted"
    assert call(model, "GetFileAttributesW", wide(model, path)).value != 0xFFFFFFFF, "\"deletion on close\""
    assert failed(create(model, path, OPEN_EXISTING), INVALID_HANDLE_VALUE, ERROR_ACCESS_DENIED)
    call(model, "CloseHandle", kept)
    assert call(model, "GetFileAttributesW", wide(model, path)).value != 0xFFFFFFFF, "a handle is still open"
    call(model, "CloseHandle", metadata)
    assert failed(call(model, "GetFileAttributesW", wide(model, path)), 0xFFFFFFFF, ERROR_FILE_NOT_FOUND), \
        "\"the file deletion does not occur until the last handle to the file is closed\""
    doomed = create(model, TEMP + "doc.txt", flags=FILE_FLAG_DELETE_ON_CLOSE).value
    assert call(model, "GetFileAttributesW", wide(model, TEMP + "doc.txt")).value != 0xFFFFFFFF
    call(model, "CloseHandle", doomed)
    assert call(model, "GetFileAttributesW", wide(model, TEMP + "doc.txt")).last_error == ERROR_FILE_NOT_FOUND


def test_attributes_and_read_only_files(model):
    path = wide(model, TEMP + "ro.txt")
    call(model, "CloseHandle", create(model, TEMP + "ro.txt").value)
    assert call(model, "GetFileAttributesW", path).value & FILE_ATTRIBUTE_DIRECTORY == 0
    assert call(model, "SetFileAttributesW", path, FILE_ATTRIBUTE_READONLY).value == 1
    assert call(model, "GetFileAttributesW", path).value == FILE_ATTRIBUTE_READONLY
    assert failed(call(model, "DeleteFileW", path), 0, ERROR_ACCESS_DENIED), "read-only: ERROR_ACCESS_DENIED"
    assert failed(create(model, TEMP + "ro.txt", OPEN_EXISTING), INVALID_HANDLE_VALUE, ERROR_ACCESS_DENIED)
    assert create(model, TEMP + "ro.txt", OPEN_EXISTING, access=GENERIC_READ).value != INVALID_HANDLE_VALUE
    assert call(model, "SetFileAttributesW", path, FILE_ATTRIBUTE_NORMAL).value == 1
    assert call(model, "GetFileAttributesW", path).value == FILE_ATTRIBUTE_NORMAL, "valid only when used alone"
    assert call(model, "GetFileAttributesW", wide(model, TEMP)).value == FILE_ATTRIBUTE_DIRECTORY
    assert failed(call(model, "SetFileAttributesW", wide(model, TEMP + "none"), 0), 0, ERROR_FILE_NOT_FOUND)


def test_directories_are_made_and_removed_only_when_empty(model):
    folder = TEMP + "Folder"
    assert call(model, "CreateDirectoryW", wide(model, folder), 0).value == 1
    assert failed(call(model, "CreateDirectoryW", wide(model, folder), 0), 0, ERROR_ALREADY_EXISTS)
    assert failed(call(model, "CreateDirectoryW", wide(model, TEMP + "a\\b"), 0), 0, ERROR_PATH_NOT_FOUND), \
        "\"this function will only create the final directory in the path\""
    call(model, "CloseHandle", create(model, folder + "\\inside.txt").value)
    assert failed(call(model, "RemoveDirectoryW", wide(model, folder)), 0, ERROR_DIR_NOT_EMPTY)
    assert failed(call(model, "RemoveDirectoryW", wide(model, folder + "\\inside.txt")), 0, ERROR_DIRECTORY)
    assert failed(call(model, "DeleteFileW", wide(model, folder)), 0, ERROR_ACCESS_DENIED)
    assert failed(create(model, folder, OPEN_EXISTING), INVALID_HANDLE_VALUE, ERROR_ACCESS_DENIED)
    directory = create(model, folder, OPEN_EXISTING, flags=FILE_FLAG_BACKUP_SEMANTICS)
    assert directory.value != INVALID_HANDLE_VALUE, "FILE_FLAG_BACKUP_SEMANTICS opens a directory"
    assert failed(read(model, directory.value, 4)[0], 0, ERROR_INVALID_FUNCTION)
    call(model, "CloseHandle", directory.value)
    assert call(model, "DeleteFileW", wide(model, folder + "\\inside.txt")).value == 1
    assert call(model, "RemoveDirectoryW", wide(model, folder)).value == 1
    assert failed(call(model, "RemoveDirectoryW", wide(model, folder)), 0, ERROR_FILE_NOT_FOUND)


def test_a_search_lists_a_directory_and_ends_with_no_more_files(model):
    folder = TEMP + "listing"
    call(model, "CreateDirectoryW", wide(model, folder), 0)
    call(model, "CreateDirectoryW", wide(model, folder + "\\Sub"), 0)
    for name, data in (("b.txt", b"bb"), ("A.txt", b"a"), ("c.log", b"")):
        handle = create(model, folder + "\\" + name).value
        write(model, handle, data)
        call(model, "CloseHandle", handle)
    found_layout = layout("WIN32_FIND_DATAW")
    data = model.alloc(found_layout.size)
    search = call(model, "FindFirstFileW", wide(model, folder + "\\*"), data)
    assert search.value not in (0, INVALID_HANDLE_VALUE)
    seen = []
    while True:
        entry = found_layout.unpack(model.read(data, found_layout.size))
        seen.append((entry.string("cFileName"), entry.nFileSizeLow, entry.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        step = call(model, "FindNextFileW", search.value, data)
        if not step.value:
            assert step.last_error == ERROR_NO_MORE_FILES
            break
    assert seen == [(".", 0, 0x10), ("..", 0, 0x10), ("A.txt", 1, 0), ("b.txt", 2, 0), ("c.log", 0, 0),
                    ("Sub", 0, 0x10)]
    assert failed(call(model, "CloseHandle", search.value), 0, ERROR_INVALID_HANDLE), "FindClose, not CloseHandle"
    assert call(model, "FindClose", search.value).value == 1
    assert failed(call(model, "FindClose", search.value), 0, ERROR_INVALID_HANDLE)
    assert failed(call(model, "FindNextFileW", search.value, data), 0, ERROR_INVALID_HANDLE)
    texts = call(model, "FindFirstFileW", wide(model, folder + "\\*.TXT"), data)
    assert found_layout.unpack(model.read(data, found_layout.size)).string("cFileName") == "A.txt"
    assert call(model, "FindNextFileW", texts.value, data).value == 1
    assert call(model, "FindNextFileW", texts.value, data).last_error == ERROR_NO_MORE_FILES
    itself = call(model, "FindFirstFileW", wide(model, folder), data)
    assert itself.value != INVALID_HANDLE_VALUE, "a directory's own path: information about the directory"
    assert found_layout.unpack(model.read(data, found_layout.size)).string("cFileName") == "listing"
    assert failed(call(model, "FindFirstFileW", wide(model, folder + "\\"), data), INVALID_HANDLE_VALUE,
                  ERROR_FILE_NOT_FOUND), "\"a trailing backslash always fails\""
    assert failed(call(model, "FindFirstFileW", wide(model, folder + "\\*.doc"), data), INVALID_HANDLE_VALUE,
                  ERROR_FILE_NOT_FOUND)
    assert failed(call(model, "FindFirstFileW", wide(model, TEMP + "nowhere\\*"), data), INVALID_HANDLE_VALUE,
                  ERROR_PATH_NOT_FOUND)


def test_the_file_pointer_moves_and_fails_as_documented(model):
    handle = create(model, TEMP + "p.bin").value
    write(model, handle, b"0123456789")
    high = model.alloc(4)
    assert call(model, "SetFilePointer", handle, 0xFFFFFFFC, 0, FILE_END).value == 6, "a negative distance"
    assert failed(call(model, "SetFilePointer", handle, 0xFFFFFFF0, 0, FILE_CURRENT), 0xFFFFFFFF,
                  ERROR_NEGATIVE_SEEK)
    assert call(model, "SetFilePointer", handle, 0, 0, FILE_CURRENT).value == 6, "the pointer is not moved"
    assert call(model, "SetFilePointer", handle, 20, 0, FILE_BEGIN).value == 20, "beyond the end is no error"
    assert call(model, "GetFileSize", handle, 0).value == 10, "the size does not increase until a write"
    write(model, handle, b"!")
    call(model, "SetFilePointer", handle, 0, 0, FILE_BEGIN)
    assert read(model, handle, 64)[1] == b"0123456789" + bytes(10) + b"!"
    model.write(high, b"\0\0\0\0")
    moved = call(model, "SetFilePointer", handle, 0xFFFFFFFF, high, FILE_BEGIN)
    assert (moved.value, moved.last_error) == (0xFFFFFFFF, 0), "INVALID_SET_FILE_POINTER that succeeded: NO_ERROR"
    assert failed(call(model, "SetFilePointer", handle, 0x7FFFFFFF, 0, FILE_CURRENT), 0xFFFFFFFF,
                  ERROR_INVALID_PARAMETER), "without lpDistanceToMoveHigh the position must fit in 32 bits"
    assert failed(call(model, "SetFilePointerEx", handle, 0, 0, 7), 0, ERROR_INVALID_PARAMETER)


def test_overlapped_offsets_end_of_file_and_events(model):
    handle = create(model, TEMP + "o.bin").value
    write(model, handle, b"abc")
    assert write(model, handle, b"def", overlapped(model, 0xFFFFFFFF_FFFFFFFF)).value == 1, "0xFFFFFFFF: append"
    event = call(model, "CreateEventW", 0, 1, 0, 0).value
    block = overlapped(model, 2, event)
    got, data = read(model, handle, 3, block)
    assert got.value == 1 and data == b"cde"
    fields = layout("OVERLAPPED").unpack(model.read(block, layout("OVERLAPPED").size))
    assert (fields.Internal, fields.InternalHigh) == (0, 3)
    assert call(model, "WaitForSingleObject", event, 0).value == 0, "the event is set when the read completes"
    assert failed(read(model, handle, 3, overlapped(model, 6))[0], 0, ERROR_HANDLE_EOF)
    asynchronous = create(model, TEMP + "o.bin", OPEN_EXISTING, flags=FILE_FLAG_OVERLAPPED).value
    assert failed(read(model, asynchronous, 3)[0], 0, ERROR_INVALID_PARAMETER), "lpOverlapped must not be NULL"
    assert read(model, asynchronous, 3, overlapped(model, 0))[1] == b"abc"


def test_locked_regions_are_exclusive_to_their_handle(model):
    first = create(model, TEMP + "l.bin").value
    write(model, first, bytes(100))
    second = create(model, TEMP + "l.bin", OPEN_EXISTING).value
    assert call(model, "LockFile", first, 10, 0, 10, 0).value == 1
    assert failed(call(model, "LockFile", second, 15, 0, 10, 0), 0, ERROR_LOCK_VIOLATION)
    assert failed(read(model, second, 20, overlapped(model, 5))[0], 0, ERROR_LOCK_VIOLATION)
    assert read(model, first, 20, overlapped(model, 5))[0].value == 1, "the locking handle may access it"
    assert read(model, second, 5, overlapped(model, 0))[0].value == 1, "outside the region"
    assert failed(call(model, "UnlockFile", first, 10, 0, 5, 0), 0, ERROR_NOT_LOCKED), "must correspond exactly"
    assert call(model, "UnlockFile", first, 10, 0, 10, 0).value == 1
    assert read(model, second, 20, overlapped(model, 5))[0].value == 1
    call(model, "LockFile", first, 0, 0, 1, 0)
    call(model, "CloseHandle", first)
    assert call(model, "LockFile", second, 0, 0, 1, 0).value == 1, "closing a file unlocks its regions"


def test_paths_temporary_names_and_full_names(model):
    buffer = model.alloc(2 * 261)
    length = call(model, "GetTempPathW", 261, buffer).value
    assert text_at(model, buffer, length + 1) == TEMP + "\0", "ends with a backslash"
    assert call(model, "GetTempPathW", 0, 0).value == len(TEMP) + 1, "the size needed, with the NUL"
    call(model, "SetEnvironmentVariableW", wide(model, "TMP"), wide(model, "C:\\elsewhere"))
    assert call(model, "GetTempPathW", 261, buffer).value == len("C:\\elsewhere\\"), "TMP comes first"
    name = model.alloc(2 * 260)
    made = call(model, "GetTempFileNameW", wide(model, TEMP), wide(model, "spec"), 0, name)
    assert 0 < made.value <= 0xFFFF
    created = text_at(model, name, len(TEMP) + 12).split("\0")[0]
    assert created == f"{TEMP}spe{made.value:X}.TMP", "<path>\\<pre><uuuu>.TMP"
    assert call(model, "GetFileAttributesW", wide(model, created)).value != 0xFFFFFFFF, "uUnique 0: it is made"
    assert call(model, "GetTempFileNameW", wide(model, TEMP), wide(model, "x"), 0x1ABCD, name).value == 0xABCD
    given = text_at(model, name, len(TEMP) + 10).split("\0")[0]
    assert given == TEMP + "xABCD.TMP"
    assert call(model, "GetFileAttributesW", wide(model, given)).last_error == ERROR_FILE_NOT_FOUND, "only a name"
    assert failed(call(model, "GetTempFileNameW", wide(model, "C:\\" + "d" * 250), wide(model, "x"), 1, name), 0,
                  ERROR_BUFFER_OVERFLOW)
    part = model.alloc(8)
    full = call(model, "GetFullPathNameW", wide(model, "a\\..\\b.txt"), 261, buffer, part).value
    assert text_at(model, buffer, full) == "C:\\users\\specproof\\b.txt", "relative to the current directory"
    assert int.from_bytes(model.read(part, 8), "little") == buffer + 2 * full - 2 * len("b.txt")
    assert call(model, "GetFullPathNameW", wide(model, "b.txt"), 4, buffer, part).value == full + 1
    assert call(model, "GetFullPathNameW", wide(model, "C:/x/y/"), 261, buffer, part).value == len("C:\\x\\y\\")
    assert int.from_bytes(model.read(part, 8), "little") == 0, "a directory: lpFilePart receives zero"


def test_what_the_system_copies_fails_and_what_the_function_writes_faults(model):
    handle = create(model, TEMP + "n.bin").value
    write(model, handle, b"data")
    call(model, "SetFilePointer", handle, 0, 0, FILE_BEGIN)
    count = model.alloc(4)
    model.write(count, b"\xff\xff\xff\xff")
    refused = call(model, "ReadFile", handle, 0, 4, count, 0)
    assert failed(refused, 0, ERROR_NOACCESS) and model.read(count, 4) == bytes(4)
    assert failed(call(model, "WriteFile", handle, 0, 4, count, 0), 0, ERROR_NOACCESS)
    model.write(count, b"\xff\xff\xff\xff")
    assert failed(call(model, "ReadFile", 0, 0, 4, count, 0), 0, ERROR_INVALID_HANDLE)
    assert model.read(count, 4) == bytes(4), "\"sets this value to zero before doing any work or error checking\""
    fault = call(model, "GetFileSizeEx", handle, 0)
    assert fault.fault is not None and fault.fault.address == 0
    assert failed(call(model, "GetFileSizeEx", 0, 0), 0, ERROR_INVALID_HANDLE)
    event = call(model, "CreateEventW", 0, 1, 0, 0).value
    assert failed(call(model, "GetFileType", event), 0, ERROR_INVALID_HANDLE), "not a file: FILE_TYPE_UNKNOWN"
    assert failed(call(model, "CreateFileW", 0, GENERIC_READ, 0, 0, OPEN_EXISTING, 0, 0), INVALID_HANDLE_VALUE,
                  ERROR_PATH_NOT_FOUND)
    assert failed(call(model, "GetTempFileNameW", 0, 0, 0, 0), 0, ERROR_INVALID_PARAMETER), \
        "\"If this parameter is NULL, the function fails.\""


def test_a_handle_has_the_rights_it_was_opened_with_and_duplicates_share_the_pointer(model):
    path = TEMP + "r.txt"
    writer = create(model, path).value
    write(model, writer, b"abcdef")
    reader = create(model, path, OPEN_EXISTING, access=GENERIC_READ).value
    assert failed(write(model, reader, b"x"), 0, ERROR_ACCESS_DENIED), "it must have \"the write access\""
    assert failed(call(model, "FlushFileBuffers", reader), 0, ERROR_ACCESS_DENIED)
    assert failed(call(model, "SetEndOfFile", reader), 0, ERROR_ACCESS_DENIED)
    assert call(model, "WaitForSingleObject", reader, 0).value == 0, "a file handle is signalled: no I/O pending"
    copy = model.alloc(8)
    process = call(model, "GetCurrentProcess").value
    assert call(model, "DuplicateHandle", process, reader, process, copy, 0, 0, 2).value == 1  # DUPLICATE_SAME_ACCESS
    duplicate = int.from_bytes(model.read(copy, 8), "little")
    assert read(model, reader, 2)[1] == b"ab"
    assert read(model, duplicate, 2)[1] == b"cd", "a duplicate shares the file pointer"
    assert failed(write(model, duplicate, b"x"), 0, ERROR_ACCESS_DENIED), "and the rights"


def test_a_mapped_file_cannot_be_deleted_or_cut(model):
    path = TEMP + "mapped.bin"
    handle = create(model, path).value
    write(model, handle, b"mapped bytes")
    mapping = call(model, "CreateFileMappingW", handle, 0, 0x04, 0, 0, 0).value  # PAGE_READWRITE
    assert mapping
    # DeleteFile "fails if an application attempts to delete a file that has other handles open for normal I/O
    # or as a memory-mapped file"
    assert failed(call(model, "DeleteFileW", wide(model, path)), 0, ERROR_ACCESS_DENIED)
    assert failed(call(model, "SetEndOfFile", handle), 0, 1224)  # ERROR_USER_MAPPED_FILE
    call(model, "CloseHandle", mapping)
    assert call(model, "SetEndOfFile", handle).value == 1
