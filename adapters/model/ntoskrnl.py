"""Kernel-mode routines of wdm.h a process can run: event objects, a spin lock, pool, counted strings, lists.

Event objects live in the caller's storage ("Pointer to an event object,
for which the caller provides the storage"), so the model keeps an event's
state there, in the KEVENT's DISPATCHER_HEADER as the headers lay it out:
`Type` is the EVENT_TYPE (NotificationEvent 0, SynchronizationEvent 1, the
values Windows stores as EventNotificationObject and
EventSynchronizationObject) and `SignalState` is 1 or 0. An event a real
KeInitializeEvent wrote and one the model wrote read the same, and a bad
KEVENT pointer faults where the routine touches it. Waits have no APCs or
alerts to deliver, so KeWaitForSingleObject returns STATUS_SUCCESS or
STATUS_TIMEOUT only; while it waits, the threads CreateThread made run
(scheduler.py), so one of them can set the event.

Pool blocks remember their tag ("The system associates the pool tag with
the allocated memory"). Windows bugchecks (BAD_POOL_CALLER) when a driver
frees an address that is not pool, or with the wrong tag; a bugcheck ends
everything, which the model shows as a fault of the call, with the reason
in its diagnostics.

The list routines are FORCEINLINE in wdm.h, and ntoskrnl exports none of
them: they are exported from the pseudo-module "inline" only, for
`ModelAdapter.resolve_inline`, and run the headers' (mingw-w64 wdm.h)
bodies step by step, so a corrupt list faults where the compiled body
would. The WDK's own headers add integrity checks (FatalListEntryError)
that mingw-w64's do not; the model follows the headers the kit reads.
"""

from __future__ import annotations

import functools
import math
import struct
import time

from specproof.adapter.structs import layout

from .core import export
from .kernel32 import INFINITE, Kernel32Functions
from .memory import MASK64
from .structures import signed
from .sysinfo import EPOCH_AS_FILETIME

NTOSKRNL = ("NtosKrnl.exe",)
INLINE = ("inline",)  # wdm.h's FORCEINLINE routines: no module exports them

# wdm.h: EVENT_TYPE, POOL_TYPE flags, MAX_USTRING
NotificationEvent, SynchronizationEvent = 0, 1
POOL_RAISE_IF_ALLOCATION_FAILURE = 16
MAX_USTRING = 2 * (0xFFFF // 2)
# ntstatus.h
STATUS_SUCCESS = 0x00000000
STATUS_TIMEOUT = 0x00000102
STATUS_INSUFFICIENT_RESOURCES = 0xC000009A
#: The bugcheck Windows raises for a bad ExFreePool(WithTag) (named in the diagnostics only).
BAD_POOL_CALLER = 0xC2
#: One tick of the interval timer: 15.625 ms (64 ticks a second), as on most x64 machines.
TICK_MS = 15.625
#: The fields the routines touch, named as the headers name them; their offsets are read from the headers'
#: layouts when first used, not when the model is imported.
FLINK, BLINK = "Flink", "Blink"


@functools.cache
def _offset(struct_name: str, field: str) -> int:
    return next(f.offset for f in layout(struct_name).info.fields if f.name == field)


def _header() -> int:
    """Where a KEVENT's DISPATCHER_HEADER starts."""
    return _offset("KEVENT", "Header")


def _kevent_size_in_longs() -> int:
    """A KEVENT's DISPATCHER_HEADER.Size: "sizeof(KEVENT) / sizeof(LONG)", as KeInitializeEvent sets it."""
    return layout("KEVENT").size // 4


class KernelFunctions(Kernel32Functions):
    """The wdm.h routines the model knows; methods are named exactly like the routines they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.pool: dict[int, int] = {}  # pool block -> its tag

    # -- event objects ---------------------------------------------------------------------------
    def _event(self, Event: int) -> tuple[int, int]:
        """(Type, SignalState) of the dispatcher object at `Event`; a bad pointer faults."""
        header = self.read_record(Event + _header(), "DISPATCHER_HEADER")
        return header.Type, signed(header.SignalState)

    def _signal(self, Event: int, state: int) -> int:
        """Set the event's SignalState to `state` and return the one it had."""
        _, previous = self._event(Event)
        self.memory.write(Event + _header() + _offset("DISPATCHER_HEADER", "SignalState"),
                          state.to_bytes(4, "little", signed=True))
        return previous

    @export(*NTOSKRNL)
    def KeInitializeEvent(self, Event: int, Type: int, State: int) -> None:
        """"initializes an event object as a synchronization (single waiter) or notification type event and
        sets it to a signaled or not-signaled state" ("TRUE indicates a signaled state"). The header is
        written as Windows writes it: Type, Size in LONGs, SignalState and an empty WaitListHead."""
        kind = Type & 0xFFFFFFFF
        if kind not in (NotificationEvent, SynchronizationEvent):
            self.diag(f"Type {kind} is neither NotificationEvent nor SynchronizationEvent")
        waiters = Event + _header() + _offset("DISPATCHER_HEADER", "WaitListHead")
        self.write_record(Event + _header(), "DISPATCHER_HEADER", Type=kind & 0xFF, Size=_kevent_size_in_longs(),
                          SignalState=1 if State & 0xFF else 0, WaitListHead={"Flink": waiters, "Blink": waiters})

    @export(*NTOSKRNL)
    def KeSetEvent(self, Event: int, Increment: int, Wait: int) -> int:
        """"Calling KeSetEvent causes the event to attain a signaled state"; "If the previous state of the
        event object was signaled, a nonzero value is returned." Increment and Wait concern the priority
        and IRQL of waiters, which the model does not have."""
        return self._signal(Event, 1)

    @export(*NTOSKRNL)
    def KeResetEvent(self, Event: int) -> int:
        """"Event is reset to a not-signaled state, meaning that its value is set to zero"; it "returns a
        value that indicates the previous state of the specified Event, which is nonzero for a signaled
        state"."""
        return self._signal(Event, 0)

    @export(*NTOSKRNL)
    def KeClearEvent(self, Event: int) -> None:
        """"Event is set to a not-signaled state, meaning its value is set to zero." """
        self._signal(Event, 0)

    @export(*NTOSKRNL)
    def KeReadStateEvent(self, Event: int) -> int:
        """"If the event object is currently set to a signaled state, a nonzero value is returned.
        Otherwise, zero is returned." """
        return self._event(Event)[1]

    def _satisfy(self, Object: int) -> bool:
        """Whether the object satisfies a wait now, with the side effect: "The kernel automatically resets
        the event to the not-signaled state each time a wait is satisfied" (a synchronization event)."""
        kind, state = self._event(Object)
        if state <= 0:
            return False
        if kind == SynchronizationEvent:
            self._signal(Object, 0)
        return True

    def _timeout_ms(self, Timeout: int) -> int | None:
        """The wait's length in milliseconds (None: "waits indefinitely"). "A positive value specifies an
        absolute time, relative to January 1, 1601. A negative value specifies an interval relative to the
        current time", both in 100-nanosecond units."""
        if not Timeout:
            return None
        value = signed(self.memory.read_u64(Timeout), 64)
        remaining = value - (time.time_ns() // 100 + EPOCH_AS_FILETIME) if value > 0 else -value
        return min(max(0, math.ceil(remaining / 10_000)), INFINITE - 1)

    @export(*NTOSKRNL)
    def KeWaitForSingleObject(self, Object: int, WaitReason: int, WaitMode: int, Alertable: int,
                              Timeout: int) -> int:
        """STATUS_SUCCESS: "The dispatcher object specified by the Object parameter satisfied the wait";
        STATUS_TIMEOUT: "A time-out occurred before the object was set to a signaled state". "If Timeout =
        0, the routine returns without waiting. If the caller supplies a NULL pointer, the routine waits
        indefinitely" (an endless wait nothing ends: the call times out). The model delivers no alerts or
        APCs, so STATUS_ALERTED and STATUS_USER_APC never end a wait. Event objects only: another kind of
        dispatcher object is waited on by its SignalState alone (noted in the diagnostics)."""
        kind, _ = self._event(Object)
        if kind not in (NotificationEvent, SynchronizationEvent):
            self.diag(f"Object has dispatcher type {kind}: the model knows event objects only")
        milliseconds = self._timeout_ms(Timeout)
        if milliseconds == 0:
            return STATUS_SUCCESS if self._satisfy(Object) else STATUS_TIMEOUT
        satisfied = self._block(lambda: True if self._satisfy(Object) else None,
                                INFINITE if milliseconds is None else milliseconds)
        return STATUS_SUCCESS if satisfied else STATUS_TIMEOUT

    # -- spin locks and the tick count -------------------------------------------------------------
    @export(*NTOSKRNL)
    def KeInitializeSpinLock(self, SpinLock: int) -> None:
        """"initializes a variable of type KSPIN_LOCK": an unowned lock is zero."""
        self.memory.write_u64(SpinLock, 0)

    @export(*NTOSKRNL)
    def KeQueryTickCount(self, CurrentCount: int) -> None:
        """"The TickCount value increases by one at each interval timer interrupt while the system is
        running"; the model's system has been up as long as GetTickCount64 says."""
        milliseconds = (time.monotonic() - self._started) * 1000 + 1_000_000
        self.memory.write_u64(CurrentCount, max(1, int(milliseconds / TICK_MS)))

    # -- pool ------------------------------------------------------------------------------------
    @export(*NTOSKRNL)
    def ExAllocatePoolWithTag(self, PoolType: int, NumberOfBytes: int, Tag: int) -> int:
        """"ExAllocatePoolWithTag returns NULL if there is insufficient memory in the free pool to satisfy
        the request. Otherwise, the routine returns a pointer to the allocated memory." With
        POOL_RAISE_IF_ALLOCATION_FAILURE, "an exception [is] raised if the request cannot be satisfied".
        Blocks are 16-byte aligned; the model does not page-align large ones."""
        tag, size = Tag & 0xFFFFFFFF, NumberOfBytes & MASK64
        if size == 0:
            self.diag("NumberOfBytes is 0: \"Do not set NumberOfBytes = 0.\"")
        if not tag or any(not 0x20 <= byte <= 0x7E for byte in tag.to_bytes(4, "little") if byte):
            self.diag(f"Tag 0x{tag:08X} is not \"a non-zero character literal\" of characters 0x20..0x7E")
        try:
            block = self.memory.alloc(size)
        except MemoryError:
            if PoolType & POOL_RAISE_IF_ALLOCATION_FAILURE:
                self.fault(0, STATUS_INSUFFICIENT_RESOURCES, f"{size} bytes of pool: raised as PoolType asks")
            self.diag(f"{size} bytes are more than the free pool holds")
            return 0
        self.pool[block] = tag
        return block

    def _free_pool(self, P: int, Tag: int | None) -> None:
        """Free a pool block, bugchecking (a fault here) as Windows does for anything else."""
        if P not in self.pool:
            self.fault(P, what=f"BAD_POOL_CALLER (0x{BAD_POOL_CALLER:X}): 0x{P:X} is not a pool block")
        if Tag is not None and Tag & 0xFFFFFFFF != self.pool[P]:
            self.fault(P, what=f"BAD_POOL_CALLER (0x{BAD_POOL_CALLER:X}, 0xA): freed with tag "
                               f"0x{Tag & 0xFFFFFFFF:08X}, allocated with 0x{self.pool[P]:08X}")
        del self.pool[P]
        self.memory.free(P)

    @export(*NTOSKRNL)
    def ExFreePoolWithTag(self, P: int, Tag: int) -> None:
        """P: "Specifies the beginning address of a block of pool memory allocated by either
        ExAllocatePoolWithTag or ExAllocatePoolWithQuotaTag"; Tag: "Specifies the tag value passed to
        ExAllocatePoolWithTag ... when the block of memory was originally allocated"."""
        self._free_pool(P, Tag)

    @export(*NTOSKRNL)
    def ExFreePool(self, P: int) -> None:
        """"This routine releases memory allocated by ExAllocatePool, ExAllocatePoolWithTag,
        ExAllocatePoolWithQuota, or ExAllocatePoolWithQuotaTag" (whatever its tag)."""
        self._free_pool(P, None)

    # -- counted strings ------------------------------------------------------------------------
    @export(*NTOSKRNL)
    def RtlInitUnicodeString(self, DestinationString: int, SourceString: int) -> None:
        """As WdmlibRtlInitUnicodeStringEx's page says: "copies the SourceString pointer value to the Buffer
        member"; Length is "the length, in bytes, of the source string, excluding the terminating null",
        MaximumLength "including the terminating null"; "If SourceString is NULL, Length and MaximumLength
        are both set to zero." A string longer than MAX_USTRING - 1 bytes gets MAX_USTRING - 2 and
        MAX_USTRING."""
        length = 0
        if SourceString:
            length = min(len(self.memory.read_terminated(SourceString, 2)), MAX_USTRING - 2)
        self.write_record(DestinationString, "UNICODE_STRING", Length=length,
                          MaximumLength=length + 2 if SourceString else 0, Buffer=SourceString)

    def _units(self, String: int, upcase: bool) -> list[int]:
        """The UTF-16 units of a UNICODE_STRING (Length bytes of Buffer), upper-cased as asked."""
        counted = self.read_record(String, "UNICODE_STRING")
        raw = self.memory.read(counted.Buffer, counted.Length & ~1) if counted.Length >= 2 else b""
        units = list(struct.unpack(f"<{len(raw) // 2}H", raw))
        if upcase:  # RtlUpcaseUnicodeChar: one unit to one unit
            units = [ord(up) if len(up := chr(u).upper()) == 1 and not 0xD800 <= u < 0xE000 else u
                     for u in units]
        return units

    @export(*NTOSKRNL)
    def RtlCompareUnicodeString(self, String1: int, String2: int, CaseInSensitive: int) -> int:
        """"Zero: String1 equals String2. < Zero: String1 is less than String2. > Zero: String1 is greater
        than String2." "CaseInSensitive: If TRUE, case should be ignored". The first differing unit
        decides, else the lengths (a prefix is less), as Windows and Wine compare."""
        upcase = bool(CaseInSensitive & 0xFF)
        first, second = self._units(String1, upcase), self._units(String2, upcase)
        return next((a - b for a, b in zip(first, second) if a != b), len(first) - len(second))

    @export(*NTOSKRNL)
    def RtlEqualUnicodeString(self, String1: int, String2: int, CaseInSensitive: int) -> int:
        """"RtlEqualUnicodeString returns TRUE if the two Unicode strings are equal; otherwise, it returns
        FALSE." """
        upcase = bool(CaseInSensitive & 0xFF)
        return int(self._units(String1, upcase) == self._units(String2, upcase))

    # -- doubly linked lists (wdm.h FORCEINLINE bodies) ------------------------------------------------
    def _link(self, entry: int, field: str, to: int | None = None) -> int:
        """Read (or, given `to`, write) an entry's Flink or Blink."""
        at = entry + _offset("LIST_ENTRY", field)
        if to is None:
            return self.memory.read_u64(at)
        self.memory.write_u64(at, to)
        return to

    @export(*INLINE)
    def InitializeListHead(self, ListHead: int) -> None:
        """"sets the Flink and Blink members of ListHead to point to ListHead"."""
        self._link(ListHead, BLINK, ListHead)
        self._link(ListHead, FLINK, ListHead)

    @export(*INLINE)
    def IsListEmpty(self, ListHead: int) -> int:
        """"IsListEmpty returns TRUE if ListHead->Flink refers back to ListHead." """
        return int(self._link(ListHead, FLINK) == ListHead)

    @export(*INLINE)
    def InsertTailList(self, ListHead: int, Entry: int) -> None:
        """"InsertTailList updates ListHead->Blink to point to Entry. It updates Entry->Blink to point to the
        old last entry in the list, and sets Entry->Flink to ListHead." """
        old_blink = self._link(ListHead, BLINK)
        self._link(Entry, FLINK, ListHead)
        self._link(Entry, BLINK, old_blink)
        self._link(old_blink, FLINK, Entry)
        self._link(ListHead, BLINK, Entry)

    @export(*INLINE)
    def InsertHeadList(self, ListHead: int, Entry: int) -> None:
        """"InsertHeadList updates ListHead->Flink to point to Entry. It updates Entry->Flink to point to the
        old first entry in the list, and sets Entry->Blink to ListHead." """
        old_flink = self._link(ListHead, FLINK)
        self._link(Entry, FLINK, old_flink)
        self._link(Entry, BLINK, ListHead)
        self._link(old_flink, BLINK, Entry)
        self._link(ListHead, FLINK, Entry)

    @export(*INLINE)
    def RemoveHeadList(self, ListHead: int) -> int:
        """"RemoveHeadList returns a pointer to the entry removed from the list. If the list is empty,
        RemoveHeadList returns ListHead" ("effectively a no-op")."""
        entry = self._link(ListHead, FLINK)
        following = self._link(entry, FLINK)
        self._link(ListHead, FLINK, following)
        self._link(following, BLINK, ListHead)
        return entry

    @export(*INLINE)
    def RemoveTailList(self, ListHead: int) -> int:
        """"RemoveTailList returns a pointer to the entry that was at the tail of the list. If the list is
        empty, RemoveTailList returns ListHead." """
        entry = self._link(ListHead, BLINK)
        preceding = self._link(entry, BLINK)
        self._link(ListHead, BLINK, preceding)
        self._link(preceding, FLINK, ListHead)
        return entry

    @export(*INLINE)
    def RemoveEntryList(self, Entry: int) -> int:
        """"RemoveEntryList returns TRUE if, after removal of the designated entry, the list is empty.
        Otherwise, the routine returns FALSE." """
        following, preceding = self._link(Entry, FLINK), self._link(Entry, BLINK)
        self._link(following, BLINK, preceding)
        self._link(preceding, FLINK, following)
        return int(following == preceding)
