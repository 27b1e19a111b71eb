"""Kernel objects and the thread's last error, as the handleapi, synchapi and errhandlingapi pages describe them.

The Win32 error model: a function fails by a failure value of its return
(FALSE, NULL, WAIT_FAILED) and says why in the calling thread's last
error, which it sets with SetLastError; a function that succeeds leaves the
last error alone unless its page says otherwise (CreateEventW sets
ERROR_ALREADY_EXISTS when a named event existed before the call). The model
keeps one thread's last error; `set_last_error` is the modelled functions'
SetLastError, and the adapter reports what a call set.

Kernel objects (events and mutexes) live in a handle table. Handle values
are multiples of four and never reused, so a closed handle stays invalid.
A handle that is not in the table (NULL, garbage, closed) makes a function
fail with ERROR_INVALID_HANDLE; so does a handle to an object of another
type. `GetCurrentProcess` and `GetCurrentThread` return the documented
pseudo handles (-1 and -2).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .core import ModelCore, export

KERNEL32 = ("kernel32.dll", "kernelbase.dll")

FALSE, TRUE = 0, 1
ERROR_SUCCESS = 0
ERROR_INVALID_HANDLE = 6
ERROR_INVALID_PARAMETER = 87
ERROR_ALREADY_EXISTS = 183
ERROR_NOT_OWNER = 288
ERROR_NOACCESS = 998
WAIT_OBJECT_0 = 0x00000000
WAIT_TIMEOUT = 0x00000102
WAIT_FAILED = 0xFFFFFFFF
INFINITE = 0xFFFFFFFF
HANDLE_FLAG_INHERIT = 0x1
HANDLE_FLAG_PROTECT_FROM_CLOSE = 0x2
CURRENT_PROCESS = 0xFFFF_FFFF_FFFF_FFFF  # (HANDLE)-1
CURRENT_THREAD = 0xFFFF_FFFF_FFFF_FFFE  # (HANDLE)-2
PROCESS_ID, THREAD_ID = 0x100, 0x104


@dataclass
class KernelObject:
    """An event or a mutex; `signalled` is the event's state, or for a mutex that nobody owns it."""

    kind: str
    signalled: bool
    manual_reset: bool = True
    name: str | None = None
    owned: int = 0  # a mutex's recursion count (the model has one thread)


class Kernel32Functions(ModelCore):
    """The kernel32 exports the model knows; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.objects: dict[int, KernelObject] = {}
        self.handles: dict[int, tuple[KernelObject, int]] = {}  # handle -> (object, HANDLE_FLAG_* flags)
        self.thread_last_error = ERROR_SUCCESS
        self._next_handle = 0x100
        self._started = time.monotonic()

    def set_last_error(self, code: int) -> None:
        super().set_last_error(code)
        self.thread_last_error = code & 0xFFFFFFFF

    def _new_handle(self, obj: KernelObject) -> int:
        self._next_handle += 4
        self.handles[self._next_handle] = (obj, 0)
        return self._next_handle

    def _object(self, handle: int, kind: str | None = None) -> KernelObject | None:
        """The object behind an open handle (of `kind`), or None with ERROR_INVALID_HANDLE set (diagnosed)."""
        entry = self.handles.get(handle)
        if entry is None or (kind is not None and entry[0].kind != kind):
            self.diag(f"handle 0x{handle:X} is not an open {kind or 'kernel object'} handle")
            self.set_last_error(ERROR_INVALID_HANDLE)
            return None
        return entry[0]

    def _named(self, kind: str, lpName: int) -> tuple[KernelObject | None, str | None]:
        name = self.memory.read_wstr(lpName) if lpName else None
        if name is None:
            return None, None
        return next((o for o in self.objects.values() if o.kind == kind and o.name == name), None), name

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
        if hObject in (CURRENT_PROCESS, CURRENT_THREAD):
            return TRUE  # closing a pseudo handle has no effect
        if self._object(hObject) is None:  # sets ERROR_INVALID_HANDLE
            return FALSE
        entry = self.handles[hObject]
        if entry[1] & HANDLE_FLAG_PROTECT_FROM_CLOSE:
            self.diag(f"handle 0x{hObject:X} is protected from close")
            self.set_last_error(ERROR_INVALID_HANDLE)
            return FALSE
        del self.handles[hObject]
        obj = entry[0]
        if not any(o is obj for o, _ in self.handles.values()):
            self.objects.pop(id(obj), None)
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

    # -- events -------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CreateEventW(self, lpEventAttributes: int, bManualReset: int, bInitialState: int, lpName: int) -> int:
        existing, name = self._named("event", lpName)
        if existing is not None:
            self.set_last_error(ERROR_ALREADY_EXISTS)  # "GetLastError returns ERROR_ALREADY_EXISTS"
            return self._new_handle(existing)
        obj = KernelObject("event", signalled=bool(bInitialState & 0xFFFFFFFF),
                           manual_reset=bool(bManualReset & 0xFFFFFFFF), name=name)
        self.objects[id(obj)] = obj
        return self._new_handle(obj)

    @export(*KERNEL32)
    def SetEvent(self, hEvent: int) -> int:
        obj = self._object(hEvent, "event")
        if obj is None:
            return FALSE
        obj.signalled = True
        return TRUE

    @export(*KERNEL32)
    def ResetEvent(self, hEvent: int) -> int:
        obj = self._object(hEvent, "event")
        if obj is None:
            return FALSE
        obj.signalled = False
        return TRUE

    # -- mutexes ------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CreateMutexW(self, lpMutexAttributes: int, bInitialOwner: int, lpName: int) -> int:
        existing, name = self._named("mutex", lpName)
        if existing is not None:
            self.set_last_error(ERROR_ALREADY_EXISTS)
            return self._new_handle(existing)
        owned = 1 if bInitialOwner & 0xFFFFFFFF else 0
        obj = KernelObject("mutex", signalled=not owned, name=name, owned=owned)
        self.objects[id(obj)] = obj
        return self._new_handle(obj)

    @export(*KERNEL32)
    def ReleaseMutex(self, hMutex: int) -> int:
        obj = self._object(hMutex, "mutex")
        if obj is None:
            return FALSE
        if not obj.owned:
            self.diag("the calling thread does not own the mutex")
            self.set_last_error(ERROR_NOT_OWNER)
            return FALSE
        obj.owned -= 1
        obj.signalled = obj.owned == 0
        return TRUE

    # -- waiting ------------------------------------------------------------------------------
    @export(*KERNEL32)
    def WaitForSingleObject(self, hHandle: int, dwMilliseconds: int) -> int:
        obj = self._object(hHandle)
        if obj is None:
            return WAIT_FAILED
        if obj.kind == "mutex" and (obj.signalled or obj.owned):  # one thread: it owns it, or takes it
            obj.owned += 1
            obj.signalled = False
            return WAIT_OBJECT_0
        if obj.signalled:
            if not obj.manual_reset:
                obj.signalled = False  # an auto-reset event releases one waiter and resets
            return WAIT_OBJECT_0
        self.wait(dwMilliseconds & 0xFFFFFFFF)  # nothing else runs to signal it: the wait times out
        return WAIT_TIMEOUT

    @export(*KERNEL32)
    def Sleep(self, dwMilliseconds: int) -> None:
        self.wait(dwMilliseconds & 0xFFFFFFFF)

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
        return THREAD_ID

    @export(*KERNEL32)
    def GetTickCount(self) -> int:
        return int((time.monotonic() - self._started) * 1000 + 1_000_000) & 0xFFFFFFFF

    @export(*KERNEL32)
    def GetTickCount64(self) -> int:
        return int((time.monotonic() - self._started) * 1000 + 1_000_000)
