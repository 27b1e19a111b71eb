"""The process's environment, modules and thread-local storage, as the processenv, libloaderapi and TLS pages say.

The model is one process with one thread. Its modules are the DLLs it
exports functions from (secur32.dll, fwpuclnt.dll, kernel32.dll ...): each
has a fake base address, LoadLibraryW and GetModuleHandleW find them by
name, and GetProcAddress finds the model's exports in them. A name the
model does not have fails as the pages say: ERROR_MOD_NOT_FOUND,
ERROR_PROC_NOT_FOUND, ERROR_ENVVAR_NOT_FOUND.
"""

from __future__ import annotations

import functools

from .core import export
from .kernel32 import ERROR_INVALID_PARAMETER, FALSE, KERNEL32, TRUE, Kernel32Functions

ERROR_MOD_NOT_FOUND = 126
ERROR_PROC_NOT_FOUND = 127
ERROR_ENVVAR_NOT_FOUND = 203
TLS_OUT_OF_INDEXES = 0xFFFFFFFF
TLS_MINIMUM_AVAILABLE = 64
IMAGE_BASE = 0x0000_0001_4000_0000  # the process's own image (GetModuleHandleW(NULL))
MODULE_BASE = 0x0000_7FF8_0000_0000
MODULE_STEP = 0x0100_0000


class ProcessFunctions(Kernel32Functions):
    """Environment variables, loaded modules and TLS slots of the model's one process."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.environment: dict[str, str] = {"PATH": "C:\\windows\\system32", "SYSTEMROOT": "C:\\windows"}
        self.tls: dict[int, int] = {}
        self._free_tls = list(range(TLS_MINIMUM_AVAILABLE))

    # -- modules -------------------------------------------------------------------------------
    @functools.cached_property
    def _module_bases(self) -> dict[str, int]:
        """Every module the model exports from, lower-case with its extension, at a base of its own (the
        exports are the class's: computed once an instance)."""
        names = sorted({m.lower() for f in self.declared_exports() for m in self.exported_from(f)})
        return {name: MODULE_BASE + MODULE_STEP * index for index, name in enumerate(names)}

    def _module_named(self, address: int) -> int | None:
        name = self.memory.read_wstr(address).lower().rsplit("\\", 1)[-1]
        modules = self._module_bases
        return modules.get(name) or modules.get(name + ".dll")

    @export(*KERNEL32)
    def LoadLibraryW(self, lpLibFileName: int) -> int:
        if not lpLibFileName:  # no name to look up: the loader refuses the argument
            self.diag("lpLibFileName is NULL")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return 0
        base = self._module_named(lpLibFileName)
        if base is None:
            self.diag("no such module in the model")
            self.set_last_error(ERROR_MOD_NOT_FOUND)
            return 0
        return base

    @export(*KERNEL32)
    def LoadLibraryExW(self, lpLibFileName: int, hFile: int, dwFlags: int) -> int:
        if hFile:  # "This parameter is reserved for future use. It must be NULL."
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return 0
        return self.LoadLibraryW(lpLibFileName)

    @export(*KERNEL32)
    def GetModuleHandleW(self, lpModuleName: int) -> int:
        if not lpModuleName:  # "If this parameter is NULL, GetModuleHandle returns a handle to the file used to
            return IMAGE_BASE  # create the calling process"
        return self.LoadLibraryW(lpModuleName)

    @export(*KERNEL32)
    def FreeLibrary(self, hLibModule: int) -> int:
        if hLibModule not in self._module_bases.values():
            self.set_last_error(ERROR_MOD_NOT_FOUND)
            return FALSE
        return TRUE

    @export(*KERNEL32)
    def GetProcAddress(self, hModule: int, lpProcName: int) -> int:
        modules = {base: name for name, base in self._module_bases.items()}
        module = modules.get(hModule) if hModule else None
        if hModule and module is None:
            self.set_last_error(ERROR_MOD_NOT_FOUND)
            return 0
        if lpProcName < 0x10000:  # an ordinal: the model's exports have none
            self.set_last_error(ERROR_PROC_NOT_FOUND)
            return 0
        name = self.memory.read_astr(lpProcName)
        exported = self.exported_from(name) if name in self.declared_exports() else ()
        if module is None or module not in {m.lower() for m in exported}:
            self.diag(f"{name!r} is not exported by {module or 'the process image'}")
            self.set_last_error(ERROR_PROC_NOT_FOUND)
            return 0
        return self._address_of[name]  # the adapter's export table (ModelAdapter)

    # -- the environment ------------------------------------------------------------------------
    @export(*KERNEL32)
    def GetEnvironmentVariableW(self, lpName: int, lpBuffer: int, nSize: int) -> int:
        name = self.memory.read_wstr(lpName) if lpName else ""
        value = next((v for k, v in self.environment.items() if k.upper() == name.upper()), None) if name else None
        if value is None:
            self.set_last_error(ERROR_ENVVAR_NOT_FOUND)  # "GetLastError returns ERROR_ENVVAR_NOT_FOUND"
            return 0
        data = value.encode("utf-16-le") + b"\0\0"
        if (nSize & 0xFFFFFFFF) < len(value) + 1:
            return len(value) + 1  # "the buffer size, in characters, required to hold the string and its null"
        self.memory.write(lpBuffer, data)
        return len(value)

    @export(*KERNEL32)
    def SetEnvironmentVariableW(self, lpName: int, lpValue: int) -> int:
        name = self.memory.read_wstr(lpName) if lpName else ""
        if not name or "=" in name:
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        existing = next((k for k in self.environment if k.upper() == name.upper()), name)
        if lpValue:
            self.environment[existing] = self.memory.read_wstr(lpValue)
        else:
            self.environment.pop(existing, None)  # "If this parameter is NULL, the variable is deleted"
        return TRUE

    # -- thread-local storage -------------------------------------------------------------------
    @export(*KERNEL32)
    def TlsAlloc(self) -> int:
        if not self._free_tls:
            return TLS_OUT_OF_INDEXES
        index = self._free_tls.pop(0)
        self.tls[index] = 0
        return index

    @export(*KERNEL32)
    def TlsFree(self, dwTlsIndex: int) -> int:
        index = dwTlsIndex & 0xFFFFFFFF
        if index not in self.tls:
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        del self.tls[index]
        self._free_tls.append(index)
        return TRUE

    @export(*KERNEL32)
    def TlsGetValue(self, dwTlsIndex: int) -> int:
        index = dwTlsIndex & 0xFFFFFFFF
        if index not in self.tls:
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return 0
        self.set_last_error(0)  # "TlsGetValue calls SetLastError to clear a thread's last error when it succeeds"
        return self.tls[index]

    @export(*KERNEL32)
    def TlsSetValue(self, dwTlsIndex: int, lpTlsValue: int) -> int:
        index = dwTlsIndex & 0xFFFFFFFF
        if index not in self.tls:
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        self.tls[index] = lpTlsValue
        return TRUE
