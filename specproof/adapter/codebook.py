"""Judging returned values against a spec's documented codes.

The documented set of a function is its return codes of one phase (what
the call returns, or what a reporter such as SspiGetAsyncCallStatus says on
completion): names with values, wildcard families with a range, and open
families ("Other NTSTATUS codes") that admit any value. Values the spec
does not name get a name from the SDK headers when they are at hand.
"""

from __future__ import annotations

from functools import cached_property

from ..spec.model import ReturnCode, Spec, return_width

_WIDTH32 = {"status", "bool"}
#: Where the headers name last errors: winerror.h's Win32 errors first, then Winsock's and RPC's.
_LAST_ERROR_PREFIXES = ("ERROR_", "WSAE", "RPC_S_", "RPC_X_", "EPT_S_")


class CodeBook:
    """Names and verdicts for returned values; SDK headers load only if a value needs a name."""

    def __init__(self, load_sdk: bool = True) -> None:
        self._load_sdk = load_sdk

    @cached_property
    def _sdk(self):
        if not self._load_sdk:
            return None
        try:
            from ..sdk import SdkHeaders

            return SdkHeaders.load()
        except Exception:  # no headers on this machine: values keep their hex only
            return None

    def constant(self, name: str) -> int | None:
        """A constant the SDK headers define: a macro (through the SDK index) or an enumerator (through libclang)."""
        sdk = self._sdk
        found = sdk.value(name) if sdk is not None else None
        if found is None:
            from .structs import type_info

            found = type_info().enum_value(name)
        return found

    @staticmethod
    def width(spec: Spec, value: int | None) -> int | None:
        """The return register cut to the function's return type (32-bit codes and BOOLs)."""
        if value is None or spec.returns.shape == "void":
            return None
        if spec.returns.shape == "boolean":
            return value & 0xFF
        if spec.returns.shape in _WIDTH32 or (spec.signature.returns or "").upper() in {
                "DWORD", "HRESULT", "NTSTATUS", "SECURITY_STATUS", "LONG", "ULONG", "BOOL", "INT", "UINT"}:
            return value & 0xFFFFFFFF
        return value

    @staticmethod
    def codes(spec: Spec, phase: str = "call") -> list[ReturnCode]:
        return [c for c in spec.returns.codes if c.phase == phase]

    def documented(self, spec: Spec, value: int, phase: str = "call") -> bool | None:
        """Whether `value` is in the documented set; None when the spec documents no set to judge by."""
        if spec.returns.shape not in ("status", "unknown"):
            return None
        if not self.codes(spec, phase):
            return None
        if phase == "call" and spec.returns.failure.signal == "error-code":
            return True  # "a nonzero error code defined in Winerror.h": any value is the page's
        if phase == "call" and spec.returns.failed(value, return_width(spec.signature.returns)):
            return True  # "If the function fails, the return value is THREAD_PRIORITY_ERROR_RETURN"
        return spec.returns.match(value, None, phase) is not None

    def is_success(self, spec: Spec, value: int, phase: str = "call") -> bool:
        """Whether the call succeeded: not one of the page's failure values (FALSE, NULL, INVALID_HANDLE_VALUE,
        a nonzero error code ...) where the page gives them; else a documented success code; with no success
        code documented, zero."""
        if phase == "call":
            failed = spec.returns.failed(value, return_width(spec.signature.returns))
            if failed is not None:
                return not failed
        successes = [c for c in self.codes(spec, phase) if c.success]
        if not successes:
            return value == 0
        return any(c.value == value for c in successes if c.value is not None)

    def value_of(self, spec: Spec, name: str) -> int | None:
        for code in spec.returns.codes:
            if code.name == name and code.value is not None:
                return code.value
        sdk = self._sdk
        return sdk.value(name, spec.header) if sdk else None

    def name(self, spec: Spec, value: int, phase: str = "call") -> str | None:
        if spec.returns.shape in ("bool", "boolean"):
            return "FALSE" if value == 0 else "TRUE"
        if spec.returns.shape not in ("status", "unknown"):
            return None
        for code in self.codes(spec, phase) + [c for c in spec.returns.codes if c.phase != "last-error"]:
            if code.name and code.value == value:
                return code.name
        failure = spec.returns.failure
        if phase == "call" and failure.signal == "value":
            # a count, a size or a handle: only the page's own failure values have names
            width = return_width(spec.signature.returns)
            return next((v.name for v in failure.values if v.name and not v.nonzero and v.covers(value, width)), None)
        sdk = self._sdk
        if phase == "call" and failure.signal == "error-code":
            return sdk.name_of(value, _LAST_ERROR_PREFIXES) if sdk else None  # the return value is a Win32 error
        if sdk is None:
            return None
        prefixes = sorted({"_".join(c.name.split("_")[:2]) + "_" for c in spec.returns.codes
                           if c.name and c.name.count("_") >= 2})
        return sdk.name_of(value, prefixes)

    def last_error_documented(self, spec: Spec, returned: int | None, last_error: int) -> bool | None:
        """Whether a failed call's last error is one the page names as a failure reason.

        None when there is nothing to judge: the call did not fail, or the page names no failure reason for
        the last error (then any last error passes, and is recorded).
        """
        reasons = [c for c in spec.returns.codes if c.phase == "last-error" and not c.success and c.value is not None]
        if not reasons or returned is None or self.is_success(spec, returned):
            return None
        return any(c.value == last_error & 0xFFFFFFFF for c in reasons)

    def promised_last_error(self, spec: Spec, returned: int) -> bool:
        """Whether `returned` is one of the page's failure values and the page says to call GetLastError then,
        so a call that returned it must have set the last error."""
        failure = spec.returns.failure
        return failure.last_error is True and spec.returns.failed(returned, return_width(spec.signature.returns)) is True

    def describe_last_errors(self, spec: Spec) -> str:
        """The last errors a page names as failure reasons, as a failing test's message shows them."""
        return ", ".join(f"{c.name} (0x{c.value:X})" for c in spec.returns.codes
                         if c.phase == "last-error" and not c.success and c.value is not None) or "none"

    def last_error_name(self, spec: Spec, value: int) -> str | None:
        """The SDK name of a last error: a Win32 error (ERROR_*, WSA*), else any name the headers give it."""
        sdk = self._sdk
        if sdk is None:
            return None
        return sdk.name_of(value & 0xFFFFFFFF, _LAST_ERROR_PREFIXES)

    def describe_set(self, spec: Spec, phase: str = "call") -> str:
        """The documented set as a failing test's message shows it."""
        parts = []
        for code in self.codes(spec, phase):
            if code.name:
                parts.append(f"{code.name} (0x{code.value:08X})" if code.value is not None else code.name)
            elif code.family and code.range:
                parts.append(f"{code.family} (0x{code.range[0]:08X}-0x{code.range[1]:08X})")
            elif code.family:
                parts.append(f"{code.family} (open)")
            elif code.label:
                parts.append(code.label)
        return ", ".join(parts) or "none"
