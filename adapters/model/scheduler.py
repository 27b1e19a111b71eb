"""How the threads CreateThread makes run in a model that has one real thread.

A thread's start address is one of the model's exports (a ThreadProc takes
one pointer-sized argument): the thread runs that export with lpParameter
as its first argument (the others are zero, as every missing argument is),
and "If this function returns, the DWORD return value is used to terminate
the thread" (CreateThread), so its exit code is the export's return value.

When: "the thread can start running before CreateThread returns", or any
time after. The model lets a created thread run when the thread that made
it gives up the processor, that is when it waits: WaitForSingleObject,
WaitForMultipleObjects, Sleep (even Sleep(0): "A value of zero causes the
thread to relinquish the remainder of its time slice to any other thread
that is ready to run"), or an EnterCriticalSection that must block. Until
then it is ready but has not run: GetExitCodeThread says STILL_ACTIVE. A
thread created with CREATE_SUSPENDED, or suspended later, does not run
until ResumeThread brings its suspend count to zero.

A thread's function that would wait (an EnterCriticalSection another
thread owns, a Sleep) stays where it is: it runs again at the next chance,
and a timed wait in it ends once its time has passed since it began. The
modelled functions change nothing before they wait, so running one again
is the same as it going on. A thread has its own last error, and the
calling thread's is left as it was.

A start address that is not an export faults in the thread: "an exception
occurs, and the thread terminates. Thread termination due to a invalid
start address is handled as an error exit for the thread's process." An
unhandled exception ends the process: the model ends its process and every
thread (exit code: the exception code), and the call during which the
thread ran ends as that fault, as the process would have died there.
"""

from __future__ import annotations

import time

from specproof.adapter.contract import UNIMPLEMENTED_STUB

from .kernel32 import INFINITE, THREAD_ID, Kernel32Functions
from .memory import ModelFault
from .objects import Mutex, Thread


class ThreadBlocked(Exception):
    """A created thread's function would wait: the thread stays where it is and runs again later."""


class Scheduler(Kernel32Functions):
    """The created threads, and when and how their functions run."""

    #: The adapter's export table (ModelAdapter): export address -> function, function -> address.
    _function_at: dict[int, str]
    _address_of: dict[str, int]

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.threads: list[Thread] = []  # created threads that have not ended, in the order they were made
        self._last_thread_id = THREAD_ID

    def new_thread(self, start: int, parameter: int, suspended: bool) -> Thread:
        self._last_thread_id += 4
        thread = Thread(ident=self._last_thread_id, start=start, parameter=parameter,
                        suspend_count=1 if suspended else 0)
        self.threads.append(thread)
        return thread

    # -- the hooks of Kernel32Functions._block -----------------------------------------------------
    def wait(self, milliseconds: int) -> None:
        """In a created thread, a wait that cannot end yet leaves the thread where it is (ThreadBlocked)."""
        thread = self._running
        if thread is None:
            super().wait(milliseconds)
            return
        milliseconds &= 0xFFFFFFFF
        if milliseconds == 0:
            return
        now = time.monotonic()
        if thread.blocked_since is None:
            thread.blocked_since = now
        if milliseconds != INFINITE and now >= thread.blocked_since + milliseconds / 1000:
            return  # its time has passed: the wait times out and the function goes on
        thread.wake = None if milliseconds == INFINITE else thread.blocked_since + milliseconds / 1000
        raise ThreadBlocked

    def _let_threads_run(self) -> None:
        """Run every ready thread, again and again while any of them ends (that may free another)."""
        if self._running is not None:
            return  # a created thread's own wait: the waiting thread that let it run takes turns
        while not self.process.ended:
            ready = [t for t in self.threads if not t.ended and not t.suspend_count]
            if not any([self._run(thread) for thread in ready]):
                break
        self.threads = [t for t in self.threads if not t.ended]

    def _next_wake(self) -> float | None:
        if self._running is not None:
            return None
        return min((t.wake for t in self.threads if t.wake is not None and not t.ended and not t.suspend_count),
                   default=None)

    # -- running a thread ---------------------------------------------------------------------------
    def _run(self, thread: Thread) -> bool:
        """Run `thread`'s function (again); True when it returned."""
        if thread.ended or thread.suspend_count or self.process.ended:
            return False
        if thread.pending_exit is not None:  # it suspended itself, and has been resumed: it returns
            self._end_thread(thread, thread.pending_exit)
            return True
        caller_error, caller_thread_error = self.last_error, self.thread_last_error
        self._running, self.thread_last_error = thread, thread.last_error
        try:
            value = self._call_start(thread)
        except ThreadBlocked:
            return False
        except ModelFault as fault:
            if not self.process.ended:  # not TerminateProcess: an exception nothing handles
                self.diag(f"thread 0x{thread.ident:X} faulted: an unhandled exception ends the process")
                self._end_process(fault.code)
            raise
        finally:
            thread.last_error = self.thread_last_error
            self._running = None
            self.last_error, self.thread_last_error = caller_error, caller_thread_error
        thread.blocked_since = thread.wake = None
        if thread.suspend_count:  # it suspended itself in its function: it returns once resumed
            thread.pending_exit = value
        else:
            self._end_thread(thread, value)
        return True

    def _call_start(self, thread: Thread) -> int:
        """ThreadProc(lpParameter): the export at the start address, or a fault there."""
        function = self._function_at.get(thread.start)
        if function is None:
            self.fault(thread.start, what=f"thread 0x{thread.ident:X} starts at 0x{thread.start:X}, "
                                          f"which is not an export")
        if self.is_stub(function):
            raise ModelFault(thread.start, UNIMPLEMENTED_STUB, f"thread 0x{thread.ident:X}: {function} is a stub")
        method = getattr(self, function)
        count = self.arity(method)
        args = [thread.parameter] if count is None else ([thread.parameter] + [0] * count)[:count]
        if thread.blocked_since is None:
            self.diag(f"thread 0x{thread.ident:X} runs {function}(0x{thread.parameter:X})")
        return int(method(*args) or 0) & 0xFFFFFFFF

    def _end_thread(self, thread: Thread, code: int) -> None:
        """The thread ends: it is signalled, and a mutex it still owns is abandoned (WAIT_ABANDONED)."""
        thread.exit_code = code & 0xFFFFFFFF
        for obj in self.objects.values():
            if isinstance(obj, Mutex) and obj.owned and obj.owner == thread.ident:
                obj.abandon()
        if thread is not self.main_thread:
            self.diag(f"thread 0x{thread.ident:X} ended with exit code 0x{thread.exit_code:X}")

    def _end_process(self, code: int) -> None:
        """The process ends: "stops execution of all threads within the process" (TerminateProcess)."""
        self.process.exit_code = code & 0xFFFFFFFF
        for thread in (self.main_thread, *self.threads):
            if not thread.ended:
                self._end_thread(thread, code)
