"""Kernel objects and the thread's last error, as the handleapi, synchapi and errhandlingapi pages describe them.

The Win32 error model: a function fails by a failure value of its return
(FALSE, NULL, WAIT_FAILED) and says why in the calling thread's last
error, which it sets with SetLastError; a function that succeeds leaves the
last error alone unless its page says otherwise (CreateEventW sets
ERROR_ALREADY_EXISTS when a named event existed before the call).

Handles, their flags and access rights, the pseudo handles and named
objects are the handle table's (handles.py); what a satisfied wait does to
each kind of object is objects.py's.

Waiting: the model has one real thread. The threads CreateThread makes run
while the calling thread waits (`_block`; scheduler.py), and a wait that
nothing can end passes the time it was given, or hangs when it is INFINITE.
"""

from __future__ import annotations

import math
import time
from typing import Callable, TypeVar

from .core import CallTimedOut, export
from .handles import (ALL_ACCESS, CURRENT_PROCESS, CURRENT_THREAD, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS,
                      ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER,
                      ERROR_NOACCESS, ERROR_NOT_OWNER, ERROR_NOT_SAME_OBJECT, ERROR_SUCCESS, EVENT_MODIFY_STATE,
                      FALSE, HANDLE_FLAG_INHERIT, HANDLE_FLAG_PROTECT_FROM_CLOSE, INFINITE, PROCESS_DUP_HANDLE,
                      PROCESS_ID, SYNCHRONIZE, THREAD_ID, TRUE, WAIT_ABANDONED_0, WAIT_FAILED, WAIT_OBJECT_0,
                      WAIT_TIMEOUT, HandleTable, granted)
from .objects import KernelObject, Mutex, satisfy

__all__ = ["ALL_ACCESS", "CURRENT_PROCESS", "CURRENT_THREAD", "ERROR_ACCESS_DENIED", "ERROR_ALREADY_EXISTS",
           "ERROR_INVALID_HANDLE", "ERROR_INVALID_PARAMETER", "ERROR_NOACCESS", "ERROR_NOT_OWNER",
           "ERROR_NOT_SAME_OBJECT", "ERROR_SUCCESS", "FALSE", "HANDLE_FLAG_INHERIT", "HANDLE_FLAG_PROTECT_FROM_CLOSE",
           "INFINITE", "KERNEL32", "PROCESS_ID", "THREAD_ID", "TRUE", "WAIT_ABANDONED_0", "WAIT_FAILED",
           "WAIT_OBJECT_0", "WAIT_TIMEOUT", "Kernel32Functions", "KernelObject", "granted"]

KERNEL32 = ("kernel32.dll", "kernelbase.dll")
T = TypeVar("T")


class Kernel32Functions(HandleTable):
    """The kernel32 exports the model knows; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self._started = time.monotonic()

    # -- waiting --------------------------------------------------------------------------------
    def _let_threads_run(self) -> None:
        """Run the created threads that are ready (scheduler.py); nothing here, where there are none."""

    def _next_wake(self) -> float | None:
        """When the earliest timed wait of a created thread ends (time.monotonic()), or None."""
        return None

    def _block(self, attempt: Callable[[], T | None], milliseconds: int) -> T | None:
        """Wait as the calling thread would: until `attempt` gives a result, or `milliseconds` pass (None).

        The other threads run while the caller waits; when none of them can
        change anything before the time is up, the wait passes the rest of its
        time (an INFINITE one hangs: the call times out). A caller that another
        thread suspended meanwhile goes on only once it is resumed.
        """
        forever = (milliseconds & 0xFFFFFFFF) == INFINITE
        until = math.inf if forever else time.monotonic() + (milliseconds & 0xFFFFFFFF) / 1000
        while True:
            self._let_threads_run()
            suspended = self.current_thread().suspend_count > 0
            if not suspended:
                result = attempt()
                if result is not None:
                    return result
            now, wake, end = time.monotonic(), self._next_wake(), math.inf if suspended else until
            if wake is not None and wake < end:
                self.wait(math.ceil(max(0.0, wake - now) * 1000))
                continue
            try:
                self.wait(INFINITE if end == math.inf else math.ceil(max(0.0, until - now) * 1000))
            except CallTimedOut:
                if suspended:  # the caller gives up on the call; the model's one thread must run the next one
                    self.current_thread().suspend_count = 0
                raise
            return None

    def _waitable(self, handle: int) -> KernelObject | None:
        """The object a wait function may wait on ("The handle must have the SYNCHRONIZE access right")."""
        obj = self._resolve(handle, access=SYNCHRONIZE)
        if obj is not None and not getattr(obj, "waitable", False):
            self.diag(f"handle 0x{handle:X} is not a handle to an object the wait functions accept")
            self.set_last_error(ERROR_INVALID_HANDLE)
            return None
        return obj

    def _wait_on(self, objects: list[KernelObject], wait_all: bool, milliseconds: int) -> int:
        """WAIT_OBJECT_0 + n, WAIT_ABANDONED_0 + n or WAIT_TIMEOUT, for a wait on `objects`."""
        thread = self.current_thread().ident
        hit = self._block(lambda: satisfy(objects, wait_all, thread), milliseconds)
        if hit is None:
            return WAIT_TIMEOUT
        index, abandoned = hit
        return (WAIT_ABANDONED_0 if abandoned else WAIT_OBJECT_0) + index

    # -- the last error ---------------------------------------------------------------------
    @export(*KERNEL32)
    def GetLastError(self) -> int:
        """"The return value is the calling thread's last-error code." It sets none itself."""
        return self.thread_last_error

    @export(*KERNEL32)
    def SetLastError(self, dwErrCode: int) -> None:
        self.set_last_error(dwErrCode)

    # -- handles ------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CloseHandle(self, hObject: int) -> int:
        """A registry key: "CloseHandle does not close the handle to the registry key, but does not return an
        error to indicate this failure" (the model's open keys are registry.py's `open_keys`)."""
        if hObject in (CURRENT_PROCESS, CURRENT_THREAD):
            return TRUE  # closing a pseudo handle has no effect
        if hObject not in self.handles and hObject in getattr(self, "open_keys", {}):
            self.diag(f"0x{hObject:X} is a registry key handle: it stays open")
            return TRUE
        if self._object(hObject) is None:  # sets ERROR_INVALID_HANDLE
            return FALSE
        if not self._close(hObject):
            self.set_last_error(ERROR_INVALID_HANDLE)
            return FALSE
        return TRUE

    @export(*KERNEL32)
    def GetHandleInformation(self, hObject: int, lpdwFlags: int) -> int:
        if self._object(hObject) is None:
            return FALSE
        if not lpdwFlags:  # the system writes through the pointer on the caller's behalf and reports the fault
            self.diag("lpdwFlags is NULL")
            self.set_last_error(ERROR_NOACCESS)
            return FALSE
        self.memory.write_u32(lpdwFlags, self.handles[hObject][1])
        return TRUE

    @export(*KERNEL32)
    def SetHandleInformation(self, hObject: int, dwMask: int, dwFlags: int) -> int:
        obj = self._object(hObject)
        if obj is None:
            return FALSE
        mask = dwMask & (HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE)
        flags = self.handles[hObject][1]
        self.handles[hObject] = (obj, (flags & ~mask) | (dwFlags & mask))
        return TRUE

    @export(*KERNEL32)
    def DuplicateHandle(self, hSourceProcessHandle: int, hSourceHandle: int, hTargetProcessHandle: int,
                        lpTargetHandle: int, dwDesiredAccess: int, bInheritHandle: int, dwOptions: int) -> int:
        """Within the model's one process: the source and the target process are handles to it.

        DUPLICATE_CLOSE_SOURCE "Closes the source handle. This occurs regardless of any error status
        returned"; hTargetProcessHandle "can be specified as NULL if the DUPLICATE_CLOSE_SOURCE flag is
        set"; a pseudo handle becomes "a real handle to a process or thread"; lpTargetHandle NULL
        "duplicates the handle, but does not return the duplicate handle value".
        """
        if self._resolve(hSourceProcessHandle, "process", PROCESS_DUP_HANDLE) is None:
            return FALSE
        source = self._resolve(hSourceHandle)
        source_access = self.access.get(hSourceHandle, ALL_ACCESS)
        close = dwOptions & DUPLICATE_CLOSE_SOURCE and hSourceHandle in self.handles
        if close:
            self._close(hSourceHandle)
        if source is None:
            return FALSE
        if not hTargetProcessHandle and close:
            return TRUE  # the way to close a handle in another process: nothing is duplicated
        if self._resolve(hTargetProcessHandle, "process", PROCESS_DUP_HANDLE) is None:
            return FALSE
        access = source_access if dwOptions & DUPLICATE_SAME_ACCESS else granted(dwDesiredAccess)
        handle = self._new_handle(source, access, HANDLE_FLAG_INHERIT if bInheritHandle & 0xFFFFFFFF else 0)
        if lpTargetHandle and not self._system_write(lpTargetHandle, handle.to_bytes(8, "little")):
            self._close(handle)
            return FALSE
        return TRUE

    @export(*KERNEL32)
    def CompareObjectHandles(self, hFirstObjectHandle: int, hSecondObjectHandle: int) -> int:
        """"TRUE if the same, otherwise FALSE"; different objects "indicate a last error status of
        ERROR_NOT_SAME_OBJECT" (the page's example). No access right is needed."""
        first, second = self._resolve(hFirstObjectHandle), self._resolve(hSecondObjectHandle)
        if first is None or second is None:
            return FALSE
        if first is not second:
            self.set_last_error(ERROR_NOT_SAME_OBJECT)
            return FALSE
        return TRUE

    # -- events -------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CreateEventW(self, lpEventAttributes: int, bManualReset: int, bInitialState: int, lpName: int) -> int:
        return self._create("event", lpEventAttributes, lpName, lambda name: KernelObject(
            "event", signalled=bool(bInitialState & 0xFFFFFFFF), manual_reset=bool(bManualReset & 0xFFFFFFFF),
            name=name))

    @export(*KERNEL32)
    def SetEvent(self, hEvent: int) -> int:
        obj = self._object(hEvent, "event", EVENT_MODIFY_STATE)
        if obj is None:
            return FALSE
        obj.signalled = True
        return TRUE

    @export(*KERNEL32)
    def ResetEvent(self, hEvent: int) -> int:
        obj = self._object(hEvent, "event", EVENT_MODIFY_STATE)
        if obj is None:
            return FALSE
        obj.signalled = False
        return TRUE

    # -- mutexes ------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CreateMutexW(self, lpMutexAttributes: int, bInitialOwner: int, lpName: int) -> int:
        def make(name: str | None) -> Mutex:
            mutex = Mutex(name=name)
            if bInitialOwner & 0xFFFFFFFF:  # "the calling thread obtains initial ownership"
                mutex.take(self.current_thread().ident)
            return mutex
        return self._create("mutex", lpMutexAttributes, lpName, make)

    @export(*KERNEL32)
    def ReleaseMutex(self, hMutex: int) -> int:
        obj = self._object(hMutex, "mutex")
        if obj is None:
            return FALSE
        assert isinstance(obj, Mutex)
        if not obj.owned or obj.owner != self.current_thread().ident:
            self.diag("the calling thread does not own the mutex")
            self.set_last_error(ERROR_NOT_OWNER)
            return FALSE
        obj.release()
        return TRUE

    # -- waiting ------------------------------------------------------------------------------
    @export(*KERNEL32)
    def WaitForSingleObject(self, hHandle: int, dwMilliseconds: int) -> int:
        """"The function modifies the state of some types of synchronization objects": objects.py says how."""
        obj = self._waitable(hHandle)
        if obj is None:
            return WAIT_FAILED
        return self._wait_on([obj], False, dwMilliseconds)

    @export(*KERNEL32)
    def Sleep(self, dwMilliseconds: int) -> None:
        """"A value of zero causes the thread to relinquish the remainder of its time slice to any other
        thread that is ready to run": the created threads run first, whatever the interval."""
        self._block(lambda: None, dwMilliseconds)

    # -- the process and the thread -------------------------------------------------------------
    @export(*KERNEL32)
    def GetCurrentProcess(self) -> int:
        return CURRENT_PROCESS

    @export(*KERNEL32)
    def GetCurrentThread(self) -> int:
        return CURRENT_THREAD

    @export(*KERNEL32)
    def GetCurrentProcessId(self) -> int:
        return PROCESS_ID

    @export(*KERNEL32)
    def GetCurrentThreadId(self) -> int:
        return self.current_thread().ident

    @export(*KERNEL32)
    def GetTickCount(self) -> int:
        return int((time.monotonic() - self._started) * 1000 + 1_000_000) & 0xFFFFFFFF

    @export(*KERNEL32)
    def GetTickCount64(self) -> int:
        return int((time.monotonic() - self._started) * 1000 + 1_000_000)
