"""The model's kernel objects and last error, against the pages' words (adapters/model/kernel32.py)."""

from __future__ import annotations

from specproof_adapters.model import ModelAdapter

from modelcalls import call, wide
from specproof_adapters.model.kernel32 import (CURRENT_PROCESS, ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE,
                                               WAIT_FAILED, WAIT_OBJECT_0, WAIT_TIMEOUT)


def test_a_handle_closed_once_is_invalid_and_says_so_in_the_last_error(model):
    event = call(model, "CreateEventW", 0, 1, 0, 0)
    assert event.value and event.last_error is None, "a call that succeeds leaves the last error alone"
    assert call(model, "CloseHandle", event.value).value == 1
    twice = call(model, "CloseHandle", event.value)
    assert (twice.value, twice.last_error) == (0, ERROR_INVALID_HANDLE)
    assert call(model, "GetLastError").value == ERROR_INVALID_HANDLE
    assert call(model, "GetLastError").last_error is None, "GetLastError itself sets nothing"
    for bad in (0, 0xDEADBEEFBAADF00D, event.value):
        assert (call(model, "SetEvent", bad).value, call(model, "SetEvent", bad).last_error) == (0, 6)
        assert call(model, "WaitForSingleObject", bad, 0).value == WAIT_FAILED


def test_events_signal_and_waits_time_out(model):
    manual = call(model, "CreateEventW", 0, 1, 0, 0).value
    assert call(model, "WaitForSingleObject", manual, 0).value == WAIT_TIMEOUT
    assert call(model, "SetEvent", manual).value == 1
    assert call(model, "WaitForSingleObject", manual, 0).value == WAIT_OBJECT_0
    assert call(model, "WaitForSingleObject", manual, 0).value == WAIT_OBJECT_0, "manual reset stays signalled"
    auto = call(model, "CreateEventW", 0, 0, 1, 0).value
    assert call(model, "WaitForSingleObject", auto, 0).value == WAIT_OBJECT_0
    assert call(model, "WaitForSingleObject", auto, 0).value == WAIT_TIMEOUT, "auto reset releases one waiter"
    hang = model.call(model.resolve("kernel32.dll", "WaitForSingleObject").address, [auto, 0xFFFFFFFF], 0.2)
    assert hang.timed_out, "INFINITE on an event nobody signals is a timeout of the call"


def test_a_named_event_that_exists_sets_error_already_exists(model):
    name = wide(model, "specproof-event")
    first = call(model, "CreateEventW", 0, 1, 0, name)
    again = call(model, "CreateEventW", 0, 1, 0, name)
    assert first.last_error is None and again.last_error == ERROR_ALREADY_EXISTS
    assert again.value != first.value, "a new handle to the existing object"
    call(model, "SetEvent", first.value)
    assert call(model, "WaitForSingleObject", again.value, 0).value == WAIT_OBJECT_0


def test_pseudo_handles_and_protected_handles(model):
    assert call(model, "GetCurrentProcess").value == CURRENT_PROCESS
    assert call(model, "CloseHandle", CURRENT_PROCESS).value == 1
    event = call(model, "CreateEventW", 0, 1, 0, 0).value
    assert call(model, "SetHandleInformation", event, 2, 2).value == 1  # HANDLE_FLAG_PROTECT_FROM_CLOSE
    flags = model.alloc(4)
    assert call(model, "GetHandleInformation", event, flags).value == 1 and model.read(flags, 4) == b"\2\0\0\0"
    refused = call(model, "CloseHandle", event)
    assert (refused.value, refused.last_error) == (0, ERROR_INVALID_HANDLE)


def ansi(model: ModelAdapter, text: str) -> int:
    block = model.alloc(len(text) + 1)
    model.write(block, text.encode() + b"\0")
    return block


def test_modules_and_procedures_the_model_has_and_names_it_does_not(model):
    secur32 = call(model, "LoadLibraryW", wide(model, "SECUR32.DLL"))
    assert secur32.value and secur32.last_error is None
    assert call(model, "GetModuleHandleW", wide(model, "secur32")).value == secur32.value
    found = call(model, "GetProcAddress", secur32.value, ansi(model, "DeleteSecurityContext"))
    assert found.value == model.resolve("secur32.dll", "DeleteSecurityContext").address
    missing = call(model, "GetProcAddress", secur32.value, ansi(model, "NoSuchProcedure"))
    assert (missing.value, missing.last_error) == (0, 127)  # ERROR_PROC_NOT_FOUND
    gone = call(model, "LoadLibraryW", wide(model, "no-such-module.dll"))
    assert (gone.value, gone.last_error) == (0, 126)  # ERROR_MOD_NOT_FOUND
    assert call(model, "GetModuleHandleW", 0).value, "NULL: the process's own image"


def test_environment_variables_and_the_buffer_size_rule(model):
    name, value = wide(model, "SPECPROOF_TEST"), wide(model, "abc")
    missing = call(model, "GetEnvironmentVariableW", name, 0, 0)
    assert (missing.value, missing.last_error) == (0, 203)  # ERROR_ENVVAR_NOT_FOUND
    assert call(model, "SetEnvironmentVariableW", name, value).value == 1
    assert call(model, "GetEnvironmentVariableW", name, 0, 0).value == 4, "too small: the size with the NUL"
    buffer = model.alloc(16)
    assert call(model, "GetEnvironmentVariableW", name, buffer, 8).value == 3
    assert model.read(buffer, 8) == "abc\0".encode("utf-16-le")
    assert call(model, "SetEnvironmentVariableW", name, 0).value == 1, "NULL deletes the variable"
    assert call(model, "GetEnvironmentVariableW", name, 0, 0).last_error == 203


def test_tls_slots_and_tls_get_value_clears_the_last_error(model):
    index = call(model, "TlsAlloc").value
    assert call(model, "TlsSetValue", index, 0x1234).value == 1
    call(model, "SetLastError", 5)
    got = call(model, "TlsGetValue", index)
    assert (got.value, got.last_error) == (0x1234, 0), "it clears the last error when it succeeds"
    assert call(model, "TlsFree", index).value == 1
    freed = call(model, "TlsGetValue", index)
    assert (freed.value, freed.last_error) == (0, 87)  # ERROR_INVALID_PARAMETER


def test_heaps_give_blocks_and_fail_as_their_pages_say(model):
    heap = call(model, "GetProcessHeap").value
    block = call(model, "HeapAlloc", heap, 8, 24)  # HEAP_ZERO_MEMORY
    assert block.value and call(model, "HeapSize", heap, 0, block.value).value == 24
    grown = call(model, "HeapReAlloc", heap, 0, block.value, 48).value
    assert grown and call(model, "HeapSize", heap, 0, grown).value == 48
    assert call(model, "HeapFree", heap, 0, grown).value == 1
    again = call(model, "HeapFree", heap, 0, grown)
    assert (again.value, again.last_error) == (0, 87)  # ERROR_INVALID_PARAMETER: not a block of the heap
    size = call(model, "HeapSize", heap, 0, grown)
    assert (size.value, size.last_error) == (0xFFFF_FFFF_FFFF_FFFF, None), "(SIZE_T)-1, no SetLastError"
    private = call(model, "HeapCreate", 0, 0, 0).value
    assert call(model, "HeapAlloc", private, 0, 8).value
    assert call(model, "HeapDestroy", private).value == 1
    assert (call(model, "HeapAlloc", private, 0, 8).value, call(model, "HeapAlloc", private, 0, 8).last_error) == \
        (0, None), "HeapAlloc on a destroyed heap fails and does not call SetLastError"
    assert call(model, "HeapDestroy", heap).value == 0, "the process heap stays"


def test_the_registry_keeps_keys_and_values_and_says_what_is_missing(model):
    def reg(name: str, *args: int) -> int:
        return model.call(model.resolve("advapi32.dll", name).address, list(args), 5).value

    hkcu, out, disposition = 0xFFFF_FFFF_8000_0001, model.alloc(8), model.alloc(4)
    path = wide(model, "Software\\Specproof\\Test")
    assert reg("RegOpenKeyExW", hkcu, path, 0, 0x20019, out) == 2  # ERROR_FILE_NOT_FOUND
    assert reg("RegCreateKeyExW", hkcu, path, 0, 0, 0, 0xF003F, 0, out, disposition) == 0
    assert model.read(disposition, 4) == b"\1\0\0\0", "REG_CREATED_NEW_KEY"
    key = int.from_bytes(model.read(out, 8), "little")
    data = model.alloc(4)
    model.write(data, b"\x2a\0\0\0")
    name = wide(model, "Answer")
    assert reg("RegSetValueExW", key, name, 0, 4, data, 4) == 0  # REG_DWORD
    kind, got, size = model.alloc(4), model.alloc(2), model.alloc(4)
    model.write(size, b"\2\0\0\0")
    assert reg("RegQueryValueExW", key, name, 0, kind, got, size) == 234, "ERROR_MORE_DATA for a small buffer"
    assert model.read(size, 4) == b"\4\0\0\0", "with the size needed"
    big = model.alloc(4)
    assert reg("RegQueryValueExW", key, name, 0, kind, big, size) == 0 and model.read(big, 4) == b"\x2a\0\0\0"
    assert reg("RegQueryValueExW", key, wide(model, "Nothing"), 0, 0, 0, 0) == 2
    assert reg("RegCloseKey", key) == 0 and reg("RegCloseKey", key) == 6, "closed: ERROR_INVALID_HANDLE"
    assert reg("RegDeleteKeyW", hkcu, wide(model, "Software\\Specproof")) == 5, "a key with subkeys stays"
    assert reg("RegDeleteKeyW", hkcu, path) == 0 and reg("RegDeleteKeyW", hkcu, path) == 2


def test_duplicate_handle_makes_another_handle_to_the_same_object(model):
    out = model.alloc(8)
    event = call(model, "CreateEventW", 0, 1, 0, 0).value
    assert call(model, "DuplicateHandle", CURRENT_PROCESS, event, CURRENT_PROCESS, out, 0, 1, 2).value == 1
    copy = int.from_bytes(model.read(out, 8), "little")  # DUPLICATE_SAME_ACCESS, inheritable
    assert copy != event and call(model, "CompareObjectHandles", event, copy).value == 1
    flags = model.alloc(4)
    assert call(model, "GetHandleInformation", copy, flags).value == 1 and model.read(flags, 4) == b"\1\0\0\0"
    assert call(model, "CloseHandle", event).value == 1
    assert call(model, "SetEvent", copy).value == 1, "the object lives on with its other handle"
    assert call(model, "WaitForSingleObject", copy, 0).value == WAIT_OBJECT_0


def test_duplicate_handle_with_other_access_and_close_source(model):
    out = model.alloc(8)
    event = call(model, "CreateEventW", 0, 1, 1, 0).value
    assert call(model, "DuplicateHandle", CURRENT_PROCESS, event, CURRENT_PROCESS, out, 0x00100000, 0, 1).value == 1
    waiter = int.from_bytes(model.read(out, 8), "little")  # SYNCHRONIZE only; DUPLICATE_CLOSE_SOURCE
    assert call(model, "CloseHandle", event).last_error == ERROR_INVALID_HANDLE, "the source was closed"
    assert call(model, "WaitForSingleObject", waiter, 0).value == WAIT_OBJECT_0
    assert call(model, "SetEvent", waiter).last_error == 5, "ERROR_ACCESS_DENIED: no EVENT_MODIFY_STATE"
    assert call(model, "DuplicateHandle", CURRENT_PROCESS, waiter, 0, 0, 0, 0, 1).value == 1, \
        "hTargetProcessHandle NULL with DUPLICATE_CLOSE_SOURCE: the source is closed"
    assert call(model, "CloseHandle", waiter).last_error == ERROR_INVALID_HANDLE
    other = call(model, "CreateEventW", 0, 1, 1, 0).value
    refused = call(model, "DuplicateHandle", 0, other, CURRENT_PROCESS, out, 0, 0, 3)
    assert (refused.value, refused.last_error) == (0, ERROR_INVALID_HANDLE), "no source process"
    assert call(model, "DuplicateHandle", CURRENT_PROCESS, other, CURRENT_PROCESS, 0, 0, 0, 2).value == 1, \
        "lpTargetHandle NULL: duplicated, not returned"
    garbage = call(model, "DuplicateHandle", CURRENT_PROCESS, other, CURRENT_PROCESS, 0xDEADBEEF000, 0, 0, 2)
    assert (garbage.value, garbage.last_error) == (0, 998), "ERROR_NOACCESS: the system writes the handle"


def test_compare_object_handles_and_pseudo_handles(model):
    out = model.alloc(8)
    assert call(model, "CompareObjectHandles", CURRENT_PROCESS, CURRENT_PROCESS).value == 1
    differ = call(model, "CompareObjectHandles", CURRENT_PROCESS, 0xFFFF_FFFF_FFFF_FFFE)
    assert (differ.value, differ.last_error) == (0, 1656), "ERROR_NOT_SAME_OBJECT"
    assert call(model, "DuplicateHandle", CURRENT_PROCESS, CURRENT_PROCESS, CURRENT_PROCESS, out, 0, 0, 2).value == 1
    real = int.from_bytes(model.read(out, 8), "little")
    assert real != CURRENT_PROCESS and call(model, "CompareObjectHandles", CURRENT_PROCESS, real).value == 1, \
        "DuplicateHandle converts the pseudo handle to a real process handle"
    bad = call(model, "CompareObjectHandles", real, 0xDEADBEEF)
    assert (bad.value, bad.last_error) == (0, ERROR_INVALID_HANDLE)


def test_close_handle_leaves_a_registry_key_open_and_says_nothing(model):
    def reg(name: str, *args: int) -> int:
        return model.call(model.resolve("advapi32.dll", name).address, list(args), 5).value

    out = model.alloc(8)
    assert reg("RegCreateKeyExW", 0xFFFF_FFFF_8000_0001, wide(model, "Software\\Specproof\\Close"), 0, 0, 0,
               0xF003F, 0, out, 0) == 0
    key = int.from_bytes(model.read(out, 8), "little")
    closed = call(model, "CloseHandle", key)
    assert (closed.value, closed.last_error) == (1, None), "does not return an error to indicate this failure"
    assert reg("RegCloseKey", key) == 0, "CloseHandle does not close the handle to the registry key"
