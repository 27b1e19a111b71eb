"""The model's wdm.h routines against their pages: events, spin lock, tick count, pool, counted strings and lists
(adapters/model/ntoskrnl.py)."""

from __future__ import annotations

from specproof.adapter.contract import CallResult
from specproof.adapter.structs import layout
from specproof.sdk.typeinfo import Inline
from specproof_adapters.model import ModelAdapter

from modelcalls import data, value, wide

NotificationEvent, SynchronizationEvent = 0, 1
STATUS_SUCCESS, STATUS_TIMEOUT = 0, 0x102
NonPagedPoolNx = 512
TAG = int.from_bytes(b"TfpS", "big")  # 'SpfT'
INFINITE = 0xFFFFFFFF


def kcall(model: ModelAdapter, name: str, *args: int, timeout: float = 5) -> CallResult:
    """ntoskrnl.exe's export `name`, or the model's run of the inline routine of that name (as the kit asks)."""
    export = model.resolve("ntoskrnl.exe", name) or model.resolve_inline(Inline(name, "", (), "wdm.h"))
    assert export is not None, name
    return model.call(export.address, list(args), timeout)


def kvalue(model: ModelAdapter, name: str, *args: int) -> int:
    result = kcall(model, name, *args)
    assert result.fault is None and not result.timed_out, result
    return result.value


def signed(result: int, bits: int = 32) -> int:
    result &= (1 << bits) - 1
    return result - (1 << bits) if result >> (bits - 1) else result


def kevent(model: ModelAdapter, kind: int, state: int) -> int:
    event = model.alloc(layout("KEVENT").size)
    kvalue(model, "KeInitializeEvent", event, kind, state)
    return event


def large_integer(model: ModelAdapter, quad: int) -> int:
    return data(model, (quad & (1 << 64) - 1).to_bytes(8, "little"))


def u64(model: ModelAdapter, address: int) -> int:
    return int.from_bytes(model.read(address, 8), "little")


# -- events ------------------------------------------------------------------------------------------
def test_the_event_state_is_in_the_dispatcher_header(model):
    event = kevent(model, SynchronizationEvent, 1)
    header = layout("DISPATCHER_HEADER").unpack(model.read(event, layout("DISPATCHER_HEADER").size))
    assert (header.Type, header.SignalState, header.Size) == (SynchronizationEvent, 1, 6)
    assert header.WaitListHead.Flink == header.WaitListHead.Blink == event + 8, "an empty wait list"
    assert kvalue(model, "KeReadStateEvent", kevent(model, NotificationEvent, 0)) == 0


def test_set_reset_and_clear_return_and_change_the_state(model):
    event = kevent(model, NotificationEvent, 0)
    assert kvalue(model, "KeSetEvent", event, 0, 0) == 0, "the previous state: not signalled"
    assert kvalue(model, "KeReadStateEvent", event) != 0
    assert kvalue(model, "KeSetEvent", event, 0, 0) != 0, "already signalled"
    assert kvalue(model, "KeResetEvent", event) != 0, "nonzero for a signaled state"
    assert kvalue(model, "KeResetEvent", event) == 0
    kvalue(model, "KeSetEvent", event, 0, 0)
    kvalue(model, "KeClearEvent", event)
    assert kvalue(model, "KeReadStateEvent", event) == 0, "its value is set to zero"


def test_a_satisfied_wait_clears_only_a_synchronization_event(model):
    sync, notification = kevent(model, SynchronizationEvent, 1), kevent(model, NotificationEvent, 1)
    zero = large_integer(model, 0)
    for event in (sync, notification):
        assert kvalue(model, "KeWaitForSingleObject", event, 0, 0, 0, 0) == STATUS_SUCCESS
    assert kvalue(model, "KeReadStateEvent", sync) == 0, "reset each time a wait is satisfied"
    assert kvalue(model, "KeReadStateEvent", notification) != 0, "remains in the signaled state"
    assert kvalue(model, "KeWaitForSingleObject", sync, 0, 0, 0, zero) == STATUS_TIMEOUT


def test_waits_on_a_non_signalled_event(model):
    event = kevent(model, NotificationEvent, 0)
    assert kvalue(model, "KeWaitForSingleObject", event, 0, 0, 0, large_integer(model, 0)) == STATUS_TIMEOUT
    assert kvalue(model, "KeWaitForSingleObject", event, 0, 0, 0, large_integer(model, -10_000)) == STATUS_TIMEOUT, \
        "a relative 1 ms"
    assert kvalue(model, "KeWaitForSingleObject", event, 0, 0, 0, large_integer(model, 1)) == STATUS_TIMEOUT, \
        "an absolute time long past"
    assert kcall(model, "KeWaitForSingleObject", event, 0, 0, 0, 0, timeout=0.2).timed_out, "NULL: indefinitely"


def test_a_created_thread_can_end_the_wait(model):
    event = kevent(model, SynchronizationEvent, 0)
    start = model.resolve("ntoskrnl.exe", "KeSetEvent").address  # KeSetEvent(Event, 0, FALSE) as a ThreadProc
    value(model, "CreateThread", 0, 0, start, event, 0, 0)
    assert kvalue(model, "KeWaitForSingleObject", event, 0, 0, 0, 0) == STATUS_SUCCESS
    assert kvalue(model, "KeReadStateEvent", event) == 0


def test_a_bad_event_pointer_faults(model):
    for name, args in (("KeInitializeEvent", (0, 0, 1)), ("KeSetEvent", (0x10, 0, 0)), ("KeReadStateEvent", (0,)),
                       ("KeWaitForSingleObject", (0, 0, 0, 0, 0))):
        assert kcall(model, name, *args).fault is not None, name


# -- spin lock and tick count --------------------------------------------------------------------------
def test_spin_lock_and_tick_count(model):
    lock = data(model, b"\xff" * 8)
    kvalue(model, "KeInitializeSpinLock", lock)
    assert u64(model, lock) == 0
    count = model.alloc(8)
    kvalue(model, "KeQueryTickCount", count)
    assert 0 < u64(model, count) < 1 << 63
    assert abs(u64(model, count) * 15.625 - value(model, "GetTickCount64")) < 100, "one clock since boot"


# -- pool --------------------------------------------------------------------------------------------
def test_pool_is_allocated_and_freed_with_its_tag(model):
    block = kvalue(model, "ExAllocatePoolWithTag", NonPagedPoolNx, 64, TAG)
    assert block and block % 16 == 0, "aligned to 16-byte boundaries in 64-bit systems"
    model.write(block, bytes(range(64)))
    wrong = kcall(model, "ExFreePoolWithTag", block, TAG ^ 1)
    assert wrong.fault is not None and any("tag" in line for line in wrong.diagnostics)
    kvalue(model, "ExFreePoolWithTag", block, TAG)
    assert kcall(model, "ExFreePool", block).fault is not None, "freed already"
    other = kvalue(model, "ExAllocatePoolWithTag", NonPagedPoolNx, 8, TAG)
    kvalue(model, "ExFreePool", other)  # "can be freed with either ExFreePool or ExFreePoolWithTag"


def test_freeing_what_is_not_pool_faults(model):
    for P in (0, model.alloc(16)):
        result = kcall(model, "ExFreePool", P)
        assert result.fault is not None and any("BAD_POOL_CALLER" in line for line in result.diagnostics)


def test_an_impossible_allocation_is_null_or_raises(model):
    assert kvalue(model, "ExAllocatePoolWithTag", NonPagedPoolNx, 1 << 60, TAG) == 0
    raised = kcall(model, "ExAllocatePoolWithTag", NonPagedPoolNx | 16, 1 << 60, TAG)  # POOL_RAISE_IF_...
    assert raised.fault is not None and raised.fault.code == 0xC000009A


# -- counted strings -------------------------------------------------------------------------------------
def unicode_string(model: ModelAdapter, text: str) -> int:
    buffer = wide(model, text)
    return data(model, layout("UNICODE_STRING").pack(Length=2 * len(text), MaximumLength=2 * len(text) + 2,
                                                     Buffer=buffer))


def test_rtl_init_unicode_string_counts_the_source(model):
    shape = layout("UNICODE_STRING")
    destination = data(model, shape.pack(Length=0x7777, MaximumLength=0x7777, Buffer=0x1234))
    source = wide(model, "specproof")
    kvalue(model, "RtlInitUnicodeString", destination, source)
    written = shape.unpack(model.read(destination, shape.size))
    assert (written.Length, written.MaximumLength, written.Buffer) == (18, 20, source)
    kvalue(model, "RtlInitUnicodeString", destination, 0)
    written = shape.unpack(model.read(destination, shape.size))
    assert (written.Length, written.MaximumLength, written.Buffer) == (0, 0, 0), "NULL: both set to zero"


def test_compare_and_equal_unicode_strings(model):
    base = unicode_string(model, "specproof")
    cases = (("specprooz", 0, -1), ("specproof", 0, 0), ("specpro", 0, 1), ("SPECPROOF", 1, 0), ("SPECPROOF", 0, 1))
    for other, insensitive, sign in cases:
        compared = signed(kvalue(model, "RtlCompareUnicodeString", base, unicode_string(model, other), insensitive))
        assert (compared > 0) - (compared < 0) == sign, (other, insensitive)
        equal = kvalue(model, "RtlEqualUnicodeString", base, unicode_string(model, other), insensitive)
        assert equal == (sign == 0), (other, insensitive)
    assert signed(kvalue(model, "RtlCompareUnicodeString", unicode_string(model, "a"), base, 1)) < 0


# -- lists ---------------------------------------------------------------------------------------------
def links(model: ModelAdapter, entry: int) -> tuple[int, int]:
    return u64(model, entry), u64(model, entry + 8)


def test_list_routines_are_inline_not_exports(model):
    assert model.resolve("ntoskrnl.exe", "InsertTailList") is None
    found = model.resolve_inline(Inline("InsertTailList", "void", ("PLIST_ENTRY", "PLIST_ENTRY"), "wdm.h"))
    assert found is not None and model.resolve(None, "InsertTailList") == found
    assert model.resolve_inline(Inline("NoSuchRoutine", "void", (), "wdm.h")) is None


def test_insert_and_remove_keep_the_ring(model):
    head, first, second = model.alloc(16), model.alloc(16), model.alloc(16)
    kvalue(model, "InitializeListHead", head)
    assert links(model, head) == (head, head) and kvalue(model, "IsListEmpty", head) == 1
    kvalue(model, "InsertTailList", head, first)
    assert links(model, head) == (first, first) and links(model, first) == (head, head)
    kvalue(model, "InsertHeadList", head, second)  # second, first
    assert links(model, head) == (second, first) and links(model, second) == (first, head)
    assert links(model, first) == (head, second) and kvalue(model, "IsListEmpty", head) == 0
    assert kvalue(model, "RemoveTailList", head) == first and links(model, head) == (second, second)
    kvalue(model, "InsertTailList", head, first)
    assert kvalue(model, "RemoveEntryList", second) == 0, "first is still on the list"
    assert kvalue(model, "RemoveHeadList", head) == first
    assert links(model, head) == (head, head) and kvalue(model, "IsListEmpty", head) == 1


def test_remove_head_of_an_empty_list_returns_the_head(model):
    head = model.alloc(16)
    kvalue(model, "InitializeListHead", head)
    assert kvalue(model, "RemoveHeadList", head) == head, "If the list is empty, RemoveHeadList returns ListHead"
    assert links(model, head) == (head, head), "effectively a no-op"
    only = model.alloc(16)
    kvalue(model, "InsertTailList", head, only)
    assert kvalue(model, "RemoveEntryList", only) == 1, "the list is empty after the removal"


def test_a_corrupt_list_faults_where_the_body_reads_it(model):
    head = data(model, (0xDEAD0000).to_bytes(8, "little") * 2)
    assert kcall(model, "RemoveHeadList", head).fault is not None
