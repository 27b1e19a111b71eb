"""Threads and processes, as the processthreadsapi pages describe them.

The model is one process (PROCESS_ID) whose main thread (THREAD_ID) is the
caller of every call; CreateThread adds threads, which run as scheduler.py
says. Thread and process handles are waitable: "When a thread terminates,
the thread object attains a signaled state", and so does a process.

The model's process is the only process it knows, besides the two the
OpenProcess page names (the System Idle Process, 0, and the System process,
4), so every process handle is a handle to the model's own process. Its
tests run in the same (host) process, which the model must never end:
TerminateProcess on it ("When a process terminates itself, TerminateProcess
stops execution of the calling thread and does not return") records the
exit (the process and every thread end with uExitCode, the process handle
is signalled, GetExitCodeProcess gives the code, a second TerminateProcess
fails with ERROR_ACCESS_DENIED as after any termination) and ends the call
the way a harness sees a process that exited during a call: as a fault with
code 0 at TerminateProcess (what the wine adapter reports). The model itself
goes on, so the test can still look at what it left.
"""

from __future__ import annotations

from .core import export
from .kernel32 import (ALL_ACCESS, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, FALSE, INFINITE, KERNEL32,
                       PROCESS_ID, TRUE, granted)
from .memory import ModelFault
from .objects import STILL_ACTIVE, Process, Thread
from .scheduler import Scheduler
from .structures import signed32

ERROR_SIGNAL_REFUSED = 156  # STATUS_SUSPEND_COUNT_EXCEEDED's Win32 error
ERROR_THREAD_MODE_ALREADY_BACKGROUND = 400
ERROR_THREAD_MODE_NOT_BACKGROUND = 401
CREATE_SUSPENDED = 0x00000004
STACK_SIZE_PARAM_IS_A_RESERVATION = 0x00010000
MAXIMUM_SUSPEND_COUNT = 0x7F  # MAXCHAR
THREAD_PRIORITY_ERROR_RETURN = 0x7FFFFFFF  # MAXLONG
THREAD_PRIORITY_IDLE, THREAD_PRIORITY_LOWEST, THREAD_PRIORITY_BELOW_NORMAL = -15, -2, -1
THREAD_PRIORITY_NORMAL, THREAD_PRIORITY_ABOVE_NORMAL, THREAD_PRIORITY_HIGHEST = 0, 1, 2
THREAD_PRIORITY_TIME_CRITICAL = 15
THREAD_MODE_BACKGROUND_BEGIN = 0x00010000
THREAD_MODE_BACKGROUND_END = 0x00020000
#: The values SetThreadPriority takes in a NORMAL_PRIORITY_CLASS process (the model's): -7..-3 and 3..6 are
#: only for REALTIME_PRIORITY_CLASS.
PRIORITIES = frozenset({THREAD_PRIORITY_IDLE, THREAD_PRIORITY_LOWEST, THREAD_PRIORITY_BELOW_NORMAL,
                        THREAD_PRIORITY_NORMAL, THREAD_PRIORITY_ABOVE_NORMAL, THREAD_PRIORITY_HIGHEST,
                        THREAD_PRIORITY_TIME_CRITICAL})
THREAD_SUSPEND_RESUME = 0x0002
THREAD_SET_INFORMATION = 0x0020
THREAD_QUERY_INFORMATION = 0x0040
THREAD_SET_LIMITED_INFORMATION = 0x0400
THREAD_QUERY_LIMITED_INFORMATION = 0x0800
PROCESS_TERMINATE = 0x0001
PROCESS_QUERY_INFORMATION = 0x0400
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
IDLE_PROCESS_ID, SYSTEM_PROCESS_ID = 0, 4
#: The exception code a harness reports when the process under test exits during a call.
PROCESS_EXITED = 0


class ThreadFunctions(Scheduler):
    """CreateThread and the functions on thread and process handles."""

    def _thread(self, handle: int, access: int) -> Thread | None:
        obj = self._resolve(handle, "thread", access)
        assert obj is None or isinstance(obj, Thread)
        return obj

    def _process(self, handle: int, access: int) -> Process | None:
        obj = self._resolve(handle, "process", access)
        assert obj is None or isinstance(obj, Process)
        return obj

    # -- threads ----------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CreateThread(self, lpThreadAttributes: int, dwStackSize: int, lpStartAddress: int, lpParameter: int,
                     dwCreationFlags: int, lpThreadId: int) -> int:
        """"CreateThread may succeed even if lpStartAddress points to data, code, or is not accessible":
        the start address is used when the thread runs. "The new thread handle is created with the
        THREAD_ALL_ACCESS access right"; dwStackSize changes nothing the model shows."""
        flags = self._inherit_flag(lpThreadAttributes)
        thread = self.new_thread(lpStartAddress, lpParameter, bool(dwCreationFlags & CREATE_SUSPENDED))
        handle = self._new_handle(thread, ALL_ACCESS, flags)
        if lpThreadId:  # "If this parameter is NULL, the thread identifier is not returned"
            self.memory.write_u32(lpThreadId, thread.ident)
        return handle

    @export(*KERNEL32)
    def SuspendThread(self, hThread: int) -> int:
        """"Attempting to increment past the maximum suspend count causes an error without incrementing
        the count." A thread that suspends itself stops until another thread resumes it."""
        thread = self._thread(hThread, THREAD_SUSPEND_RESUME)
        if thread is None:
            return 0xFFFFFFFF
        if thread.ended:  # NtSuspendThread: STATUS_THREAD_IS_TERMINATING
            self.diag(f"thread 0x{thread.ident:X} has ended")
            self.set_last_error(ERROR_ACCESS_DENIED)
            return 0xFFFFFFFF
        if thread.suspend_count >= MAXIMUM_SUSPEND_COUNT:
            self.diag("the suspend count is at MAXIMUM_SUSPEND_COUNT")
            self.set_last_error(ERROR_SIGNAL_REFUSED)
            return 0xFFFFFFFF
        previous = thread.suspend_count
        thread.suspend_count += 1
        if thread is self.main_thread and self._running is None:
            self._block(lambda: True, INFINITE)  # returns once another thread has resumed it
        return previous

    @export(*KERNEL32)
    def ResumeThread(self, hThread: int) -> int:
        """"If the suspend count is zero, the thread is not currently suspended. Otherwise, the subject
        thread's suspend count is decremented"; it runs at its next chance (scheduler.py)."""
        thread = self._thread(hThread, THREAD_SUSPEND_RESUME)
        if thread is None:
            return 0xFFFFFFFF
        previous = thread.suspend_count
        if previous:
            thread.suspend_count -= 1
        return previous

    @export(*KERNEL32)
    def GetExitCodeThread(self, hThread: int, lpExitCode: int) -> int:
        """"If the specified thread has not terminated and the function succeeds, the status returned is
        STILL_ACTIVE." The code is written to lpExitCode as the caller's code would: a bad pointer faults."""
        thread = self._thread(hThread, THREAD_QUERY_INFORMATION | THREAD_QUERY_LIMITED_INFORMATION)
        if thread is None:
            return FALSE
        self.memory.write_u32(lpExitCode, STILL_ACTIVE if thread.exit_code is None else thread.exit_code)
        return TRUE

    @export(*KERNEL32)
    def GetThreadId(self, Thread: int) -> int:
        """"If the function fails, the return value is zero." """
        thread = self._thread(Thread, THREAD_QUERY_INFORMATION | THREAD_QUERY_LIMITED_INFORMATION)
        return 0 if thread is None else thread.ident

    @export(*KERNEL32)
    def GetThreadPriority(self, hThread: int) -> int:
        """"If the function fails, the return value is THREAD_PRIORITY_ERROR_RETURN." (an int: 32 bits)"""
        thread = self._thread(hThread, THREAD_QUERY_INFORMATION | THREAD_QUERY_LIMITED_INFORMATION)
        return THREAD_PRIORITY_ERROR_RETURN if thread is None else thread.priority & 0xFFFFFFFF

    @export(*KERNEL32)
    def SetThreadPriority(self, hThread: int, nPriority: int) -> int:
        """The priority values the page lists; THREAD_MODE_BACKGROUND_BEGIN/END "can be specified only if
        hThread is a handle to the current thread. The function fails if the thread is already in
        background processing mode" (ERROR_THREAD_MODE_ALREADY_BACKGROUND, as the page's example has it)."""
        thread = self._thread(hThread, THREAD_SET_INFORMATION | THREAD_SET_LIMITED_INFORMATION)
        if thread is None:
            return FALSE
        priority = signed32(nPriority)
        if priority in (THREAD_MODE_BACKGROUND_BEGIN, THREAD_MODE_BACKGROUND_END):
            begin = priority == THREAD_MODE_BACKGROUND_BEGIN
            if thread is not self.current_thread():
                self.diag("background processing mode is only for the current thread")
                self.set_last_error(ERROR_INVALID_PARAMETER)
                return FALSE
            if thread.background == begin:
                self.set_last_error(ERROR_THREAD_MODE_ALREADY_BACKGROUND if begin else ERROR_THREAD_MODE_NOT_BACKGROUND)
                return FALSE
            thread.background = begin
            return TRUE
        if priority not in PRIORITIES:
            self.diag(f"{priority} is not a priority value for a NORMAL_PRIORITY_CLASS process")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        thread.priority = priority
        return TRUE

    # -- processes --------------------------------------------------------------------------------
    @export(*KERNEL32)
    def OpenProcess(self, dwDesiredAccess: int, bInheritHandle: int, dwProcessId: int) -> int:
        """"If the specified process is the System Idle Process (0x00000000), the function fails and the last
        error code is ERROR_INVALID_PARAMETER. If the specified process is the System process ..., this
        function fails and the last error code is ERROR_ACCESS_DENIED." No other process exists."""
        pid = dwProcessId & 0xFFFFFFFF
        if pid != PROCESS_ID:
            self.diag(f"process {pid} is {'not open to user-level code' if pid == SYSTEM_PROCESS_ID else 'not one'}")
            self.set_last_error(ERROR_ACCESS_DENIED if pid == SYSTEM_PROCESS_ID else ERROR_INVALID_PARAMETER)
            return 0
        return self._new_handle(self.process, granted(dwDesiredAccess), 1 if bInheritHandle & 0xFFFFFFFF else 0)

    @export(*KERNEL32)
    def GetProcessId(self, Process: int) -> int:
        process = self._process(Process, PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION)
        return 0 if process is None else process.ident

    @export(*KERNEL32)
    def GetExitCodeProcess(self, hProcess: int, lpExitCode: int) -> int:
        """"If the process has not terminated and the function succeeds, the status returned is STILL_ACTIVE".
        The code is written to lpExitCode as the caller's code would: a bad pointer faults."""
        process = self._process(hProcess, PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION)
        if process is None:
            return FALSE
        self.memory.write_u32(lpExitCode, STILL_ACTIVE if process.exit_code is None else process.exit_code)
        return TRUE

    @export(*KERNEL32)
    def TerminateProcess(self, hProcess: int, uExitCode: int) -> int:
        """"After a process has terminated, call to TerminateProcess with open handles to the process fails
        with ERROR_ACCESS_DENIED"; on the running process: see the module's docstring."""
        process = self._process(hProcess, PROCESS_TERMINATE)
        if process is None:
            return FALSE
        if process.ended:
            self.diag("the process has already terminated")
            self.set_last_error(ERROR_ACCESS_DENIED)
            return FALSE
        self._end_process(uExitCode)
        raise ModelFault(self._address_of.get("TerminateProcess", 0), PROCESS_EXITED,
                         f"the process terminated itself with exit code 0x{uExitCode & 0xFFFFFFFF:X}; "
                         f"the call does not return (the model goes on: its tests share its host process)")
