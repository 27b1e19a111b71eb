"""Deliberately broken variants of the model, to prove the suites can fail, and how.

Each departs from the docs in one way, on one input: the garbage handle the
kit's `bad_handle("garbage")` passes to DeleteSecurityContext.
"""

from __future__ import annotations

import time

from specproof.adapter.marshal import GARBAGE
from specproof_adapters.model import INFINITE, ModelAdapter
from specproof_adapters.model.core import export

SEC_E_OK = 0x00000000
SEC_E_UNSUPPORTED_FUNCTION = 0x80090302  # a real SSPI code, but not one DeleteSecurityContext documents
ERROR_INVALID_HANDLE = 6


class _OnGarbage(ModelAdapter):
    def is_garbage(self, phContext: int) -> bool:
        return phContext != 0 and self.read_handle(phContext) == (GARBAGE, GARBAGE)


class GarbageOk(_OnGarbage):
    """Returns SEC_E_OK for a garbage handle."""

    def DeleteSecurityContext(self, phContext: int) -> int:
        return SEC_E_OK if self.is_garbage(phContext) else super().DeleteSecurityContext(phContext)


class FaultsOnGarbage(_OnGarbage):
    """Dereferences the garbage as a pointer, as a careless implementation would."""

    def DeleteSecurityContext(self, phContext: int) -> int:
        if self.is_garbage(phContext):
            self.fault(GARBAGE, what="DeleteSecurityContext followed the handle's contents")
        return super().DeleteSecurityContext(phContext)


class UndocumentedOnGarbage(_OnGarbage):
    """Returns a code DeleteSecurityContext's page does not list."""

    def DeleteSecurityContext(self, phContext: int) -> int:
        return SEC_E_UNSUPPORTED_FUNCTION if self.is_garbage(phContext) else super().DeleteSecurityContext(phContext)


class HangsOnGarbage(_OnGarbage):
    """Waits forever on a garbage handle."""

    def DeleteSecurityContext(self, phContext: int) -> int:
        if self.is_garbage(phContext):
            self.wait(INFINITE)
        return super().DeleteSecurityContext(phContext)


class LacksDelete(ModelAdapter):
    """Does not export DeleteSecurityContext at all."""

    missing = frozenset({"DeleteSecurityContext"})


class Slow(ModelAdapter):
    """The correct model, 20 ms a call: long enough to kill a run in the middle."""

    def call(self, address, args, timeout=None):
        time.sleep(0.02)
        return super().call(address, args, timeout)


class SetsLastErrorOnGarbage(_OnGarbage):
    """Fails on a garbage handle as documented, and also sets the thread's last error (ERROR_INVALID_HANDLE)."""

    def DeleteSecurityContext(self, phContext: int) -> int:
        if self.is_garbage(phContext):
            self.set_last_error(ERROR_INVALID_HANDLE)
        return super().DeleteSecurityContext(phContext)


class GarbageOkWithLastError(_OnGarbage):
    """Returns SEC_E_OK for a garbage handle, and sets ERROR_INVALID_HANDLE as the last error."""

    def DeleteSecurityContext(self, phContext: int) -> int:
        if self.is_garbage(phContext):
            self.set_last_error(ERROR_INVALID_HANDLE)
            return SEC_E_OK
        return super().DeleteSecurityContext(phContext)


class FindsThings(ModelAdapter):
    """Exports FindNextThing (tests/test_last_error_run.py): it fails, and sets the last error its handle says.

    A handle of 18 fails with ERROR_NO_MORE_FILES (18), which its page names; 5 fails without calling
    SetLastError; 9 fails with ERROR_NO_MORE_FILES but returns -1, a value the page calls success (a wrong
    sentinel); any other fails with ERROR_INVALID_HANDLE (6), which the page does not name.
    """

    @export("test.dll")
    def FindNextThing(self, hFind: int) -> int:
        if hFind == 5:
            return 0
        self.set_last_error(18 if hFind in (9, 18) else ERROR_INVALID_HANDLE)
        return 0xFFFFFFFF if hFind == 9 else 0


class ListTailForgotten(ModelAdapter):
    """InsertTailList links the entry in but leaves ListHead->Blink on the old last entry."""

    @export("inline")
    def InsertTailList(self, ListHead: int, Entry: int) -> None:
        old_blink = self.memory.read(ListHead + 8, 8)
        super().InsertTailList(ListHead, Entry)
        self.memory.write(ListHead + 8, old_blink)


class CompareBackwards(ModelAdapter):
    """RtlCompareUnicodeString with the sign turned round."""

    @export("NtosKrnl.exe")
    def RtlCompareUnicodeString(self, String1: int, String2: int, CaseInSensitive: int) -> int:
        return -super().RtlCompareUnicodeString(String1, String2, CaseInSensitive)


class RemovesNothing(ModelAdapter):
    """RemoveHeadList returns NULL instead of what it removed (or ListHead)."""

    @export("inline")
    def RemoveHeadList(self, ListHead: int) -> int:
        super().RemoveHeadList(ListHead)
        return 0
