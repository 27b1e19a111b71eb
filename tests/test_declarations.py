"""C declarations: one grammar for the SDK headers and the pages' syntax blocks (sdk/declarations.py).

The page reader places parameter docs by the names `page_parameters`
gives, the spec builder takes types from `parse_page_prototype`, and the
header index reads headers with the same decorations and declarators: a
declaration is read the same way wherever it is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from specproof.sdk.declarations import declared_name, page_parameters, parse_page_prototype

# The Windows SDK's own declaration (winreg.h), SAL annotations and all: `_When_` holds a comparison,
# `_Out_writes_bytes_to_opt_` arguments that start with `*`.
REG_QUERY_VALUE_EX_W = """\
WINADVAPI
_Must_inspect_result_
LSTATUS
APIENTRY
RegQueryValueExW(
    _In_ HKEY hKey,
    _In_opt_ LPCWSTR lpValueName,
    _Reserved_ LPDWORD lpReserved,
    _Out_opt_ LPDWORD lpType,
    _When_(lpData == NULL, _Out_opt_) _When_(lpData != NULL, _Out_writes_bytes_to_opt_(*lpcbData, *lpcbData)) LPBYTE lpData,
    _When_(lpData == NULL, _Out_opt_) _When_(lpData != NULL, _Inout_opt_) LPDWORD lpcbData
    );
"""
REG_PARAMS = (("HKEY", "hKey"), ("LPCWSTR", "lpValueName"), ("LPDWORD", "lpReserved"), ("LPDWORD", "lpType"),
              ("LPBYTE", "lpData"), ("LPDWORD", "lpcbData"))


def test_the_sdks_sal_annotated_declaration_is_read_right():
    prototype = parse_page_prototype(REG_QUERY_VALUE_EX_W, "RegQueryValueExW")
    assert prototype is not None
    assert prototype.returns == "LSTATUS"
    assert prototype.params == REG_PARAMS
    assert page_parameters(REG_QUERY_VALUE_EX_W, "RegQueryValueExW") == [(n, None) for _, n in REG_PARAMS]


def test_a_sal_annotation_whose_arguments_start_with_a_pointer_is_no_declarator():
    text = "LSTATUS F(_Out_writes_bytes_to_opt_(*lpcbData, *lpcbData) LPBYTE lpData, LPDWORD lpcbData);"
    assert parse_page_prototype(text, "F").params == (("LPBYTE", "lpData"), ("LPDWORD", "lpcbData"))
    assert [name for name, _ in page_parameters(text, "F")] == ["lpData", "lpcbData"]


def test_a_pages_bracket_annotations_are_kept_as_written_and_left_out_of_the_types():
    text = """LSTATUS RegQueryValueExW(
  [in]                HKEY    hKey,
  [in, optional]      LPCWSTR lpValueName,
                      LPDWORD lpReserved,
  [out, optional]     LPDWORD lpType,
  [in/out]            LPBYTE  lpData,
  [in, out, optional] LPDWORD lpcbData
);"""
    assert parse_page_prototype(text, "RegQueryValueExW").params == REG_PARAMS
    assert page_parameters(text, "RegQueryValueExW") == [
        ("hKey", "[in]"), ("lpValueName", "[in, optional]"), ("lpReserved", None), ("lpType", "[out, optional]"),
        ("lpData", "[in/out]"), ("lpcbData", "[in, out, optional]")]


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        ("SECURITY_STATUS SEC_ENTRY F(\n  _In_opt_ PCtxtHandle phContext,\n"
         "  _Out_writes_bytes_(cb) PVOID pv,\n  ULONG cb\n);", ["phContext", "pv", "cb"]),
        ("NTSTATUS F(\n  IN PDEVICE_OBJECT DeviceObject,\n  IN PVOID Context OPTIONAL\n  );",
         ["DeviceObject", "Context"]),
        ("HRESULT F([in] REFCLSID rclsid, [out] LPVOID *ppv);", ["rclsid", "ppv"]),
        ("void F(void);", []),
        ("void F();", []),
        ("int F(const char *fmt, ...);", ["fmt", "..."]),
        ("void F(void (*Callback)(int a, int b), PVOID Context);", ["Callback", "Context"]),
        ("void F(BYTE Buffer[16], ULONG Index = 0);", ["Buffer", "Index"]),
        ("BOOL F(\n  HANDLE hFile,\n  PLARGE_INTEGER lpFileSize", ["hFile", "lpFileSize"]),
        ("VOID\n(*PFN_F)(\n    IN PWDF_DRIVER_GLOBALS DriverGlobals,\n    WDFINTERRUPT Interrupt\n    );",
         ["DriverGlobals", "Interrupt"]),
        ("void F(PVOID _index_);", ["_index_"]),
        ("void F(HANDLE, DWORD);", ["HANDLE", "DWORD"]),
        ("void F(const std::map<K, V>& m, int n);", ["m", "n"]),
        ("__drv_maxIRQL(DISPATCH_LEVEL) VOID F(_Inout_ PKSPIN_LOCK SpinLock, _Out_ PKIRQL OldIrql);",
         ["SpinLock", "OldIrql"]),
    ],
    ids=["sal", "ddk-macros", "brackets", "void", "empty", "varargs", "function-pointer", "array-default",
         "unclosed", "typedef", "underscore-name", "unnamed", "template", "driver-sal"],
)
def test_page_parameters(declaration, expected):
    assert [name for name, _ in page_parameters(declaration, "F")] == expected


@pytest.mark.parametrize(("documented", "declared"), [
    ("IDebugControl::Output", "Output"), ("IFoo.Bar", "Bar"), ("CFoo.Bar(int)", "Bar"),
    ("BindProperty~r1", "BindProperty"), ("_BitTest64~r1", "_BitTest64"), ("CreateFileW", "CreateFileW"),
    ("ExtBuffer::Copy(const T*, ULONG)", "Copy"),
])
def test_declared_name(documented, declared):
    assert declared_name(documented) == declared


def test_a_header_and_a_page_read_one_declaration_alike(tmp_path: Path):
    """The header index parses the same text with the same grammar (its decorations come from the headers)."""
    from specproof.sdk import SdkHeaders

    include = tmp_path / "include"
    include.mkdir()
    (include / "sal.h").write_text("#define _In_\n#define _In_opt_\n#define _Out_opt_\n#define _Reserved_\n"
                                   "#define _Inout_opt_\n#define _Must_inspect_result_\n#define _When_(c, a)\n"
                                   "#define _Out_writes_bytes_to_opt_(s, c)\n")
    (include / "winreg.h").write_text("#include <sal.h>\n#define WINADVAPI\n#define APIENTRY\n"
                                      + REG_QUERY_VALUE_EX_W)
    headers = SdkHeaders.load([include], cache_dir=tmp_path / "cache")
    from_header = headers.prototype("RegQueryValueExW", "winreg.h")
    assert from_header is not None and from_header.params == REG_PARAMS
    assert from_header.params == parse_page_prototype(REG_QUERY_VALUE_EX_W, "RegQueryValueExW").params
