"""Present, stub or missing, told from Wine's PE DLLs without running Wine.

Wine builds every export its .spec file marks `stub` as a small function
named `__wine_stub_<export>` that raises 0x80000100 when called; the DLLs
keep their COFF symbol tables, so those names can be read with pefile (the
export table) and the symbol table's string table. Forwarded exports
(`secur32.SspiLocalFree -> sspicli.SspiLocalFree`) are followed.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pefile

Status = Literal["present", "stub", "missing"]
STUB_PREFIX = b"__wine_stub_"
_EXPORT = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"]


def dll_name(module: str) -> str:
    """`Secur32.dll` and `secur32` both name secur32.dll (Wine's file names are lower case)."""
    name = module.strip().lower()
    return name if "." in name else name + ".dll"


class DllExports:
    """One DLL's named exports, forwarders and stubs."""

    def __init__(self, path: Path) -> None:
        pe = pefile.PE(str(path), fast_load=True)
        try:
            pe.parse_data_directories(directories=[_EXPORT])
            self.exports: dict[str, str | None] = {}
            directory = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
            for symbol in directory.symbols if directory else ():
                if symbol.name:
                    forwarder = symbol.forwarder.decode(errors="replace") if symbol.forwarder else None
                    self.exports[symbol.name.decode(errors="replace")] = forwarder
            self.stubs = _stub_names(pe)
        finally:
            pe.close()


def _stub_names(pe: pefile.PE) -> frozenset[str]:
    """Names `X` of the `__wine_stub_X` symbols in the COFF string table (names over 8 bytes live there)."""
    header = pe.FILE_HEADER
    if not header.PointerToSymbolTable:
        return frozenset()
    data = pe.__data__
    table = header.PointerToSymbolTable + 18 * header.NumberOfSymbols
    if table + 4 > len(data):
        return frozenset()
    (size,) = struct.unpack_from("<I", data, table)
    strings = bytes(data[table + 4: table + size])
    names = set()
    for entry in strings.split(b"\0"):
        if entry.startswith(STUB_PREFIX):
            names.add(entry[len(STUB_PREFIX):].decode(errors="replace"))
    return frozenset(names)


class StubIndex:
    """Answers `status(module, symbol)` for one Wine installation's DLL folder."""

    def __init__(self, dlls: Path) -> None:
        self.dlls = dlls

    @lru_cache(maxsize=None)
    def dll(self, name: str) -> DllExports | None:
        path = self.dlls / name
        if not path.is_file():
            return None
        try:
            return DllExports(path)
        except pefile.PEFormatError:
            return None

    def status(self, module: str, symbol: str, _depth: int = 0) -> Status:
        exports = self.dll(dll_name(module))
        if exports is None or symbol not in exports.exports:
            return "missing"
        forwarder = exports.exports[symbol]
        if forwarder and _depth < 8:
            target, _, name = forwarder.rpartition(".")
            if target and not name.startswith("#"):
                return self.status(target, name, _depth + 1)
        return "stub" if symbol in exports.stubs else "present"

    def knows(self, module: str) -> bool:
        """Whether `module` is one of Wine's own DLLs (others can only be asked of a running Wine)."""
        return self.dll(dll_name(module)) is not None
