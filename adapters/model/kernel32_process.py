"""The process's environment, modules and thread-local storage, as the processenv, libloaderapi and TLS pages say.

The model is one process. Its modules are the DLLs it exports functions
from (secur32.dll, fwpuclnt.dll, kernel32.dll ...), loaded with the process
as statically linked DLLs are, so no reference count ever unloads one: each
has a fake base address and a path in SYSTEM_DIRECTORY, the
process's image has IMAGE_BASE and IMAGE_PATH, LoadLibraryW and
GetModuleHandleW find them by name, and GetProcAddress finds the model's
exports in them. A name the model does not have fails as the pages say:
ERROR_MOD_NOT_FOUND, ERROR_PROC_NOT_FOUND, ERROR_ENVVAR_NOT_FOUND.
"""

from __future__ import annotations

import functools

from .core import export
from .kernel32 import ERROR_INVALID_PARAMETER, FALSE, KERNEL32, TRUE, Kernel32Functions

ERROR_INSUFFICIENT_BUFFER = 122
ERROR_MOD_NOT_FOUND = 126
ERROR_PROC_NOT_FOUND = 127
ERROR_ENVVAR_NOT_FOUND = 203
GET_MODULE_HANDLE_EX_FLAG_PIN = 0x1
GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT = 0x2
GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS = 0x4
IMAGE_NAME = "specproof-model.exe"
IMAGE_PATH = "C:\\specproof\\" + IMAGE_NAME
SYSTEM_DIRECTORY = "C:\\windows\\system32\\"
TLS_OUT_OF_INDEXES = 0xFFFFFFFF
TLS_MINIMUM_AVAILABLE = 64
IMAGE_BASE = 0x0000_0001_4000_0000  # the process's own image (GetModuleHandleW(NULL))
MODULE_BASE = 0x0000_7FF8_0000_0000
MODULE_STEP = 0x0100_0000


class ProcessFunctions(Kernel32Functions):
    """Environment variables, loaded modules and TLS slots of the model's one process."""

    #: The adapter's export table (ModelAdapter): export address -> function, function -> address.
    _function_at: dict[int, str]
    _address_of: dict[str, int]

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.environment: dict[str, str] = {"PATH": "C:\\windows\\system32", "SYSTEMROOT": "C:\\windows"}
        self.tls: dict[int, int] = {}
        self._free_tls = list(range(TLS_MINIMUM_AVAILABLE))
        self._command_line = 0  # GetCommandLineW's string, made on the first call

    # -- modules -------------------------------------------------------------------------------
    @functools.cached_property
    def _module_bases(self) -> dict[str, int]:
        """Every module the model exports from, lower-case with its extension, at a base of its own (the
        exports are the class's: computed once an instance)."""
        names = sorted({m.lower() for f in self.declared_exports() for m in self.exported_from(f)})
        return {name: MODULE_BASE + MODULE_STEP * index for index, name in enumerate(names)}

    def _module_named(self, address: int) -> int | None:
        """"if the file name extension is omitted, the default library extension .dll is appended. The file
        name string can include a trailing point character (.) to indicate that the module name has no
        extension" (GetModuleHandleExW); names compare case-insensitively, without their path."""
        name = self.memory.read_wstr(address).lower().rsplit("\\", 1)[-1]
        if name == IMAGE_NAME:
            return IMAGE_BASE
        modules = self._module_bases
        if name.endswith("."):
            return modules.get(name[:-1])
        return modules.get(name) or modules.get(name + ".dll")

    def _module_path(self, module: int) -> str | None:
        """The full path of the module at base `module` (0: the process's image), or None."""
        if module in (0, IMAGE_BASE):
            return IMAGE_PATH
        name = next((n for n, base in self._module_bases.items() if base == module), None)
        return None if name is None else SYSTEM_DIRECTORY + name

    def _module_at(self, address: int) -> int | None:
        """The module an address lies in: its image, or for an export's address the first module that
        exports it."""
        for base in (IMAGE_BASE, *self._module_bases.values()):
            if base <= address < base + MODULE_STEP:
                return base
        function = self._function_at.get(address)  # the adapter's export table (ModelAdapter)
        modules = self.exported_from(function) if function else ()
        return self._module_bases.get(modules[0].lower()) if modules else None

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
    def GetModuleHandleExW(self, dwFlags: int, lpModuleName: int, phModule: int) -> int:
        """Flags: PIN "cannot be used with GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT"; with FROM_ADDRESS
        "The lpModuleName parameter is an address in the module"; "If this parameter is NULL, the function
        returns a handle to the file used to create the calling process". "If the function fails, this
        parameter [phModule] is NULL." Reference counts change nothing: no model module unloads."""
        if not phModule:
            self.diag("phModule is NULL")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        flags = dwFlags & 0xFFFFFFFF
        pin_and_unchanged = GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT
        if flags & ~(pin_and_unchanged | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS) or \
                flags & pin_and_unchanged == pin_and_unchanged:
            self.diag(f"dwFlags 0x{flags:X} is not a valid combination")
            self.memory.write_u64(phModule, 0)
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        if not lpModuleName:
            module: int | None = IMAGE_BASE
        elif flags & GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS:
            module = self._module_at(lpModuleName)
        else:
            module = self._module_named(lpModuleName)
        self.memory.write_u64(phModule, module or 0)
        if module is None:
            self.diag("no module of the model matches")
            self.set_last_error(ERROR_MOD_NOT_FOUND)
            return FALSE
        return TRUE

    @export(*KERNEL32)
    def GetModuleFileNameW(self, hModule: int, lpFilename: int, nSize: int) -> int:
        """"If the buffer is too small to hold the module name, the string is truncated to nSize characters
        including the terminating null character, the function returns nSize, and the function sets the
        last error to ERROR_INSUFFICIENT_BUFFER"; otherwise it returns the length without the null."""
        path = self._module_path(hModule)
        if path is None:
            self.diag(f"0x{hModule:X} is not a module of the model")
            self.set_last_error(ERROR_MOD_NOT_FOUND)
            return 0
        size = nSize & 0xFFFFFFFF
        if len(path) < size:
            self.memory.write(lpFilename, path.encode("utf-16-le") + b"\0\0")
            return len(path)
        if size:
            self.memory.write(lpFilename, path[:size - 1].encode("utf-16-le") + b"\0\0")
        self.set_last_error(ERROR_INSUFFICIENT_BUFFER)
        return size

    @export(*KERNEL32)
    def DisableThreadLibraryCalls(self, hLibModule: int) -> int:
        """"fails if the DLL specified by hModule has active static thread local storage, or if hModule is
        an invalid module handle": no model module has static TLS, so only a handle that is no module
        fails. The model sends no DLL_THREAD_ATTACH notifications to turn off."""
        if self._module_path(hLibModule) is None or not hLibModule:
            self.diag(f"0x{hLibModule:X} is not a module of the model")
            self.set_last_error(ERROR_MOD_NOT_FOUND)
            return FALSE
        return TRUE

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
    def GetCommandLineW(self) -> int:
        """"a pointer to the command-line string for the current process"; "The lifetime of the returned
        value is managed by the system": one string, made once, at the same address on every call."""
        if not self._command_line:
            self._command_line = self.memory.alloc(2 * len(IMAGE_PATH) + 6,
                                                   f'"{IMAGE_PATH}"'.encode("utf-16-le") + b"\0\0")
        return self._command_line

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
