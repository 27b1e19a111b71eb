"""The registry, as the winreg pages describe it: keys under the predefined roots, their values, open handles.

Every winreg function returns the error code itself ("If the function fails,
the return value is a nonzero error code defined in Winerror.h"): ERROR_SUCCESS,
ERROR_FILE_NOT_FOUND for a key or value that does not exist,
ERROR_INVALID_HANDLE for a key handle that is not open, ERROR_INVALID_PARAMETER
for a required pointer left NULL, ERROR_MORE_DATA when a buffer is too small
(with the size needed written back), ERROR_NO_MORE_ITEMS past the last
subkey or value. Names are compared without regard to case, as the registry
does. The model's registry starts empty under HKEY_CURRENT_USER and
HKEY_LOCAL_MACHINE and lives as long as the adapter instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .core import export
from .kernel32 import ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, Kernel32Functions

ADVAPI32 = ("advapi32.dll", "kernelbase.dll")
ERROR_SUCCESS = 0
ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_MORE_DATA = 234
ERROR_NO_MORE_ITEMS = 259
HKEY_CURRENT_USER = 0xFFFF_FFFF_8000_0001
HKEY_LOCAL_MACHINE = 0xFFFF_FFFF_8000_0002
REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY = 1, 2
RRF_RT_ANY = 0x0000FFFF


@dataclass
class Key:
    subkeys: dict[str, "Key"] = field(default_factory=dict)  # by lower-case name; each keeps its own spelling
    values: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)  # lower name -> (name, type, data)
    name: str = ""


class RegistryFunctions(Kernel32Functions):
    """The winreg exports; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.registry_roots = {HKEY_CURRENT_USER: Key(name="HKEY_CURRENT_USER"),
                               HKEY_LOCAL_MACHINE: Key(name="HKEY_LOCAL_MACHINE")}
        self.open_keys: dict[int, Key] = {}

    def _key(self, hKey: int) -> Key | None:
        key = self.registry_roots.get(hKey) or self.open_keys.get(hKey)
        if key is None:
            self.diag(f"0x{hKey:X} is not an open registry key")
        return key

    def _path(self, address: int) -> list[str]:
        text = self.memory.read_wstr(address) if address else ""
        return [part for part in text.split("\\") if part]

    @staticmethod
    def _walk(key: Key, parts: list[str]) -> Key | None:
        for part in parts:
            key = key.subkeys.get(part.lower())
            if key is None:
                return None
        return key

    def _open(self, key: Key) -> int:
        handle = self.next_handle_value()
        self.open_keys[handle] = key
        return handle

    @export(*ADVAPI32)
    def RegOpenKeyExW(self, hKey: int, lpSubKey: int, ulOptions: int, samDesired: int, phkResult: int) -> int:
        if not phkResult:
            return ERROR_INVALID_PARAMETER
        root = self._key(hKey)
        if root is None:
            return ERROR_INVALID_HANDLE
        key = self._walk(root, self._path(lpSubKey))
        if key is None:
            self.diag("no such key")
            return ERROR_FILE_NOT_FOUND  # "the RegOpenKeyEx function does not create the specified key"
        self.memory.write_u64(phkResult, self._open(key))
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegCreateKeyExW(self, hKey: int, lpSubKey: int, Reserved: int, lpClass: int, dwOptions: int,
                        samDesired: int, lpSecurityAttributes: int, phkResult: int, lpdwDisposition: int) -> int:
        root = self._key(hKey)
        if root is None:
            return ERROR_INVALID_HANDLE
        if not lpSubKey or not phkResult:
            return ERROR_INVALID_PARAMETER
        key, disposition = root, REG_OPENED_EXISTING_KEY
        for part in self._path(lpSubKey):
            if part.lower() not in key.subkeys:
                key.subkeys[part.lower()] = Key(name=part)
                disposition = REG_CREATED_NEW_KEY
            key = key.subkeys[part.lower()]
        self.memory.write_u64(phkResult, self._open(key))
        if lpdwDisposition:
            self.memory.write_u32(lpdwDisposition, disposition)
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegCloseKey(self, hKey: int) -> int:
        if hKey in self.registry_roots:
            return ERROR_SUCCESS
        if self.open_keys.pop(hKey, None) is None:
            self.diag(f"0x{hKey:X} is not an open registry key")
            return ERROR_INVALID_HANDLE
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegFlushKey(self, hKey: int) -> int:
        return ERROR_SUCCESS if self._key(hKey) is not None else ERROR_INVALID_HANDLE

    @export(*ADVAPI32)
    def RegDeleteKeyW(self, hKey: int, lpSubKey: int) -> int:
        if not lpSubKey:
            return ERROR_INVALID_PARAMETER
        root = self._key(hKey)
        if root is None:
            return ERROR_INVALID_HANDLE
        parts = self._path(lpSubKey)
        parent = self._walk(root, parts[:-1]) if parts else None
        key = parent.subkeys.get(parts[-1].lower()) if parent is not None else None
        if key is None:
            return ERROR_FILE_NOT_FOUND
        if key.subkeys:
            self.diag("the key has subkeys: \"The subkey to be deleted must not have subkeys\"")
            return ERROR_ACCESS_DENIED
        del parent.subkeys[parts[-1].lower()]
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegSetValueExW(self, hKey: int, lpValueName: int, Reserved: int, dwType: int, lpData: int,
                       cbData: int) -> int:
        key = self._key(hKey)
        if key is None:
            return ERROR_INVALID_HANDLE
        size = cbData & 0xFFFFFFFF
        if size and not lpData:
            return ERROR_INVALID_PARAMETER
        name = self.memory.read_wstr(lpValueName) if lpValueName else ""
        key.values[name.lower()] = (name, dwType & 0xFFFFFFFF, self.memory.read(lpData, size) if size else b"")
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegDeleteValueW(self, hKey: int, lpValueName: int) -> int:
        key = self._key(hKey)
        if key is None:
            return ERROR_INVALID_HANDLE
        name = self.memory.read_wstr(lpValueName) if lpValueName else ""
        if key.values.pop(name.lower(), None) is None:
            return ERROR_FILE_NOT_FOUND
        return ERROR_SUCCESS

    def _give(self, data: bytes, lpData: int, lpcbData: int) -> int:
        """Copy a value's data out: ERROR_MORE_DATA (with the size needed) when the buffer is too small."""
        if lpcbData:
            room = self.memory.read_u32(lpcbData)
            self.memory.write_u32(lpcbData, len(data))
            if lpData and room < len(data):
                return ERROR_MORE_DATA
        if lpData:
            if not lpcbData:
                return ERROR_INVALID_PARAMETER  # "lpcbData can be NULL only if lpData is NULL"
            self.memory.write(lpData, data)
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegQueryValueExW(self, hKey: int, lpValueName: int, lpReserved: int, lpType: int, lpData: int,
                         lpcbData: int) -> int:
        key = self._key(hKey)
        if key is None:
            return ERROR_INVALID_HANDLE
        name = self.memory.read_wstr(lpValueName) if lpValueName else ""
        value = key.values.get(name.lower())
        if value is None:
            return ERROR_FILE_NOT_FOUND
        if lpType:
            self.memory.write_u32(lpType, value[1])
        return self._give(value[2], lpData, lpcbData)

    @export(*ADVAPI32)
    def RegGetValueW(self, hkey: int, lpSubKey: int, lpValue: int, dwFlags: int, pdwType: int, pvData: int,
                     pcbData: int) -> int:
        if not dwFlags & RRF_RT_ANY:  # the flags must restrict the type (RRF_RT_*)
            return ERROR_INVALID_PARAMETER
        root = self._key(hkey)
        if root is None:
            return ERROR_INVALID_HANDLE
        key = self._walk(root, self._path(lpSubKey))
        if key is None:
            return ERROR_FILE_NOT_FOUND
        name = self.memory.read_wstr(lpValue) if lpValue else ""
        value = key.values.get(name.lower())
        if value is None:
            return ERROR_FILE_NOT_FOUND
        if pdwType:
            self.memory.write_u32(pdwType, value[1])
        return self._give(value[2], pvData, pcbData)

    @export(*ADVAPI32)
    def RegEnumKeyExW(self, hKey: int, dwIndex: int, lpName: int, lpcchName: int, lpReserved: int, lpClass: int,
                      lpcchClass: int, lpftLastWriteTime: int) -> int:
        key = self._key(hKey)
        if key is None:
            return ERROR_INVALID_HANDLE
        if not lpName or not lpcchName:
            return ERROR_INVALID_PARAMETER
        names = [k.name for k in key.subkeys.values()]
        index = dwIndex & 0xFFFFFFFF
        if index >= len(names):
            return ERROR_NO_MORE_ITEMS
        return self._give_name(names[index], lpName, lpcchName)

    def _give_name(self, name: str, lpName: int, lpcchName: int) -> int:
        """A name into a buffer of *lpcchName characters; the count written back leaves out the NUL."""
        room = self.memory.read_u32(lpcchName)
        if room < len(name) + 1:
            return ERROR_MORE_DATA
        self.memory.write(lpName, (name + "\0").encode("utf-16-le"))
        self.memory.write_u32(lpcchName, len(name))
        return ERROR_SUCCESS

    @export(*ADVAPI32)
    def RegEnumValueW(self, hKey: int, dwIndex: int, lpValueName: int, lpcchValueName: int, lpReserved: int,
                      lpType: int, lpData: int, lpcbData: int) -> int:
        if not lpValueName or not lpcchValueName:
            return ERROR_INVALID_PARAMETER
        key = self._key(hKey)
        if key is None:
            return ERROR_INVALID_HANDLE
        values = list(key.values.values())
        index = dwIndex & 0xFFFFFFFF
        if index >= len(values):
            return ERROR_NO_MORE_ITEMS
        name, kind, data = values[index]
        status = self._give_name(name, lpValueName, lpcchValueName)
        if status != ERROR_SUCCESS:
            return status
        if lpType:
            self.memory.write_u32(lpType, kind)
        return self._give(data, lpData, lpcbData)

    @export(*ADVAPI32)
    def RegQueryInfoKeyW(self, hKey: int, lpClass: int, lpcchClass: int, lpReserved: int, lpcSubKeys: int,
                         lpcbMaxSubKeyLen: int, lpcbMaxClassLen: int, lpcValues: int, lpcbMaxValueNameLen: int,
                         lpcbMaxValueLen: int, lpcbSecurityDescriptor: int, lpftLastWriteTime: int) -> int:
        key = self._key(hKey)
        if key is None:
            return ERROR_INVALID_HANDLE
        answers = (
            (lpcSubKeys, len(key.subkeys)),
            (lpcbMaxSubKeyLen, max((len(k.name) for k in key.subkeys.values()), default=0)),
            (lpcValues, len(key.values)),
            (lpcbMaxValueNameLen, max((len(v[0]) for v in key.values.values()), default=0)),
            (lpcbMaxValueLen, max((len(v[2]) for v in key.values.values()), default=0)),
        )
        for address, number in answers:
            if address:
                self.memory.write_u32(address, number)
        return ERROR_SUCCESS
