"""Types from the SDK headers through libclang, held against the compiler's own sizeof and offsetof.

A small C program, compiled with x86_64-w64-mingw32-gcc for the same
headers, prints the size of every structure the specs' functions take and
the offset of each of its fields; it runs once under Wine. libclang's
layouts must agree with it field for field.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from specproof.sdk.typeinfo import TypeInfo, TypeInfoError

STRUCTS = ("SecHandle", "SecBuffer", "SecBufferDesc", "SEC_WINNT_AUTH_IDENTITY_W", "FWPM_SESSION0",
           "IPSEC_TRAFFIC0", "OVERLAPPED", "WIN32_FIND_DATAW", "SECURITY_ATTRIBUTES", "SYSTEM_INFO",
           "MEMORY_BASIC_INFORMATION", "FILETIME", "MEMORYSTATUSEX", "LARGE_INTEGER", "CRITICAL_SECTION")


@pytest.fixture(scope="module")
def types(tmp_path_factory) -> TypeInfo:
    try:
        return TypeInfo.load(cache_dir=tmp_path_factory.mktemp("cache"))
    except TypeInfoError as error:
        pytest.skip(str(error))


def test_layouts_the_pages_need(types: TypeInfo):
    expected = {"SecHandle": 16, "FWPM_SESSION0": 72, "WIN32_FIND_DATAW": 592, "OVERLAPPED": 32,
                "SECURITY_ATTRIBUTES": 24, "SYSTEM_INFO": 48, "MEMORY_BASIC_INFORMATION": 48, "FILETIME": 8}
    assert {name: types.layout(name).size for name in expected} == expected
    handle = types.layout("PCtxtHandle") or types.layout(types.canonical("PCtxtHandle").rstrip(" *"))
    assert handle is not None and [f.name for f in handle.fields] == ["dwLower", "dwUpper"]
    assert types.layout("SECURITY_ATTRIBUTES").field("bInheritHandle").offset == 16


def test_a_second_load_reads_the_cache(types: TypeInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from specproof.sdk import typeinfo

    TypeInfo.load(cache_dir=tmp_path)
    assert list(tmp_path.glob("typeinfo-*.pickle"))

    def no_parse(*args, **kwargs):
        raise AssertionError("the headers were parsed again instead of read from the cache")

    monkeypatch.setattr(typeinfo, "_parse", no_parse)
    again = TypeInfo.load(cache_dir=tmp_path)
    assert again.layout("OVERLAPPED").size == 32


def test_a_header_libclang_cannot_parse_is_named_with_its_first_diagnostic(tmp_path: Path):
    include = tmp_path / "include"
    include.mkdir()
    (include / "broken.h").write_text("typedef struct { int a; } GOOD;\nstruct BAD { unknown_type b; };\n")
    with pytest.raises(TypeInfoError, match=r"broken\.h:2:\d+: unknown type name 'unknown_type'"):
        TypeInfo.load(headers=("broken.h",), include_dirs=[include], cache_dir=tmp_path / "cache")


def test_libclang_agrees_with_the_compiler_field_for_field(types: TypeInfo, tmp_path: Path):
    """sizeof and offsetof from x86_64-w64-mingw32-gcc, printed by a program run under Wine."""
    pytest.importorskip("specproof_adapters.wine")
    from specproof_adapters.wine.adapter import WineAdapter
    from specproof_adapters.wine.toolchain import ToolMissing, find_compiler

    try:
        compiler = find_compiler()
        adapter = WineAdapter()
    except (ToolMissing, RuntimeError) as error:
        pytest.skip(f"no Wine or mingw here: {error}")
    lines = ["#define UNICODE", "#define SECURITY_WIN32", "#include <windows.h>", "#include <security.h>",
             "#include <fwpmu.h>", "#include <stddef.h>", "#include <stdio.h>", "int main(void) {"]
    for name in STRUCTS:
        layout = types.layout(name)
        assert layout is not None, name
        lines.append(f'  printf("{name} %u\\n", (unsigned)sizeof({name}));')
        for field in layout.fields:
            if field.name and field.bits is None:
                lines.append(f'  printf("{name}.{field.name} %u\\n", (unsigned)offsetof({name}, {field.name}));')
    lines += ["  return 0;", "}"]
    (tmp_path / "probe.c").write_text("\n".join(lines) + "\n")
    subprocess.run([str(compiler), "-O0", "-o", str(tmp_path / "probe.exe"), str(tmp_path / "probe.c"),
                    "-lfwpuclnt"], check=True, capture_output=True, timeout=120)
    try:
        prefix = adapter.ready_prefix()
        done = subprocess.run([str(adapter.wine.loader), str(tmp_path / "probe.exe")], env=prefix.env(),
                              cwd=prefix.path, capture_output=True, text=True, timeout=120)
    finally:
        adapter.close()
    compiler_says = dict(line.split() for line in done.stdout.splitlines() if line.strip() and " " in line)
    libclang_says = {}
    for name in STRUCTS:
        layout = types.layout(name)
        libclang_says[name] = str(layout.size)
        for field in layout.fields:
            if field.name and field.bits is None:
                libclang_says[f"{name}.{field.name}"] = str(field.offset)
    assert compiler_says == libclang_says


def test_the_kernel_headers_give_kernel_layouts_and_their_inline_definitions():
    from specproof.sdk.typeinfo import KERNEL_HEADERS, Inline, kernel_include_dirs

    kernel = TypeInfo.load(KERNEL_HEADERS, include_dirs=kernel_include_dirs())
    assert kernel.layout("KEVENT").size == 24 and kernel.canonical("PRKEVENT") == "struct _KEVENT *"
    assert kernel.inline("InsertTailList") == Inline("InsertTailList", "void", ("PLIST_ENTRY", "PLIST_ENTRY"), "wdm.h")
    assert kernel.inline("IsListEmpty").params == ("const LIST_ENTRY *",)
    assert kernel.inline("KeSetEvent") is None  # declared, exported by ntoskrnl.exe: not inline
    assert kernel.inline("__readgsqword") is None  # the compiler's own
