"""The model's semaphores, waits on several objects and critical sections, against the synchapi pages
(adapters/model/synch.py, objects.py)."""

from __future__ import annotations

import pytest

from specproof.adapter.structs import layout
from specproof_adapters.model import ModelAdapter

from modelcalls import call, value, wide
from specproof_adapters.model.kernel32 import (ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE,
                                               ERROR_INVALID_PARAMETER, WAIT_ABANDONED_0, WAIT_FAILED,
                                               WAIT_OBJECT_0, WAIT_TIMEOUT)
from specproof_adapters.model.synch import ERROR_FILE_NOT_FOUND, ERROR_TOO_MANY_POSTS, MAXIMUM_WAIT_OBJECTS

SYNCHRONIZE = 0x00100000
EVENT_ALL_ACCESS = 0x001F0003
INFINITE = 0xFFFFFFFF


def handles(model: ModelAdapter, *values: int) -> int:
    block = model.alloc(8 * len(values))
    model.write(block, b"".join(v.to_bytes(8, "little") for v in values))
    return block


def u32(model: ModelAdapter, address: int) -> int:
    return int.from_bytes(model.read(address, 4), "little")


# -- semaphores ------------------------------------------------------------------------------------
def test_a_wait_takes_one_from_the_count_and_release_gives_it_back(model):
    semaphore = value(model, "CreateSemaphoreW", 0, 1, 2, 0)
    assert value(model, "WaitForSingleObject", semaphore, 0) == WAIT_OBJECT_0, "count 1: signalled"
    assert value(model, "WaitForSingleObject", semaphore, 0) == WAIT_TIMEOUT, "the wait took the count to 0"
    previous = model.alloc(4)
    assert value(model, "ReleaseSemaphore", semaphore, 2, previous) == 1
    assert u32(model, previous) == 0, "lpPreviousCount: the count before the release"
    assert value(model, "WaitForSingleObject", semaphore, 0) == WAIT_OBJECT_0
    assert value(model, "WaitForSingleObject", semaphore, 0) == WAIT_OBJECT_0
    assert value(model, "WaitForSingleObject", semaphore, 0) == WAIT_TIMEOUT
    assert value(model, "ReleaseSemaphore", semaphore, 1, 0) == 1, "lpPreviousCount may be NULL"


def test_a_release_past_the_maximum_fails_and_leaves_the_count(model):
    semaphore = value(model, "CreateSemaphoreW", 0, 1, 2, 0)
    too_many = call(model, "ReleaseSemaphore", semaphore, 2, 0)
    assert (too_many.value, too_many.last_error) == (0, ERROR_TOO_MANY_POSTS)
    previous = model.alloc(4)
    assert value(model, "ReleaseSemaphore", semaphore, 1, previous) == 1 and u32(model, previous) == 1, \
        "the count is not changed"
    for count in (0, 0xFFFFFFFF):  # "The value must be greater than zero"
        refused = call(model, "ReleaseSemaphore", semaphore, count, 0)
        assert (refused.value, refused.last_error) == (0, ERROR_INVALID_PARAMETER)


def test_semaphore_counts_must_fit_and_names_are_shared(model):
    for initial, maximum in ((0xFFFFFFFF, 1), (3, 2), (0, 0)):
        refused = call(model, "CreateSemaphoreW", 0, initial, maximum, 0)
        assert (refused.value, refused.last_error) == (0, ERROR_INVALID_PARAMETER)
    name = wide(model, "specproof-semaphore")
    first = call(model, "CreateSemaphoreW", 0, 0, 1, name)
    again = call(model, "CreateSemaphoreW", 0, 1, 5, name)
    assert first.last_error is None and again.last_error == ERROR_ALREADY_EXISTS
    assert value(model, "WaitForSingleObject", again.value, 0) == WAIT_TIMEOUT, "the counts given again are ignored"
    clash = call(model, "CreateEventW", 0, 1, 0, name)
    assert (clash.value, clash.last_error) == (0, ERROR_INVALID_HANDLE), "events and semaphores share a namespace"
    event = value(model, "CreateEventW", 0, 1, 0, 0)
    wrong = call(model, "ReleaseSemaphore", event, 1, 0)
    assert (wrong.value, wrong.last_error) == (0, ERROR_INVALID_HANDLE)


# -- OpenEventW ------------------------------------------------------------------------------------
def test_open_event_finds_the_named_event_and_only_that(model):
    name = wide(model, "specproof-open")
    created = value(model, "CreateEventW", 0, 1, 0, name)
    opened = value(model, "OpenEventW", EVENT_ALL_ACCESS, 0, name)
    assert opened != created and value(model, "CompareObjectHandles", created, opened) == 1
    assert value(model, "SetEvent", opened) == 1
    assert value(model, "WaitForSingleObject", created, 0) == WAIT_OBJECT_0, "one object, two handles"
    case_differs = wide(model, "Specproof-open")  # "Name comparisons are case sensitive"
    for lpName, error in ((wide(model, "specproof-none"), ERROR_FILE_NOT_FOUND), (0, ERROR_INVALID_PARAMETER),
                          (case_differs, ERROR_FILE_NOT_FOUND)):
        missing = call(model, "OpenEventW", EVENT_ALL_ACCESS, 0, lpName)
        assert (missing.value, missing.last_error) == (0, error)
    mutex_name = wide(model, "specproof-mutex")
    value(model, "CreateMutexW", 0, 0, mutex_name)
    other = call(model, "OpenEventW", EVENT_ALL_ACCESS, 0, mutex_name)
    assert (other.value, other.last_error) == (0, ERROR_INVALID_HANDLE)


def test_open_event_gives_the_access_asked_for(model):
    name = wide(model, "specproof-access")
    value(model, "CreateEventW", 0, 1, 1, name)
    waiter = value(model, "OpenEventW", SYNCHRONIZE, 1, name)
    assert value(model, "WaitForSingleObject", waiter, 0) == WAIT_OBJECT_0
    denied = call(model, "SetEvent", waiter)
    assert (denied.value, denied.last_error) == (0, ERROR_ACCESS_DENIED), "EVENT_MODIFY_STATE was not asked for"
    flags = model.alloc(4)
    assert value(model, "GetHandleInformation", waiter, flags) == 1 and u32(model, flags) == 1, "bInheritHandle"
    setter = value(model, "OpenEventW", 0x0002, 0, name)  # EVENT_MODIFY_STATE
    refused = call(model, "WaitForSingleObject", setter, 0)
    assert (refused.value, refused.last_error) == (WAIT_FAILED, ERROR_ACCESS_DENIED), "no SYNCHRONIZE"


# -- WaitForMultipleObjects ------------------------------------------------------------------------------
def test_waiting_for_any_returns_the_smallest_signalled_index(model):
    events = [value(model, "CreateEventW", 0, 1, 0, 0) for _ in range(3)]
    array = handles(model, *events)
    assert value(model, "WaitForMultipleObjects", 3, array, 0, 0) == WAIT_TIMEOUT
    value(model, "SetEvent", events[2])
    value(model, "SetEvent", events[1])
    assert value(model, "WaitForMultipleObjects", 3, array, 0, 0) == WAIT_OBJECT_0 + 1


def test_waiting_for_all_changes_nothing_until_all_are_signalled(model):
    auto = value(model, "CreateEventW", 0, 0, 1, 0)
    semaphore = value(model, "CreateSemaphoreW", 0, 0, 1, 0)
    array = handles(model, auto, semaphore)
    assert value(model, "WaitForMultipleObjects", 2, array, 1, 0) == WAIT_TIMEOUT
    assert value(model, "WaitForSingleObject", auto, 0) == WAIT_OBJECT_0, "the auto-reset event was left signalled"
    value(model, "SetEvent", auto)
    value(model, "ReleaseSemaphore", semaphore, 1, 0)
    assert value(model, "WaitForMultipleObjects", 2, array, 1, 0) == WAIT_OBJECT_0
    assert value(model, "WaitForMultipleObjects", 2, array, 0, 0) == WAIT_TIMEOUT, "both were taken"


def test_a_wait_for_any_changes_only_the_object_that_ended_it(model):
    first = value(model, "CreateSemaphoreW", 0, 1, 1, 0)
    second = value(model, "CreateSemaphoreW", 0, 1, 1, 0)
    assert value(model, "WaitForMultipleObjects", 2, handles(model, first, second), 0, 0) == WAIT_OBJECT_0
    assert value(model, "WaitForSingleObject", second, 0) == WAIT_OBJECT_0, "the second kept its count"


def test_wait_for_multiple_objects_refuses_bad_counts_and_handles(model):
    event = value(model, "CreateEventW", 0, 1, 1, 0)
    for count in (0, MAXIMUM_WAIT_OBJECTS + 1):  # "This parameter cannot be zero", at most MAXIMUM_WAIT_OBJECTS
        refused = call(model, "WaitForMultipleObjects", count, handles(model, *[event] * 65), 0, 0)
        assert (refused.value, refused.last_error) == (WAIT_FAILED, ERROR_INVALID_PARAMETER)
    bad = call(model, "WaitForMultipleObjects", 2, handles(model, event, 0xDEADBEEF), 0, 0)
    assert (bad.value, bad.last_error) == (WAIT_FAILED, ERROR_INVALID_HANDLE)
    twice = call(model, "WaitForMultipleObjects", 2, handles(model, event, event), 1, 0)
    assert (twice.value, twice.last_error) == (WAIT_FAILED, ERROR_INVALID_PARAMETER), "one object twice, wait-all"
    assert value(model, "WaitForMultipleObjects", 2, handles(model, event, event), 0, 0) == WAIT_OBJECT_0
    assert call(model, "WaitForMultipleObjects", 1, 0, 0, 0).fault is not None, "the array is read: NULL faults"
    hang = call(model, "WaitForMultipleObjects", 1, handles(model, value(model, "CreateEventW", 0, 1, 0, 0)), 0,
                INFINITE, timeout=0.2)
    assert hang.timed_out


def test_a_mutex_of_an_ended_thread_is_abandoned(model):
    mutex = value(model, "CreateMutexW", 0, 0, 0)
    start = model.resolve("kernel32.dll", "WaitForSingleObject").address  # the thread takes the mutex and ends
    thread = value(model, "CreateThread", 0, 0, start, mutex, 0, 0)
    assert value(model, "WaitForSingleObject", thread, INFINITE) == WAIT_OBJECT_0
    event = value(model, "CreateEventW", 0, 1, 0, 0)
    assert value(model, "WaitForMultipleObjects", 2, handles(model, event, mutex), 0, 0) == WAIT_ABANDONED_0 + 1
    assert value(model, "ReleaseMutex", mutex) == 1, "ownership was granted to the caller"


# -- critical sections ------------------------------------------------------------------------------
def section(model: ModelAdapter, address: int):
    shape = layout("CRITICAL_SECTION")
    return shape.unpack(model.read(address, shape.size))


def test_a_critical_section_counts_its_owner_entries(model):
    cs = model.alloc(layout("CRITICAL_SECTION").size)
    value(model, "InitializeCriticalSection", cs)
    me = value(model, "GetCurrentThreadId")
    assert section(model, cs).OwningThread == 0 and section(model, cs).DebugInfo
    value(model, "EnterCriticalSection", cs)
    value(model, "EnterCriticalSection", cs)  # "additional calls ... without blocking"
    assert value(model, "TryEnterCriticalSection", cs) == 1, "the current thread already owns it"
    assert (section(model, cs).OwningThread, section(model, cs).RecursionCount) == (me, 3)
    for _ in range(3):  # "once for each time that it entered"
        value(model, "LeaveCriticalSection", cs)
    assert (section(model, cs).OwningThread, section(model, cs).RecursionCount) == (0, 0)


def test_deleting_releases_the_system_resources_and_ends_the_use(model):
    cs = model.alloc(layout("CRITICAL_SECTION").size)
    value(model, "InitializeCriticalSection", cs)
    debug = section(model, cs).DebugInfo
    assert model.read(debug, 2) == b"\0\0", "an RTL_CRITICAL_SECTION_DEBUG the system allocated"
    value(model, "DeleteCriticalSection", cs)
    with pytest.raises(Exception):
        model.read(debug, 2)
    assert model.read(cs, layout("CRITICAL_SECTION").size) == bytes(layout("CRITICAL_SECTION").size)
    assert value(model, "TryEnterCriticalSection", cs) == 0
    assert call(model, "EnterCriticalSection", cs, timeout=0.2).timed_out, "it can no longer be used"
    value(model, "InitializeCriticalSection", cs)  # the one function a deleted section may be given
    assert value(model, "TryEnterCriticalSection", cs) == 1


def test_a_critical_section_lives_in_the_callers_memory(model):
    assert call(model, "InitializeCriticalSection", 0).fault is not None
    assert call(model, "EnterCriticalSection", 0xDEADBEEF000).fault is not None
    assert call(model, "EnterCriticalSection", model.alloc(8)).fault is not None, "too small for the structure"


def test_another_threads_critical_section_waits_for_it(model):
    cs = model.alloc(layout("CRITICAL_SECTION").size)
    value(model, "InitializeCriticalSection", cs)
    value(model, "EnterCriticalSection", cs)
    start = model.resolve("kernel32.dll", "EnterCriticalSection").address
    thread_id = model.alloc(4)
    thread = value(model, "CreateThread", 0, 0, start, cs, 0, thread_id)
    assert value(model, "WaitForSingleObject", thread, 0) == WAIT_TIMEOUT, "it waits for the owner"
    value(model, "LeaveCriticalSection", cs)
    assert value(model, "WaitForSingleObject", thread, 1000) == WAIT_OBJECT_0, "and enters once it is left"
    assert section(model, cs).OwningThread == u32(model, thread_id)
    assert value(model, "TryEnterCriticalSection", cs) == 0, "another thread owns it"
