"""Semaphores, critical sections and waits on several objects, as the synchapi pages describe them.

Semaphores and events are kernel objects (objects.py) in the handle table;
named ones share one namespace with mutexes. A critical section is not: "The
process is responsible for allocating the memory used by a critical section
object", so it lives in the caller's CRITICAL_SECTION, laid out as the SDK
headers say, and every function reads and writes it there (a bad pointer
faults as on Windows). The model keeps the classic meaning of its fields:
LockCount is -1 while nobody owns it and counts entries otherwise,
RecursionCount counts the owner's entries, OwningThread is the owner's
thread identifier, and DebugInfo points to an RTL_CRITICAL_SECTION_DEBUG
the system allocates (the "system resources" DeleteCriticalSection
releases). A section used before InitializeCriticalSection or after
DeleteCriticalSection is used as its bytes say; zeroed bytes read as owned
by nobody yet not free, so EnterCriticalSection on one waits forever, as
the page's warning ("memory corruption and other unexpected errors can
occur") leaves room for.
"""

from __future__ import annotations

from specproof.adapter.structs import layout

from .core import export
from .kernel32 import (ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, FALSE, HANDLE_FLAG_INHERIT, INFINITE,
                       KERNEL32, TRUE, WAIT_FAILED, Kernel32Functions, granted)
from .objects import KernelObject, Semaphore
from .structures import signed32

ERROR_FILE_NOT_FOUND = 2
ERROR_TOO_MANY_POSTS = 298
MAXIMUM_WAIT_OBJECTS = 64
SEMAPHORE_MODIFY_STATE = 0x0002
RTL_CRITSECT_TYPE = 0
FREE = -1  # CRITICAL_SECTION.LockCount while nobody owns it


class SyncFunctions(Kernel32Functions):
    """Semaphores, OpenEventW, WaitForMultipleObjects and the critical section functions."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.critical_sections: dict[int, int] = {}  # CRITICAL_SECTION address -> its debug block

    # -- semaphores -------------------------------------------------------------------------------
    @export(*KERNEL32)
    def CreateSemaphoreW(self, lpSemaphoreAttributes: int, lInitialCount: int, lMaximumCount: int,
                         lpName: int) -> int:
        """lInitialCount "must be greater than or equal to zero and less than or equal to lMaximumCount";
        lMaximumCount "must be greater than zero" (checked before the name is looked up, as Wine does)."""
        initial, maximum = signed32(lInitialCount), signed32(lMaximumCount)
        if maximum <= 0 or not 0 <= initial <= maximum:
            self.diag(f"counts {initial} of {maximum}: the initial count must be in 0..maximum, the maximum > 0")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return 0
        return self._create("semaphore", lpSemaphoreAttributes, lpName,
                            lambda name: Semaphore(name=name, count=initial, maximum=maximum))

    @export(*KERNEL32)
    def ReleaseSemaphore(self, hSemaphore: int, lReleaseCount: int, lpPreviousCount: int) -> int:
        """"If the specified amount would cause the semaphore's count to exceed the maximum count ..., the
        count is not changed and the function returns FALSE" (ERROR_TOO_MANY_POSTS); lReleaseCount "must be
        greater than zero". The system writes lpPreviousCount, so a bad pointer is ERROR_NOACCESS."""
        semaphore = self._object(hSemaphore, "semaphore", SEMAPHORE_MODIFY_STATE)
        if semaphore is None:
            return FALSE
        assert isinstance(semaphore, Semaphore)
        count = signed32(lReleaseCount)
        if count <= 0:
            self.diag(f"lReleaseCount {count} is not greater than zero")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        if semaphore.count + count > semaphore.maximum:
            self.diag(f"{semaphore.count} + {count} exceeds the maximum count {semaphore.maximum}")
            self.set_last_error(ERROR_TOO_MANY_POSTS)
            return FALSE
        if lpPreviousCount and not self._system_write(lpPreviousCount, semaphore.count.to_bytes(4, "little")):
            return FALSE
        semaphore.count += count
        return TRUE

    # -- events by name -----------------------------------------------------------------------------
    @export(*KERNEL32)
    def OpenEventW(self, dwDesiredAccess: int, bInheritHandle: int, lpName: int) -> int:
        """"The function succeeds only if some process has already created the event"; a name no object has
        is ERROR_FILE_NOT_FOUND, a name another kind of object has is ERROR_INVALID_HANDLE, and no name at
        all is ERROR_INVALID_PARAMETER. The handle has the rights asked for."""
        if not lpName:
            self.diag("lpName is NULL")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return 0
        existing, name = self._named(lpName)
        if existing is None or existing.kind != "event":
            self.diag(f"no event is named {name!r}" + (f" (a {existing.kind} is)" if existing else ""))
            self.set_last_error(ERROR_FILE_NOT_FOUND if existing is None else ERROR_INVALID_HANDLE)
            return 0
        return self._new_handle(existing, granted(dwDesiredAccess),
                                HANDLE_FLAG_INHERIT if bInheritHandle & 0xFFFFFFFF else 0)

    # -- waiting on several objects -------------------------------------------------------------------
    @export(*KERNEL32)
    def WaitForMultipleObjects(self, nCount: int, lpHandles: int, bWaitAll: int, dwMilliseconds: int) -> int:
        """nCount: "The maximum number of object handles is MAXIMUM_WAIT_OBJECTS. This parameter cannot be
        zero." With bWaitAll the array may not hold one object twice (the kernel refuses it:
        ERROR_INVALID_PARAMETER); waiting for any one, it may. The array is read as the caller's code
        reads it: a bad pointer faults."""
        count = nCount & 0xFFFFFFFF
        if not 0 < count <= MAXIMUM_WAIT_OBJECTS:
            self.diag(f"nCount {count} is not 1..MAXIMUM_WAIT_OBJECTS")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return WAIT_FAILED
        data = self.memory.read(lpHandles, 8 * count)
        objects: list[KernelObject] = []
        for index in range(count):
            obj = self._waitable(int.from_bytes(data[8 * index: 8 * index + 8], "little"))
            if obj is None:
                return WAIT_FAILED
            objects.append(obj)
        wait_all = bool(bWaitAll & 0xFFFFFFFF)
        if wait_all and len({id(obj) for obj in objects}) < count:
            self.diag("bWaitAll with the same object more than once")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return WAIT_FAILED
        return self._wait_on(objects, wait_all, dwMilliseconds)

    # -- critical sections -----------------------------------------------------------------------------
    def _write_section(self, address: int, fields: dict[str, int], **changes: int) -> None:
        self.write_record(address, "CRITICAL_SECTION", **{**fields, **changes})

    def _try_enter(self, address: int) -> bool:
        """Enter the section at `address` for the calling thread if it is free or already the thread's."""
        section = self.read_record(address, "CRITICAL_SECTION")
        me, lock = self.current_thread().ident, signed32(section.LockCount)
        if section.OwningThread == me and signed32(section.RecursionCount) > 0:
            self._write_section(address, section.fields, LockCount=lock + 1,
                                RecursionCount=signed32(section.RecursionCount) + 1)
        elif lock == FREE:
            self._write_section(address, section.fields, LockCount=0, RecursionCount=1, OwningThread=me)
        else:
            return False
        return True

    def _check_initialized(self, address: int) -> None:
        if address not in self.critical_sections:
            self.diag(f"0x{address:X} is not an initialized critical section: the pages leave this undefined")

    @export(*KERNEL32)
    def InitializeCriticalSection(self, lpCriticalSection: int) -> None:
        """"Initializing a critical section that has already been initialized results in undefined
        behavior": the model starts it afresh."""
        self.write_record(lpCriticalSection, "CRITICAL_SECTION", LockCount=FREE)  # faults on a bad pointer
        old = self.critical_sections.pop(lpCriticalSection, None)
        if old is not None:
            self.diag("the critical section was already initialized")
            self.memory.free(old)
        debug = self.memory.alloc(layout("RTL_CRITICAL_SECTION_DEBUG").size)
        self.write_record(debug, "RTL_CRITICAL_SECTION_DEBUG", Type=RTL_CRITSECT_TYPE,
                     CriticalSection=lpCriticalSection)
        self.write_record(lpCriticalSection, "CRITICAL_SECTION", LockCount=FREE, DebugInfo=debug)
        self.critical_sections[lpCriticalSection] = debug

    @export(*KERNEL32)
    def EnterCriticalSection(self, lpCriticalSection: int) -> None:
        """"EnterCriticalSection blocks until the thread can take ownership"; the owner "can make additional
        calls ... without blocking". Another thread's section is waited for while the other threads run."""
        self._check_initialized(lpCriticalSection)
        self._block(lambda: True if self._try_enter(lpCriticalSection) else None, INFINITE)

    @export(*KERNEL32)
    def TryEnterCriticalSection(self, lpCriticalSection: int) -> int:
        """"If the critical section is successfully entered or the current thread already owns the critical
        section, the return value is nonzero. If another thread already owns the critical section, the
        return value is zero." It "returns immediately"."""
        self._check_initialized(lpCriticalSection)
        return TRUE if self._try_enter(lpCriticalSection) else FALSE

    @export(*KERNEL32)
    def LeaveCriticalSection(self, lpCriticalSection: int) -> None:
        """"The thread must call LeaveCriticalSection once for each time that it entered". A thread that does
        not own it changes the counts all the same: "an error occurs that may cause another thread using
        EnterCriticalSection to wait indefinitely"."""
        self._check_initialized(lpCriticalSection)
        section = self.read_record(lpCriticalSection, "CRITICAL_SECTION")
        if section.OwningThread != self.current_thread().ident:
            self.diag("the calling thread does not own the critical section")
        recursion = signed32(section.RecursionCount) - 1
        self._write_section(lpCriticalSection, section.fields, RecursionCount=recursion,
                            LockCount=signed32(section.LockCount) - 1,
                            OwningThread=0 if recursion == 0 else section.OwningThread)

    @export(*KERNEL32)
    def DeleteCriticalSection(self, lpCriticalSection: int) -> None:
        """"Deleting a critical section object releases all system resources used by the object"; "After
        this function has been called, the critical section object can no longer be used for
        synchronization" (its bytes are zeroed)."""
        section = self.read_record(lpCriticalSection, "CRITICAL_SECTION")
        if section.OwningThread:
            self.diag("the critical section is deleted while it is owned: the page leaves this undefined")
        debug = self.critical_sections.pop(lpCriticalSection, None)
        if debug is None:
            self._check_initialized(lpCriticalSection)
        else:
            self.memory.free(debug)
        self.write_record(lpCriticalSection, "CRITICAL_SECTION")

