"""Which module a kernel-mode routine comes from, and what keeps one from running in an ordinary process."""

from __future__ import annotations

import pytest

from specproof.adapter.kernelmode import (driver_context, irql_excludes_passive, is_kernel_module, is_static_library,
                                          kernel_module, library_module)
from specproof.adapter.specindex import module_of
from specproof.spec.model import Spec


def kernel_spec(params: list[tuple[str, str, bool]], irql: str | None = None, **fields) -> Spec:
    return Spec.model_validate({
        "api": "KeSomething", "header": "wdm.h", "mode": "kernel", "requirements": {"irql": irql},
        "source": {"format": "wdk-ddi", "file": "wdm/nf-wdm-kesomething.md", "digest": "sha256:0"},
        "signature": {"returns": "NTSTATUS",
                      "params": [{"name": n, "type": t, "optional": o} for n, t, o in params]},
        **fields})


@pytest.mark.parametrize("library, module", [
    ("NtosKrnl.lib", "ntoskrnl.exe"), ("NtosKrnl.exe", "ntoskrnl.exe"), ("Hal.lib", "hal.dll"),
    ("Ksecdd.lib", "ksecdd.sys"), ("Ndis.lib", "ndis.sys"), ("Netio.lib", "netio.sys"),
    ("fwpkclnt.lib", "fwpkclnt.sys"), ("FltMgr.lib", "fltmgr.sys"), ("Aux_Klib.lib", None), ("", None),
])
def test_an_import_library_stands_for_its_module(library: str, module: str | None):
    assert library_module(library) == module


def test_a_page_without_library_or_dll_takes_its_headers_module():
    assert kernel_module(None, "sspi.h") == "ksecdd.sys"  # the seed: kernel-mode SSPI lives in ksecdd.sys
    assert kernel_module(None, "wdm.h") == "ntoskrnl.exe"
    assert kernel_module("Ndis.lib", "wdm.h") == "ndis.sys"  # the library wins
    assert kernel_module("Aux_Klib.lib", "aux_klib.h") is None and is_static_library("Aux_Klib.lib")
    assert kernel_module(None, "nosuch.h") is None
    # the DLL first, then kernel mode's library or header; user mode has no fallback
    assert module_of("Secur32.dll", "Secur32.lib", "user", "sspi.h") == "Secur32.dll"
    assert module_of(None, None, "kernel", "sspi.h") == "ksecdd.sys"
    assert module_of(None, "Secur32.lib", "user", "sspi.h") is None


def test_kernel_modules_are_told_from_user_mode_dlls():
    assert is_kernel_module("ndis.sys") and is_kernel_module("NtosKrnl.exe") and is_kernel_module("hal.dll")
    assert not is_kernel_module("kernel32.dll") and not is_kernel_module("notepad.exe")


@pytest.mark.parametrize("irql, refused", [
    ("<= PASSIVE_LEVEL", None), ("PASSIVE_LEVEL", None), ("<= DISPATCH_LEVEL", None), ("Any level", None),
    ("&lt;= APC_LEVEL", None), ("See Remarks section.", None), (None, None),
    ("DISPATCH_LEVEL", "IRQL DISPATCH_LEVEL"), (">= DISPATCH_LEVEL", "IRQL DISPATCH_LEVEL"),
    ("DIRQL", "IRQL DIRQL"), ("= APC_LEVEL", "IRQL APC_LEVEL"),
])
def test_an_irql_requirement_that_leaves_out_passive_level_is_named(irql, refused):
    assert irql_excludes_passive(irql) == refused


def test_driver_context_names_what_the_routine_needs():
    assert driver_context(kernel_spec([("Event", "PRKEVENT", False)], "<= DISPATCH_LEVEL")) is None
    needs = driver_context(kernel_spec([("DriverObject", "PDRIVER_OBJECT", False), ("Size", "ULONG", False)]))
    assert needs.startswith("needs a DRIVER_OBJECT (DriverObject)")
    assert driver_context(kernel_spec([("Irp", "struct _IRP *", False)])).startswith("needs an IRP (Irp)")
    assert driver_context(kernel_spec([("Device", "PDEVICE_OBJECT", True)])) is None  # optional: NULL will do
    assert driver_context(kernel_spec([("Device", "WDFDEVICE", False)])).startswith("needs a WDFDEVICE")
    assert driver_context(kernel_spec([("Lock", "PKSPIN_LOCK", False)], "DISPATCH_LEVEL")).startswith(
        "IRQL DISPATCH_LEVEL")


def test_an_irql_left_to_the_remarks_is_read_from_the_pages_sentences():
    at_dpc = kernel_spec([("SpinLock", "PKSPIN_LOCK", False)], "See Remarks section.", clauses=[
        {"id": "M1", "section": "remarks", "kind": "normative", "digest": "sha256:0",
         "text": "If a driver is running at IRQL <= APC_LEVEL, it should call KeAcquireSpinLock instead."},
        {"id": "M2", "section": "remarks", "kind": "normative", "digest": "sha256:1",
         "text": "KeAcquireSpinLockAtDpcLevel assumes the caller is already running at IRQL >= DISPATCH_LEVEL."}])
    assert driver_context(at_dpc).startswith("IRQL >= DISPATCH_LEVEL")
    either = kernel_spec([("Event", "PRKEVENT", False)], "See Remarks section.", clauses=[
        {"id": "M1", "section": "remarks", "kind": "normative", "digest": "sha256:0",
         "text": "If Wait is set to FALSE, the caller can be running at IRQL <= DISPATCH_LEVEL."},
        {"id": "M2", "section": "remarks", "kind": "obligation", "digest": "sha256:1",
         "text": "Otherwise, callers of KeSetEvent must be running at IRQL <= APC_LEVEL."}])
    assert driver_context(either) is None
