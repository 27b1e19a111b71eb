"""Structures as the target lays them out, built and read by field name.

Tests, fixtures and the model hand structures to the implementation as
bytes in its memory (a SecBufferDesc, an OVERLAPPED, a WIN32_FIND_DATAW it
fills in). Their layouts come from the SDK headers through libclang
(`sdk/typeinfo.py`, the x86_64-w64-mingw32 target), so any structure a page
names can be built without writing its layout by hand, and the sizes and
offsets are the compiler's.

`layout("SecBuffer").pack(cbBuffer=0, BufferType=2, pvBuffer=0)` gives the
bytes; `layout("SecBuffer").unpack(data)` gives a `Record` with the fields
as attributes. Scalars are integers (written modulo their width, read
unsigned); a field that is a structure takes a mapping (or its bytes) and
reads as a `Record`; an array takes bytes (or a str for WCHAR/CHAR arrays)
and reads as bytes. Fields not given are zero.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

from ..sdk.locate import SdkNotFound
from ..sdk.typeinfo import KERNEL_HEADERS, FieldInfo, Inline, Layout, TypeInfo, TypeInfoError, kernel_include_dirs

__all__ = ["Record", "StructLayout", "StructError", "inline_definition", "layout", "pointee", "type_info"]


class StructError(ValueError):
    """A structure or field the headers do not define, or a value that does not fit its field."""


@functools.cache
def type_info() -> TypeInfo:
    """The SDK headers' types, user mode and then kernel mode (KEVENT, KSPIN_LOCK), parsed once a process
    (and cached on disk between processes)."""
    return TypeInfo.load().merged(TypeInfo.load(KERNEL_HEADERS, include_dirs=kernel_include_dirs()))


def inline_definition(name: str) -> Inline | None:
    """The headers' inline definition of function `name` (wdm.h's InsertTailList), or None: declared only,
    not at all, or the headers cannot be read here (then an export that is missing is just missing)."""
    try:
        return type_info().inline(name)
    except (TypeInfoError, SdkNotFound):
        return None


@functools.cache
def layout(name: str) -> "StructLayout":
    """The layout of a structure or union the headers define (`SecBuffer`, `_SecBuffer`, `WIN32_FIND_DATAW`)."""
    found = type_info().layout(name)
    if found is None:
        raise StructError(f"the SDK headers define no structure or union named {name!r}")
    return StructLayout(found)


def _is_array(info: FieldInfo) -> bool:
    return info.type.rstrip().endswith("]")


def _is_pointer(info: FieldInfo) -> bool:
    return type_info().canonical(info.type).rstrip().endswith("*") or info.type.rstrip().endswith("*")


def _is_wide(info: FieldInfo) -> bool:
    element = info.type.split("[", 1)[0].replace("const ", "").strip()
    return "wchar" in type_info().canonical(element).lower() or element.upper() in ("WCHAR", "WCHAR_T")


def _record_of(info: FieldInfo) -> Layout | None:
    if _is_array(info) or _is_pointer(info):
        return None
    return type_info().layout(info.type.replace("const ", "").replace("volatile ", "").strip())


class Record:
    """A structure read from bytes: its fields as attributes, in declaration order in `fields`."""

    def __init__(self, name: str, fields: dict[str, Any], wide: frozenset[str] = frozenset()) -> None:
        self._name = name
        self.fields = fields
        self._wide = wide  # the WCHAR array fields

    def __getattr__(self, field: str) -> Any:
        try:
            return self.__dict__["fields"][field]
        except KeyError:
            raise AttributeError(f"{self.__dict__.get('_name', 'structure')} has no field {field!r}") from None

    def string(self, field: str) -> str:
        """A CHAR or WCHAR array field as text, up to its NUL."""
        raw = getattr(self, field)
        text = raw.decode("utf-16-le" if field in self._wide else "latin-1", errors="replace")
        return text.split("\0", 1)[0]

    def __repr__(self) -> str:
        return f"{self._name}({', '.join(f'{k}={v!r}' for k, v in self.fields.items())})"


@dataclass(frozen=True)
class StructLayout:
    """One structure's layout, with the operations that write and read it."""

    info: Layout

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def size(self) -> int:
        return self.info.size

    def offset(self, field: str) -> int:
        return self._field(field).offset

    def _field(self, field: str) -> FieldInfo:
        found = self.info.field(field)
        if found is None:
            known = ", ".join(f.name for f in self.info.fields)
            raise StructError(f"{self.name} has no field {field!r} (its fields: {known})")
        return found

    def pack(self, **values: Any) -> bytes:
        """The structure's bytes with `values` in their fields and zero elsewhere."""
        image = bytearray(self.size)
        for name, value in values.items():
            self._put(image, self._field(name), value)
        return bytes(image)

    def _put(self, image: bytearray, info: FieldInfo, value: Any) -> None:
        if info.bits is not None:
            raise StructError(f"{self.name}.{info.name} is a bit-field; the kit does not write bit-fields")
        nested = _record_of(info)
        if isinstance(value, Mapping):
            if nested is None:
                raise StructError(f"{self.name}.{info.name} is not a structure; give it an integer or bytes")
            data = StructLayout(nested).pack(**value)
        elif isinstance(value, str):
            encoding = "utf-16-le" if _is_wide(info) else "latin-1"
            data = value.encode(encoding)
            if len(data) >= info.size:
                raise StructError(f"{value!r} does not fit {self.name}.{info.name} ({info.size} bytes with its NUL)")
        elif isinstance(value, (bytes, bytearray)):
            data = bytes(value)
            if len(data) > info.size:
                raise StructError(f"{len(data)} bytes do not fit {self.name}.{info.name} ({info.size} bytes)")
        elif isinstance(value, int):
            if info.size not in (1, 2, 4, 8) or _is_array(info):
                raise StructError(f"{self.name}.{info.name} ({info.type}) is not a scalar; give it bytes")
            data = (value & ((1 << (8 * info.size)) - 1)).to_bytes(info.size, "little")
        else:
            raise StructError(f"{self.name}.{info.name}: cannot write a {type(value).__name__}")
        image[info.offset:info.offset + len(data)] = data

    def unpack(self, data: bytes) -> Record:
        """The fields of the structure at the start of `data` (which must hold all of it)."""
        if len(data) < self.size:
            raise StructError(f"{len(data)} bytes are fewer than {self.name}'s {self.size}")
        fields: dict[str, Any] = {}
        for info in self.info.fields:
            raw = bytes(data[info.offset:info.offset + info.size])
            nested = _record_of(info)
            if info.bits is not None:
                continue  # bit-fields are not read by name
            if nested is not None:
                fields[info.name] = StructLayout(nested).unpack(raw)
            elif _is_array(info) or info.size not in (1, 2, 4, 8):
                fields[info.name] = raw
            else:
                fields[info.name] = int.from_bytes(raw, "little")
        wide = frozenset(f.name for f in self.info.fields if _is_array(f) and _is_wide(f))
        return Record(self.name, fields, wide)


def pointee(ctype: str | None) -> StructLayout | None:
    """The structure a pointer type points to (`PCtxtHandle`, `SecBufferDesc *`, `LPOVERLAPPED`), or None.

    The typedef chain is the headers' own, so a pointer typedef the kit has never seen still finds its
    structure; a pointer to a pointer, to a scalar or to void has none.
    """
    text = (ctype or "").replace("const ", "").replace("CONST ", "").strip()
    if not text:
        return None
    if text.endswith("*"):
        base = text[:-1].strip()
    else:
        canonical = type_info().canonical(text)
        if not canonical.endswith("*"):
            return None
        base = canonical[:-1].strip()
    if base.endswith("*"):
        return None
    found = type_info().layout(base.replace("const ", "").strip())
    return StructLayout(found) if found else None

