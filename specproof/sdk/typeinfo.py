"""Types from the SDK headers, as the compiler sees them, through libclang.

A structure's size and field offsets are what a caller must get exactly
right, and no hand-written table keeps up with the thousand structures the
pages name. libclang reads the mingw-w64 headers the way the compiler does
for the target (x86_64-w64-mingw32, LLP64; `_WIN64`, `UNICODE`, `WINVER`
set), so every preprocessor branch is decided as the compiler decides it,
not guessed; it gives each structure and union its size, alignment and
fields (offset, size, type), and each typedef its chain.

The `libclang` wheel ships the library; it lacks the compiler's own
resource headers (winnt.h includes x86intrin.h), which Debian's
`libclang-common-16-dev` provides (any clang resource folder will do: set
`SPECPROOF_CLANG_RESOURCES`). One parse of windows.h with the security,
WFP and WinHTTP headers takes about half a second; what it gives is cached
per header set, include folders, libclang version and this module, as the
SDK index is.

A header set libclang cannot parse is a TypeInfoError naming the header and
the first diagnostic: a layout read from a half-parsed header would be a
wrong layout, silently.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .index import digest_of, list_headers
from .locate import default_cache_dir, resolve_include_dirs

__all__ = ["DEFAULT_HEADERS", "KERNEL_HEADERS", "FieldInfo", "Inline", "Layout", "TypeInfo", "TypeInfoError",
           "clang_resources", "kernel_include_dirs"]

#: The headers parsed by default: every structure the committed specs' functions take is declared in them.
DEFAULT_HEADERS = ("windows.h", "security.h", "sspi.h", "schannel.h", "fwpmu.h", "winhttp.h", "psapi.h")
#: The kernel-mode headers, parsed in a translation unit of their own (they redefine what windows.h does):
#: ntifs.h includes ntddk.h and wdm.h, found in the `ddk` folder beside the user-mode headers.
KERNEL_HEADERS = ("ntifs.h",)


def kernel_include_dirs(include_dirs: Sequence[Path | str] | None = None) -> tuple[Path, ...]:
    """The include folders with each one's `ddk` folder after them, where the kernel-mode headers live."""
    dirs = resolve_include_dirs(include_dirs)
    return (*dirs, *(folder / "ddk" for folder in dirs if (folder / "ddk").is_dir()))
#: The compiler's view: the target, Microsoft extensions, and the configuration the SDK index reads for.
CLANG_ARGS = ("-x", "c", "-target", "x86_64-w64-mingw32", "-fms-extensions", "-nostdinc", "-DUNICODE",
              "-D_UNICODE", "-D_WIN32_WINNT=0x0A00", "-DWINVER=0x0A00", "-DSECURITY_WIN32")
RESOURCES_ENV = "SPECPROOF_CLANG_RESOURCES"
_RESOURCE_CANDIDATES = tuple(Path(f"/usr/lib/llvm-{v}/lib/clang/{v}/include") for v in range(20, 13, -1))
FORMAT = 4


@dataclass(frozen=True)
class Inline:
    """A function the headers define inline (`FORCEINLINE VOID InsertTailList(...) {...}`): no module
    exports it, so a caller runs the headers' own body. The types are libclang's spelling of the headers'
    declaration, never a page's."""

    name: str
    result: str
    params: tuple[str, ...]
    header: str  # the header file that defines it, e.g. "wdm.h"


class TypeInfoError(RuntimeError):
    """The headers could not be read as the compiler would; the message names the header and the diagnostic."""


@dataclass(frozen=True)
class FieldInfo:
    """One field: its name, byte offset, size in bytes (0 for a flexible array) and C type as declared."""

    name: str
    offset: int
    size: int
    type: str
    bits: int | None = None  # the width of a bit-field


@dataclass(frozen=True)
class Layout:
    """A structure or union as the target lays it out."""

    name: str
    kind: str  # "struct" or "union"
    size: int
    align: int
    fields: tuple[FieldInfo, ...]

    def field(self, name: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.name == name), None)


def clang_resources() -> Path:
    """The compiler's resource headers (x86intrin.h and the rest): $SPECPROOF_CLANG_RESOURCES, else Debian's."""
    configured = os.environ.get(RESOURCES_ENV)
    candidates = [Path(configured)] if configured else list(_RESOURCE_CANDIDATES)
    for path in candidates:
        if (path / "stddef.h").is_file():
            return path
    raise TypeInfoError(
        "no clang resource headers found (winnt.h needs x86intrin.h): install Debian's libclang-common-16-dev "
        f"(apt-get install libclang-common-16-dev) or set {RESOURCES_ENV} to a clang resource include folder")


def _libclang():
    try:
        import clang.cindex as cindex
    except ImportError as error:  # pragma: no cover - a dependency of the kit
        raise TypeInfoError("libclang's Python bindings are missing: pip install libclang") from error
    return cindex


class TypeInfo:
    """Layouts and typedef chains of one header set; `load` reads them from the cache or parses the headers."""

    def __init__(self, layouts: dict[str, Layout], typedefs: dict[str, str], enums: dict[str, int],
                 inlines: dict[str, Inline] | None = None) -> None:
        self._layouts = layouts
        self._typedefs = typedefs
        self._enums = enums
        self._inlines = inlines or {}

    @classmethod
    def load(cls, headers: Sequence[str] = DEFAULT_HEADERS, include_dirs: Sequence[Path | str] | None = None,
             cache_dir: Path | None = None) -> "TypeInfo":
        dirs = resolve_include_dirs(include_dirs)
        resources = clang_resources()
        digest = _digest(headers, dirs, resources)
        cache = (default_cache_dir() if cache_dir is None else cache_dir) / f"typeinfo-{digest[:24]}.pickle"
        try:
            with cache.open("rb") as stream:
                payload = pickle.load(stream)
            if isinstance(payload, tuple) and len(payload) == 6 and payload[:2] == (FORMAT, digest):
                return cls(*payload[2:])
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            pass
        layouts, typedefs, enums, inlines = _parse(headers, dirs, resources)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("wb") as stream:
                pickle.dump((FORMAT, digest, layouts, typedefs, enums, inlines), stream,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, cache)
        except OSError:  # a read-only cache folder costs the next run a parse, nothing else
            pass
        return cls(layouts, typedefs, enums, inlines)

    def merged(self, other: "TypeInfo") -> "TypeInfo":
        """This set's types with `other`'s added where this one lacks a name (the kernel-mode headers' after
        the user-mode ones: the structures both define, UNICODE_STRING or LIST_ENTRY, are the same)."""
        return TypeInfo({**other._layouts, **self._layouts}, {**other._typedefs, **self._typedefs},
                        {**other._enums, **self._enums}, {**other._inlines, **self._inlines})

    def inline(self, name: str) -> Inline | None:
        """The headers' inline definition of function `name`, or None (declared only, or not at all)."""
        return self._inlines.get(name)

    def canonical(self, name: str) -> str:
        """The end of a typedef chain (`PCtxtHandle` -> `struct _SecHandle *`), or the name itself."""
        seen = set()
        while name in self._typedefs and name not in seen:
            seen.add(name)
            name = self._typedefs[name]
        return name

    def layout(self, name: str) -> Layout | None:
        """The layout a structure, union or typedef name stands for (`SecHandle`, `_SecHandle`, `struct _SecHandle`)."""
        key = name.strip()
        for candidate in (key, self.canonical(key)):
            bare = candidate.removeprefix("struct ").removeprefix("union ").strip()
            if bare in self._layouts:
                return self._layouts[bare]
        return None

    def enum_value(self, name: str) -> int | None:
        """An enumeration constant's value (`FWP_IP_VERSION_V4` is 0): the macro table cannot see enums."""
        return self._enums.get(name)

    def names(self) -> list[str]:
        return sorted(self._layouts)


def _digest(headers: Sequence[str], dirs: Sequence[Path], resources: Path) -> str:
    """The SDK index's digest of the headers and the sdk code (this module included), with what only this cache
    depends on: the headers parsed, the compiler arguments, the resource folder and the libclang in use."""
    hasher = hashlib.sha256(f"specproof-typeinfo {FORMAT}\n".encode())
    hasher.update(digest_of(dirs, list_headers(dirs)).encode())
    hasher.update(" ".join((*headers, *CLANG_ARGS, str(resources))).encode())
    try:
        import clang

        hasher.update(str(Path(clang.__file__).parent).encode())
        hasher.update(getattr(clang, "__version__", "").encode())
    except ImportError:  # pragma: no cover
        pass
    return hasher.hexdigest()


def _parse(headers: Sequence[str], dirs: Sequence[Path],
           resources: Path) -> tuple[dict[str, Layout], dict[str, str], dict[str, int], dict[str, Inline]]:
    cindex = _libclang()
    args = [*CLANG_ARGS, "-isystem", str(resources)]
    for folder in dirs:
        args += ["-isystem", str(folder)]
    source = "".join(f"#include <{header}>\n" for header in headers)
    try:
        unit = cindex.Index.create().parse(
            "specproof-types.c", args=args, unsaved_files=[("specproof-types.c", source)],
            options=0)  # with the bodies: an inline definition is a definition only when its body is seen
    except cindex.TranslationUnitLoadError as error:
        raise TypeInfoError(f"libclang could not parse {', '.join(headers)}: {error}") from error
    errors = [d for d in unit.diagnostics if d.severity >= cindex.Diagnostic.Error]
    if errors:
        first = errors[0]
        where = f"{first.location.file}:{first.location.line}:{first.location.column}" if first.location.file \
            else ", ".join(headers)
        raise TypeInfoError(f"{where}: {first.spelling} ({len(errors)} error(s) parsing {', '.join(headers)} "
                            "for x86_64-w64-mingw32); the header set cannot give reliable layouts")
    layouts: dict[str, Layout] = {}
    typedefs: dict[str, str] = {}
    enums: dict[str, int] = {}
    inlines: dict[str, Inline] = {}
    records = (cindex.CursorKind.STRUCT_DECL, cindex.CursorKind.UNION_DECL)

    def record(cursor, name: str) -> None:
        kind = "union" if cursor.kind == cindex.CursorKind.UNION_DECL else "struct"
        size = cursor.type.get_size()
        if size <= 0 or name in layouts:
            return
        layouts[name] = Layout(name, kind, size, cursor.type.get_align(), tuple(fields_of(cursor.type, 0)))

    def fields_of(record_type, base: int) -> list[FieldInfo]:
        """The fields as C names them: an anonymous union or structure's members are the record's own
        (`IPSEC_TRAFFIC0.localV4Address`), at the member's offset plus theirs."""
        found: list[FieldInfo] = []
        for field in record_type.get_fields():
            offset = base + field.get_field_offsetof() // 8
            if field.is_anonymous() and not field.spelling.isidentifier():  # `u` in LARGE_INTEGER has a name
                found.extend(fields_of(field.type, offset))
                continue
            found.append(FieldInfo(field.spelling, offset, max(field.type.get_size(), 0), field.type.spelling,
                                   field.get_bitfield_width() if field.is_bitfield() else None))
        return found

    def enumerators(declaration) -> None:
        for constant in declaration.get_children():
            if constant.kind == cindex.CursorKind.ENUM_CONSTANT_DECL:
                enums.setdefault(constant.spelling, constant.enum_value)

    for cursor in unit.cursor.get_children():
        if cursor.kind == cindex.CursorKind.FUNCTION_DECL and cursor.is_definition() and cursor.location.file \
                and not cursor.spelling.startswith("__"):  # the compiler's own (__readgsqword) are not the API
            inlines.setdefault(cursor.spelling, Inline(
                cursor.spelling, cursor.result_type.spelling,
                tuple(argument.type.spelling for argument in cursor.get_arguments()),
                Path(cursor.location.file.name).name))
            continue
        if cursor.kind == cindex.CursorKind.ENUM_DECL and cursor.is_definition():
            enumerators(cursor)
        if cursor.kind in records and cursor.is_definition() and cursor.spelling and not cursor.is_anonymous():
            record(cursor, cursor.spelling)
        elif cursor.kind == cindex.CursorKind.TYPEDEF_DECL:
            underlying = cursor.underlying_typedef_type
            typedefs[cursor.spelling] = underlying.spelling
            declaration = underlying.get_canonical().get_declaration()
            if declaration.kind in records and declaration.is_definition():
                record(declaration, cursor.spelling)
            elif declaration.kind == cindex.CursorKind.ENUM_DECL and declaration.is_definition():
                enumerators(declaration)
    return layouts, typedefs, enums, inlines
