"""The model's threads, its process, its modules and its command line, against the processthreadsapi,
libloaderapi and processenv pages (adapters/model/threads.py, scheduler.py, kernel32_process.py)."""

from __future__ import annotations

import time

from specproof.adapter.contract import ACCESS_VIOLATION
from specproof_adapters.model import ModelAdapter

from modelcalls import call, value, wide
from specproof_adapters.model.kernel32 import (CURRENT_PROCESS, CURRENT_THREAD, ERROR_ACCESS_DENIED,
                                               ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, WAIT_OBJECT_0,
                                               WAIT_TIMEOUT)
from specproof_adapters.model.kernel32_process import (ERROR_INSUFFICIENT_BUFFER, ERROR_MOD_NOT_FOUND, IMAGE_PATH,
                                                       SYSTEM_DIRECTORY)
from specproof_adapters.model.objects import STILL_ACTIVE
from specproof_adapters.model.threads import (CREATE_SUSPENDED, ERROR_SIGNAL_REFUSED,
                                              ERROR_THREAD_MODE_ALREADY_BACKGROUND, ERROR_THREAD_MODE_NOT_BACKGROUND,
                                              MAXIMUM_SUSPEND_COUNT, THREAD_MODE_BACKGROUND_BEGIN,
                                              THREAD_MODE_BACKGROUND_END, THREAD_PRIORITY_ERROR_RETURN)

INFINITE = 0xFFFFFFFF
SYNCHRONIZE = 0x00100000
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
DUPLICATE_SAME_ACCESS = 2


def export(model: ModelAdapter, name: str) -> int:
    return model.resolve("kernel32.dll", name).address


def exit_code(model: ModelAdapter, function: str, handle: int) -> int:
    out = model.alloc(4)
    assert value(model, function, handle, out) == 1
    return int.from_bytes(model.read(out, 4), "little")


# -- threads --------------------------------------------------------------------------------------
def test_a_thread_runs_its_export_and_ends_with_its_return_value(model):
    thread_id = model.alloc(4)
    thread = value(model, "CreateThread", 0, 0, export(model, "GetCurrentThreadId"), 0, 0, thread_id)
    ident = int.from_bytes(model.read(thread_id, 4), "little")
    assert ident and ident != value(model, "GetCurrentThreadId"), "a thread of its own"
    assert value(model, "GetThreadId", thread) == ident
    assert exit_code(model, "GetExitCodeThread", thread) == STILL_ACTIVE, "it has not run yet"
    assert value(model, "WaitForSingleObject", thread, INFINITE) == WAIT_OBJECT_0, "signalled once it ends"
    assert exit_code(model, "GetExitCodeThread", thread) == ident, "the export ran on the new thread"
    assert value(model, "WaitForSingleObject", thread, 0) == WAIT_OBJECT_0, "and stays signalled"


def test_a_suspended_thread_runs_once_its_suspend_count_is_zero(model):
    event = value(model, "CreateEventW", 0, 1, 0, 0)
    thread = value(model, "CreateThread", 0, 0, export(model, "SetEvent"), event, CREATE_SUSPENDED, 0)
    assert value(model, "SuspendThread", thread) == 1, "the previous suspend count"
    value(model, "Sleep", 0)
    assert value(model, "WaitForSingleObject", event, 0) == WAIT_TIMEOUT, "a suspended thread does not run"
    assert value(model, "ResumeThread", thread) == 2
    assert value(model, "ResumeThread", thread) == 1, "1: it was suspended but was restarted"
    assert value(model, "ResumeThread", thread) == 0, "0: it was not suspended"
    value(model, "Sleep", 0)  # "relinquish the remainder of its time slice to any other thread that is ready"
    assert value(model, "WaitForSingleObject", event, 0) == WAIT_OBJECT_0
    assert exit_code(model, "GetExitCodeThread", thread) == 1, "SetEvent returned TRUE"


def test_the_suspend_count_has_a_maximum(model):
    thread = value(model, "CreateThread", 0, 0, export(model, "Sleep"), 0, CREATE_SUSPENDED, 0)
    for count in range(1, MAXIMUM_SUSPEND_COUNT):
        assert value(model, "SuspendThread", thread) == count
    refused = call(model, "SuspendThread", thread)
    assert (refused.value, refused.last_error) == (0xFFFFFFFF, ERROR_SIGNAL_REFUSED)
    assert value(model, "ResumeThread", thread) == MAXIMUM_SUSPEND_COUNT, "the count was not incremented"


def test_a_thread_has_its_own_last_error(model):
    value(model, "SetLastError", 5)
    thread = value(model, "CreateThread", 0, 0, export(model, "SetLastError"), 7, 0, 0)
    waited = call(model, "WaitForSingleObject", thread, INFINITE)
    assert (waited.value, waited.last_error) == (WAIT_OBJECT_0, None)
    assert value(model, "GetLastError") == 5


def test_a_thread_whose_function_waits_ends_when_its_wait_does(model):
    thread = value(model, "CreateThread", 0, 0, export(model, "Sleep"), 50, 0, 0)
    assert value(model, "WaitForSingleObject", thread, 0) == WAIT_TIMEOUT, "it sleeps"
    started = time.monotonic()
    assert value(model, "WaitForSingleObject", thread, 2000) == WAIT_OBJECT_0
    assert time.monotonic() - started < 1.0, "the wait ended when the thread did"
    forever = value(model, "CreateThread", 0, 0, export(model, "Sleep"), INFINITE, 0, 0)
    assert call(model, "WaitForSingleObject", forever, INFINITE, timeout=0.2).timed_out


def test_a_start_address_that_is_no_export_faults_and_ends_the_process(model):
    thread = value(model, "CreateThread", 0, 0, 0x1234, 0, 0, 0)  # "CreateThread may succeed even if ..."
    assert thread, "the start address is used only when the thread runs"
    waited = call(model, "WaitForSingleObject", thread, INFINITE)
    assert waited.fault is not None and (waited.fault.code, waited.fault.address) == (ACCESS_VIOLATION, 0x1234)
    assert exit_code(model, "GetExitCodeThread", thread) == ACCESS_VIOLATION
    assert exit_code(model, "GetExitCodeProcess", CURRENT_PROCESS) == ACCESS_VIOLATION, "an error exit"


def test_thread_priorities(model):
    assert value(model, "GetThreadPriority", CURRENT_THREAD) == 0, "THREAD_PRIORITY_NORMAL"
    assert value(model, "SetThreadPriority", CURRENT_THREAD, 0xFFFFFFFE) == 1  # THREAD_PRIORITY_LOWEST
    assert value(model, "GetThreadPriority", CURRENT_THREAD) == 0xFFFFFFFE, "an int: -2"
    wrong = call(model, "SetThreadPriority", CURRENT_THREAD, 3)  # only for REALTIME_PRIORITY_CLASS
    assert (wrong.value, wrong.last_error) == (0, ERROR_INVALID_PARAMETER)
    bad = call(model, "GetThreadPriority", 0xDEADBEEF)
    assert (bad.value, bad.last_error) == (THREAD_PRIORITY_ERROR_RETURN, ERROR_INVALID_HANDLE)


def test_background_mode_is_for_the_current_thread_and_not_twice(model):
    assert value(model, "SetThreadPriority", CURRENT_THREAD, THREAD_MODE_BACKGROUND_BEGIN) == 1
    again = call(model, "SetThreadPriority", CURRENT_THREAD, THREAD_MODE_BACKGROUND_BEGIN)
    assert (again.value, again.last_error) == (0, ERROR_THREAD_MODE_ALREADY_BACKGROUND)
    assert value(model, "SetThreadPriority", CURRENT_THREAD, THREAD_MODE_BACKGROUND_END) == 1
    ended = call(model, "SetThreadPriority", CURRENT_THREAD, THREAD_MODE_BACKGROUND_END)
    assert (ended.value, ended.last_error) == (0, ERROR_THREAD_MODE_NOT_BACKGROUND)
    other = value(model, "CreateThread", 0, 0, export(model, "Sleep"), 0, CREATE_SUSPENDED, 0)
    assert call(model, "SetThreadPriority", other, THREAD_MODE_BACKGROUND_BEGIN).last_error == ERROR_INVALID_PARAMETER


def test_a_real_handle_to_the_current_thread(model):
    out = model.alloc(8)
    assert value(model, "DuplicateHandle", CURRENT_PROCESS, CURRENT_THREAD, CURRENT_PROCESS, out, 0, 0,
                 DUPLICATE_SAME_ACCESS) == 1
    handle = int.from_bytes(model.read(out, 8), "little")
    assert handle not in (CURRENT_THREAD, 0)
    assert value(model, "GetThreadId", handle) == value(model, "GetCurrentThreadId")
    assert exit_code(model, "GetExitCodeThread", handle) == STILL_ACTIVE
    assert value(model, "WaitForSingleObject", handle, 0) == WAIT_TIMEOUT, "the running thread is not signalled"


# -- the process ------------------------------------------------------------------------------------
def test_open_process_knows_the_models_process_only(model):
    pid = value(model, "GetCurrentProcessId")
    assert value(model, "GetProcessId", CURRENT_PROCESS) == pid
    for other, error in ((0, ERROR_INVALID_PARAMETER), (4, ERROR_ACCESS_DENIED), (0x7FF0, ERROR_INVALID_PARAMETER)):
        refused = call(model, "OpenProcess", PROCESS_QUERY_LIMITED_INFORMATION, 0, other)
        assert (refused.value, refused.last_error) == (0, error)
    process = value(model, "OpenProcess", PROCESS_QUERY_LIMITED_INFORMATION, 0, pid)
    assert value(model, "GetProcessId", process) == pid
    assert exit_code(model, "GetExitCodeProcess", process) == STILL_ACTIVE
    assert value(model, "CompareObjectHandles", process, CURRENT_PROCESS) == 1
    for function, args in (("TerminateProcess", (1,)), ("WaitForSingleObject", (0,))):
        denied = call(model, function, process, *args)
        assert denied.last_error == ERROR_ACCESS_DENIED, f"{function} needs a right that was not asked for"
    waitable = value(model, "OpenProcess", SYNCHRONIZE, 0, pid)
    assert value(model, "WaitForSingleObject", waitable, 0) == WAIT_TIMEOUT, "the process runs"


def test_terminate_process_on_itself_does_not_return_and_the_model_goes_on(model):
    terminated = call(model, "TerminateProcess", CURRENT_PROCESS, 42)
    assert terminated.value is None and terminated.fault is not None and terminated.fault.code == 0, \
        "the call ends as a process that exited during it"
    assert terminated.fault.address == export(model, "TerminateProcess")
    assert exit_code(model, "GetExitCodeProcess", CURRENT_PROCESS) == 42
    assert value(model, "WaitForSingleObject", CURRENT_PROCESS, 0) == WAIT_OBJECT_0
    again = call(model, "TerminateProcess", CURRENT_PROCESS, 1)
    assert (again.value, again.last_error) == (0, ERROR_ACCESS_DENIED), "after a process has terminated"


# -- modules and the command line -----------------------------------------------------------------------
def test_get_module_file_name_truncates_as_the_page_says(model):
    kernel32 = value(model, "GetModuleHandleW", wide(model, "kernel32.dll"))
    path = SYSTEM_DIRECTORY + "kernel32.dll"
    buffer = model.alloc(2 * 64)
    assert value(model, "GetModuleFileNameW", kernel32, buffer, 64) == len(path)
    assert model.read(buffer, 2 * len(path) + 2) == path.encode("utf-16-le") + b"\0\0"
    short = call(model, "GetModuleFileNameW", kernel32, buffer, 5)
    assert (short.value, short.last_error) == (5, ERROR_INSUFFICIENT_BUFFER)
    assert model.read(buffer, 10) == path[:4].encode("utf-16-le") + b"\0\0", "nSize characters with the null"
    exact = call(model, "GetModuleFileNameW", kernel32, buffer, len(path))
    assert (exact.value, exact.last_error) == (len(path), ERROR_INSUFFICIENT_BUFFER), "no room for the null"
    empty = call(model, "GetModuleFileNameW", kernel32, 0, 0)
    assert (empty.value, empty.last_error) == (0, ERROR_INSUFFICIENT_BUFFER), "nSize 0: returns nSize, writes nothing"
    assert value(model, "GetModuleFileNameW", 0, buffer, 64) == len(IMAGE_PATH), "NULL: the executable"
    missing = call(model, "GetModuleFileNameW", 0x1000, buffer, 64)
    assert (missing.value, missing.last_error) == (0, ERROR_MOD_NOT_FOUND)


def test_get_module_handle_ex_by_name_by_address_and_its_flags(model):
    out = model.alloc(8)
    kernel32 = value(model, "GetModuleHandleW", wide(model, "kernel32.dll"))

    def module() -> int:
        return int.from_bytes(model.read(out, 8), "little")

    assert value(model, "GetModuleHandleExW", 0, wide(model, "KERNEL32"), out) == 1 and module() == kernel32
    assert value(model, "GetModuleHandleExW", 4, export(model, "Sleep"), out) == 1 and module() == kernel32, \
        "GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS: an address in the module"
    assert value(model, "GetModuleHandleExW", 0, 0, out) == 1 and module() == value(model, "GetModuleHandleW", 0)
    for flags, name, error in ((3, wide(model, "kernel32.dll"), ERROR_INVALID_PARAMETER),  # PIN | UNCHANGED
                               (0, wide(model, "kernel32."), ERROR_MOD_NOT_FOUND),  # "no extension"
                               (4, model.alloc(8), ERROR_MOD_NOT_FOUND)):
        model.write(out, b"\xff" * 8)
        refused = call(model, "GetModuleHandleExW", flags, name, out)
        assert (refused.value, refused.last_error, module()) == (0, error, 0), "phModule is NULL on failure"
    assert value(model, "DisableThreadLibraryCalls", kernel32) == 1
    assert call(model, "DisableThreadLibraryCalls", 0x1000).last_error == ERROR_MOD_NOT_FOUND


def test_the_command_line_is_one_string_the_system_keeps(model):
    first = value(model, "GetCommandLineW")
    assert first == value(model, "GetCommandLineW")
    text = f'"{IMAGE_PATH}"'
    assert model.read(first, 2 * len(text) + 2) == text.encode("utf-16-le") + b"\0\0"


def test_a_thread_that_suspends_itself_waits_for_another_to_resume_it(model):
    out = model.alloc(8)
    value(model, "DuplicateHandle", CURRENT_PROCESS, CURRENT_THREAD, CURRENT_PROCESS, out, 0, 0, DUPLICATE_SAME_ACCESS)
    main = int.from_bytes(model.read(out, 8), "little")
    value(model, "CreateThread", 0, 0, export(model, "ResumeThread"), main, 0, 0)
    assert value(model, "SuspendThread", CURRENT_THREAD) == 0, "it returns once the other thread resumed it"
    stuck = call(model, "SuspendThread", CURRENT_THREAD, timeout=0.2)
    assert stuck.timed_out, "nothing resumes it: the call never returns"
    assert value(model, "ResumeThread", CURRENT_THREAD) == 0, "the model's one thread goes on with the next call"
