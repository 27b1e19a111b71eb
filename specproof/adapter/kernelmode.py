"""Kernel-mode routines outside a kernel: which module exports one, and what keeps one from running in an
ordinary process.

A kernel-mode page names the import library a driver links with (`NtosKrnl.lib`, `Hal.lib`, `Ndis.lib`),
sometimes the module itself (`NtosKrnl.exe`), and sometimes only its header (the kernel-mode SSPI pages of
sspi.h name none). The module is what an implementation has to ship: Windows and Wine alike keep the kernel
side as PE modules (ntoskrnl.exe, hal.dll, the `.sys` drivers), so a routine is present, a stub or missing
in one of them as a user-mode function is in its DLL.

Running it is another matter. An adapter that loads those modules into an ordinary process (Wine's helper)
can run a routine that needs nothing only a kernel has: callable at PASSIVE_LEVEL, and given no object only
the I/O manager or a driver framework makes. `driver_context` says, from the spec's own requirements and
parameter types, what a routine needs that such a process cannot give, in the words the outcome shows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from specproof.spec.model import Spec

#: Import libraries whose module is not `<stem>.sys`.
LIBRARY_MODULES = {
    "ntoskrnl": "ntoskrnl.exe",
    "hal": "hal.dll",
}

#: Static libraries: their code is linked into the driver, so no module exports their routines.
STATIC_LIBRARIES = frozenset({
    "aux_klib", "ntstrsafe", "wdmsec", "libcntpr", "bufferoverflowk", "bufferoverflowfastfailk",
    "ntintsafe", "wdmguid", "ksguid", "ntoskrnl_crt",
})

#: The module of a kernel-mode page that names no library or DLL, by its header.
HEADER_MODULES = {
    "wdm.h": "ntoskrnl.exe",
    "ntddk.h": "ntoskrnl.exe",
    "ntifs.h": "ntoskrnl.exe",
    "sspi.h": "ksecdd.sys",
    "ndis.h": "ndis.sys",
    "fwpmk.h": "fwpkclnt.sys",
    "fwpsk.h": "fwpkclnt.sys",
    "fltkernel.h": "fltmgr.sys",
    "hidpi.h": "hidparse.sys",
    "storport.h": "storport.sys",
    "ks.h": "ks.sys",
    "wsk.h": "netio.sys",
    "netioddk.h": "netio.sys",
}

#: Kernel objects only the I/O manager, the HAL or a driver framework makes, by the type a parameter
#: points to (P-prefixed or not): a routine that takes one needs a driver around it.
DRIVER_OBJECTS = (
    "DEVICE_OBJECT", "DRIVER_OBJECT", "IRP", "FILE_OBJECT", "KINTERRUPT", "DMA_ADAPTER", "ADAPTER_OBJECT",
    "CONTROLLER_OBJECT", "IO_STACK_LOCATION", "SCSI_REQUEST_BLOCK", "NET_BUFFER_LIST", "NET_BUFFER",
    "FLT_FILTER", "FLT_INSTANCE", "FLT_CALLBACK_DATA", "FLT_RELATED_OBJECTS", "FLT_PORT",
)
#: Handles a driver framework gives a driver (KMDF's WDF* objects, NDIS's handles).
_FRAMEWORK_HANDLE = re.compile(r"^(WDF[A-Z]+|NDIS_HANDLE|NETADAPTER|NETPACKETQUEUE)$")
_LEVELS = ("PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "DIRQL", "HIGH_LEVEL")


def library_module(library: str | None) -> str | None:
    """The module an import library stands for (`NtosKrnl.lib` → ntoskrnl.exe, `Ndis.lib` → ndis.sys);
    a module named as such is itself (`NtosKrnl.exe`); None for a static library or none named."""
    if not library:
        return None
    first = library.split()[0].strip(";,")
    stem, _, extension = first.rpartition(".")
    if not stem:
        stem, extension = first, ""
    key = stem.lower()
    if extension.lower() in ("exe", "sys", "dll"):
        return first.lower()
    if key in STATIC_LIBRARIES:
        return None
    return LIBRARY_MODULES.get(key, f"{key}.sys")


def is_static_library(library: str | None) -> bool:
    """The routine is linked into the driver from this library: no module exports it."""
    if not library:
        return False
    return library.split()[0].strip(";,").rpartition(".")[0].lower() in STATIC_LIBRARIES


def is_kernel_module(module: str) -> bool:
    """A module of the kernel side: a `.sys` driver, ntoskrnl.exe or hal.dll."""
    name = module.strip().lower()
    return name.endswith(".sys") or name in ("ntoskrnl.exe", "hal.dll")


def kernel_module(library: str | None, header: str | None) -> str | None:
    """The module a kernel-mode spec's routine is exported from: its library's, else its header's."""
    if is_static_library(library):  # no module, and not its header's either
        return None
    return library_module(library) or HEADER_MODULES.get((header or "").rsplit("/", 1)[-1].lower())


def irql_excludes_passive(irql: str | None) -> str | None:
    """The IRQL a routine must be called at when PASSIVE_LEVEL is not allowed (`DISPATCH_LEVEL`), else None.

    `<= X` and `Any level` allow PASSIVE_LEVEL; so does text naming PASSIVE_LEVEL among others. Text that
    names no level ("See Remarks") is not read as a refusal: the call is tried.
    """
    if not irql:
        return None
    text = irql.upper()
    if "PASSIVE" in text or "ANY" in text or "<" in text or "&LT;" in text:
        return None
    named = [level for level in _LEVELS if level in text]
    return f"IRQL {named[0]}" if named else None


#: What a page's sentences say of the caller's IRQL: "callers ... must be running at IRQL <= DISPATCH_LEVEL",
#: "assumes the caller is already running at IRQL >= DISPATCH_LEVEL".
_CALLER_IRQL = re.compile(r"\b(?:(?:must|can|should) be|(?:is|are) already) running at (?:an )?IRQL\s*(<=|>=|=|<|>|of)?\s*"
                          r"([A-Z_]+_LEVEL|DIRQL)", re.IGNORECASE)


def irql_from_sentences(texts: Iterable[str]) -> str | None:
    """For a requirement that says "See Remarks": the IRQL the page's sentences confine callers to when
    none of them lets a caller run at PASSIVE_LEVEL (`IRQL >= DISPATCH_LEVEL`), else None."""
    refused = None
    for text in texts:
        for match in _CALLER_IRQL.finditer(text):
            operator, level = (match.group(1) or "=").replace("of", "="), match.group(2).upper()
            if level == "PASSIVE_LEVEL" or operator in ("<=", "<"):
                return None
            refused = refused or f"IRQL {operator} {level}"
    return refused


def _pointee_name(ctype: str | None) -> str:
    """`PDEVICE_OBJECT`, `struct _DEVICE_OBJECT *`, `DEVICE_OBJECT*` → DEVICE_OBJECT."""
    if not ctype:
        return ""
    words = [w for w in re.split(r"[\s*]+", ctype) if w and w not in ("const", "struct", "volatile", "CONST")]
    name = words[-1] if words else ""
    return name.lstrip("_")


def _a(name: str) -> str:
    """`an IRP`, `a DEVICE_OBJECT`: the article as the name is read aloud (letters, for IRP and FLT_)."""
    spoken_vowel = name[0] in "AEIOU" or name[:3] in ("IRP", "FLT", "NDI", "MDL")
    return f"{'an' if spoken_vowel else 'a'} {name}"


def driver_context(spec: "Spec") -> str | None:
    """Why the routine cannot run in an ordinary process, as the outcome says it, or None when it can.

    An object of the kinds in DRIVER_OBJECTS or a framework handle as a required parameter: "needs a
    DEVICE_OBJECT". An IRQL requirement that leaves out PASSIVE_LEVEL: "IRQL DISPATCH_LEVEL"; where the
    requirement names no level ("See Remarks section."), the page's sentences about the caller's IRQL.
    """
    for param in spec.signature.params:
        name = _pointee_name(param.type)
        for kind in DRIVER_OBJECTS:
            if name in (kind, f"P{kind}", f"PP{kind}"):
                if not param.optional:
                    return f"needs {_a(kind)} ({param.name}), which only a driver's I/O manager or framework makes"
        if _FRAMEWORK_HANDLE.match(name) and not param.optional:
            return f"needs {_a(name)} ({param.name}), which only a driver framework makes"
    irql = spec.requirements.irql if spec.requirements else None
    level = irql_excludes_passive(irql)
    if level is None and (not irql or not any(name in irql.upper() for name in _LEVELS)):
        level = irql_from_sentences([spec.summary, *(clause.text for clause in spec.clauses)])
    if level:
        return f"{level}: it runs only above PASSIVE_LEVEL, which an ordinary process cannot raise to"
    return None
