"""Kernel objects and what a satisfied wait does to each, as the synchapi and processthreadsapi pages say.

Every object a wait function accepts answers two questions, so that
WaitForSingleObject, WaitForMultipleObjects and the threads the model runs
wait on all of them alike:

- `ready(thread)`: would a wait by `thread` (a thread identifier) be satisfied now?
- `take(thread)`: the wait is satisfied; change the object as its page says (an auto-reset
  event resets, a semaphore's count drops by one, a mutex becomes the thread's) and say
  whether it was an abandoned mutex.

A wait on several objects asks every object first and changes them only
once it is satisfied ("The function does not modify the states of the
specified objects until the states of all objects have been set to
signaled").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: STATUS_PENDING, the exit code of a thread or process that has not ended (minwinbase.h).
STILL_ACTIVE = 0x00000103
THREAD_PRIORITY_NORMAL = 0


@dataclass(eq=False)
class KernelObject:
    """An object behind a handle; as itself it is an event (`signalled` is its state).

    `eq=False`: two objects are the same only when they are one object, as two kernel
    objects with the same state are still two objects (CompareObjectHandles).
    """

    kind: str
    signalled: bool
    manual_reset: bool = True
    name: str | None = None
    owned: int = 0  # a mutex's recursion count
    owner: int = 0  # the identifier of the thread that owns a mutex

    #: Whether the wait functions accept a handle to it.
    waitable: ClassVar[bool] = True

    def ready(self, thread: int) -> bool:
        return self.signalled

    def take(self, thread: int) -> bool:
        """An auto-reset event "remains signaled until a single waiting thread is released" (CreateEventW)."""
        if not self.manual_reset:
            self.signalled = False
        return False


@dataclass(eq=False)
class Mutex(KernelObject):
    """A mutex: signalled while no thread owns it; its owner may wait on it again without blocking."""

    kind: str = "mutex"
    signalled: bool = True
    abandoned: bool = False

    def ready(self, thread: int) -> bool:
        return self.owned == 0 or self.owner == thread

    def take(self, thread: int) -> bool:
        """WAIT_ABANDONED: "Ownership of the mutex object is granted to the calling thread and the mutex
        state is set to nonsignaled" when its owner ended without releasing it."""
        abandoned, self.abandoned = self.abandoned, False
        self.owner, self.owned, self.signalled = thread, self.owned + 1, False
        return abandoned

    def release(self) -> None:
        self.owned -= 1
        if self.owned == 0:
            self.owner, self.signalled = 0, True

    def abandon(self) -> None:
        """Its owning thread ended while it owned the mutex: the next wait gets WAIT_ABANDONED."""
        self.owned, self.owner, self.signalled, self.abandoned = 0, 0, True, True


@dataclass(eq=False)
class Semaphore(KernelObject):
    """"The state of a semaphore object is signaled when its count is greater than zero"."""

    kind: str = "semaphore"
    signalled: bool = False
    count: int = 0
    maximum: int = 1

    def ready(self, thread: int) -> bool:
        return self.count > 0

    def take(self, thread: int) -> bool:
        """"Each time a thread completes a wait for a semaphore object, the count ... is decremented by one"."""
        self.count -= 1
        return False


class _Ends(KernelObject):
    """A thread or a process: a wait on it is satisfied once it has ended, and takes nothing from it."""

    exit_code: int | None

    @property
    def ended(self) -> bool:
        return self.exit_code is not None

    def ready(self, thread: int) -> bool:
        return self.ended

    def take(self, thread: int) -> bool:
        return False


@dataclass(eq=False)
class Thread(_Ends):
    """A thread: signalled once it has ended ("the thread object attains a signaled state").

    `start` and `parameter` are CreateThread's; the model runs the export at
    `start` with `parameter` (see scheduler.py). `blocked_since` and `wake`
    say when its function began to wait and when that wait times out (None:
    not waiting, or waiting forever); `pending_exit` holds the return value of
    a function that suspended its own thread before returning.
    """

    kind: str = "thread"
    signalled: bool = False
    ident: int = 0
    start: int = 0
    parameter: int = 0
    suspend_count: int = 0
    exit_code: int | None = None
    priority: int = THREAD_PRIORITY_NORMAL
    background: bool = False
    last_error: int = 0
    blocked_since: float | None = None
    wake: float | None = None
    pending_exit: int | None = None


@dataclass(eq=False)
class Process(_Ends):
    """A process: signalled once it has ended; its exit code is STILL_ACTIVE until then."""

    kind: str = "process"
    signalled: bool = False
    ident: int = 0
    exit_code: int | None = None


def satisfy(objects: list[KernelObject], wait_all: bool, thread: int) -> tuple[int, bool] | None:
    """The index that satisfied a wait by `thread` and whether it was an abandoned mutex, or None.

    Any one: "this function checks the handles in the array in order starting
    with index 0, until one of the objects is signaled". All: nothing changes
    until every object is ready; then each is taken, and the index is that of
    the first abandoned mutex (0 when none was).
    """
    if not objects:
        return None
    if not wait_all:
        for index, obj in enumerate(objects):
            if obj.ready(thread):
                return index, obj.take(thread)
        return None
    if not all(obj.ready(thread) for obj in objects):
        return None
    abandoned = [index for index, obj in enumerate(objects) if obj.take(thread)]
    return (abandoned[0], True) if abandoned else (0, False)
