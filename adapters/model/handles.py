"""The handle table, as the handleapi pages describe it: handles, their flags and access rights, named objects.

Kernel objects (objects.py) live in a handle table. Handle values are
multiples of four and never reused, so a closed handle stays invalid. A
handle that is not in the table (NULL, garbage, closed) makes a function
fail with ERROR_INVALID_HANDLE; so does a handle to an object of another
type, and a handle without the access right a function needs fails with
ERROR_ACCESS_DENIED. `GetCurrentProcess` and `GetCurrentThread` return the
documented pseudo handles (-1 and -2), which stand for the model's process
and the calling thread wherever a function takes a process or thread
handle. Each thread has its own last error; `set_last_error` is the
modelled functions' SetLastError, and the adapter reports what a call set.
"""

from __future__ import annotations

from typing import Callable

from .core import ModelCore
from .memory import ModelFault
from .objects import KernelObject, Process, Thread
from .structures import security_attributes_inherit

FALSE, TRUE = 0, 1
ERROR_SUCCESS = 0
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_INVALID_PARAMETER = 87
ERROR_ALREADY_EXISTS = 183
ERROR_NOT_OWNER = 288
ERROR_NOACCESS = 998
ERROR_NOT_SAME_OBJECT = 1656  # 0x678 (winerror.h of the Windows SDK; mingw-w64's lacks it)
WAIT_OBJECT_0 = 0x00000000
WAIT_ABANDONED_0 = 0x00000080
WAIT_TIMEOUT = 0x00000102
WAIT_FAILED = 0xFFFFFFFF
INFINITE = 0xFFFFFFFF
HANDLE_FLAG_INHERIT = 0x1
HANDLE_FLAG_PROTECT_FROM_CLOSE = 0x2
DUPLICATE_CLOSE_SOURCE = 0x1
DUPLICATE_SAME_ACCESS = 0x2
CURRENT_PROCESS = 0xFFFF_FFFF_FFFF_FFFF  # (HANDLE)-1
CURRENT_THREAD = 0xFFFF_FFFF_FFFF_FFFE  # (HANDLE)-2
PROCESS_ID, THREAD_ID = 0x100, 0x104

# access rights (winnt.h)
SYNCHRONIZE = 0x00100000
EVENT_MODIFY_STATE = 0x0002
PROCESS_DUP_HANDLE = 0x0040
MAXIMUM_ALLOWED = 0x02000000
GENERIC_RIGHTS = 0xF0000000  # GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL
#: Every right: what CreateEvent, CreateSemaphore, CreateThread and the pseudo handles give ("_ALL_ACCESS").
ALL_ACCESS = 0xFFFFFFFF


def granted(desired: int) -> int:
    """The rights a handle opened for `desired` has.

    MAXIMUM_ALLOWED and the generic rights give every right: the model keeps
    no per-type generic mapping and no security descriptors, so whatever a
    caller may ask for it is allowed; specific rights are kept as asked.
    """
    desired &= 0xFFFFFFFF
    return ALL_ACCESS if desired & (GENERIC_RIGHTS | MAXIMUM_ALLOWED) else desired



class HandleTable(ModelCore):
    """The process's handles and named objects, its process and thread objects, and each thread's last error."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.objects: dict[int, KernelObject] = {}  # named and unnamed objects, by id()
        self.handles: dict[int, tuple[KernelObject, int]] = {}  # handle -> (object, HANDLE_FLAG_* flags)
        self.access: dict[int, int] = {}  # handle -> the rights it was opened with
        self.process = Process(ident=PROCESS_ID)
        self.main_thread = Thread(ident=THREAD_ID)
        self._running: Thread | None = None  # the created thread whose function runs now (scheduler.py)
        self.thread_last_error = ERROR_SUCCESS
        self._next_handle = 0x100

    def set_last_error(self, code: int) -> None:
        super().set_last_error(code)
        self.thread_last_error = code & 0xFFFFFFFF

    def current_thread(self) -> Thread:
        """The thread the calling code runs on: a created thread while its function runs, else the main one."""
        return self._running or self.main_thread

    # -- the handle table ---------------------------------------------------------------------
    def next_handle_value(self) -> int:
        """A handle value never handed out before (kernel objects and registry keys draw from the same
        numbers, as in one process's handle table, so no value means two things)."""
        self._next_handle += 4
        return self._next_handle

    def _new_handle(self, obj: KernelObject, access: int = ALL_ACCESS, flags: int = 0) -> int:
        handle = self.next_handle_value()
        self.handles[handle] = (obj, flags)
        self.access[handle] = access
        return handle

    def _object(self, handle: int, kind: str | None = None, access: int = 0) -> KernelObject | None:
        """The object behind an open handle (of `kind`, opened with any of the rights in `access`), or None
        with ERROR_INVALID_HANDLE or ERROR_ACCESS_DENIED set (diagnosed)."""
        entry = self.handles.get(handle)
        if entry is None or (kind is not None and entry[0].kind != kind):
            self.diag(f"handle 0x{handle:X} is not an open {kind or 'kernel object'} handle")
            self.set_last_error(ERROR_INVALID_HANDLE)
            return None
        if access and not self.access.get(handle, ALL_ACCESS) & access:
            self.diag(f"handle 0x{handle:X} lacks the access right 0x{access:X}")
            self.set_last_error(ERROR_ACCESS_DENIED)
            return None
        return entry[0]

    def _resolve(self, handle: int, kind: str | None = None, access: int = 0) -> KernelObject | None:
        """`_object`, where the pseudo handles also stand for the process and the calling thread (every right)."""
        pseudo = {CURRENT_PROCESS: self.process, CURRENT_THREAD: self.current_thread()}.get(handle)
        if pseudo is None:
            return self._object(handle, kind, access)
        if kind is not None and pseudo.kind != kind:
            self.diag(f"the pseudo handle 0x{handle:X} is not a {kind} handle")
            self.set_last_error(ERROR_INVALID_HANDLE)
            return None
        return pseudo

    def _close(self, handle: int) -> bool:
        """Take `handle` out of the table (the object goes with its last handle); False if it is protected."""
        obj, flags = self.handles[handle]
        if flags & HANDLE_FLAG_PROTECT_FROM_CLOSE:
            self.diag(f"handle 0x{handle:X} is protected from close")
            return False
        del self.handles[handle]
        self.access.pop(handle, None)
        if not any(o is obj for o, _ in self.handles.values()):
            self.objects.pop(id(obj), None)  # "destroyed when its last handle has been closed"
        return True

    def _system_write(self, address: int, data: bytes) -> bool:
        """Write `data` as the system writes an output on the caller's behalf: a bad pointer is reported
        (ERROR_NOACCESS, False), not a fault of the caller."""
        try:
            self.memory.write(address, data)
        except ModelFault as fault:
            self.diag(f"the output at 0x{address:X} is not writable ({fault})")
            self.set_last_error(ERROR_NOACCESS)
            return False
        return True

    def _inherit_flag(self, lpAttributes: int) -> int:
        """HANDLE_FLAG_INHERIT when a SECURITY_ATTRIBUTES says bInheritHandle ("If ... NULL, the handle
        cannot be inherited")."""
        return HANDLE_FLAG_INHERIT if lpAttributes and security_attributes_inherit(self.memory, lpAttributes) else 0

    # -- named objects ------------------------------------------------------------------------
    def _named(self, lpName: int) -> tuple[KernelObject | None, str | None]:
        """The object of any kind with the name at `lpName` ("these objects share the same namespace")."""
        name = self.memory.read_wstr(lpName) if lpName else None
        if name is None:
            return None, None
        return next((o for o in self.objects.values() if o.name == name), None), name

    def _create(self, kind: str, lpAttributes: int, lpName: int, make: Callable[[str | None], KernelObject]) -> int:
        """Create a named or unnamed object, or open the named one that exists (ERROR_ALREADY_EXISTS)."""
        existing, name = self._named(lpName)
        flags = self._inherit_flag(lpAttributes)
        if existing is not None:
            if existing.kind != kind:  # "the function fails and ... GetLastError ... returns ERROR_INVALID_HANDLE"
                self.diag(f"the name {name!r} belongs to a {existing.kind}")
                self.set_last_error(ERROR_INVALID_HANDLE)
                return 0
            self.set_last_error(ERROR_ALREADY_EXISTS)  # "GetLastError returns ERROR_ALREADY_EXISTS"
            return self._new_handle(existing, flags=flags)
        obj = make(name)
        self.objects[id(obj)] = obj
        return self._new_handle(obj, flags=flags)
