"""specproof.sdk: values and prototypes from SDK headers.

The first part runs against the real mingw-w64 headers (skipped when they
are not installed); the rest builds small include folders in tmp_path, so
that priority, aliases, caching and parsing rules are checked on inputs
whose right answer is known exactly.
"""

from __future__ import annotations

import os
import pickle
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from specproof.sdk import Prototype, SdkHeaders, SdkNotFound, default_include_dirs
from specproof.sdk.expr import NotEvaluable, evaluate

MINGW = Path("/usr/share/mingw-w64/include")
requires_mingw = pytest.mark.skipif(
    not MINGW.is_dir(),
    reason=f"mingw-w64 headers not installed at {MINGW} (apt-get install mingw-w64-common)",
)


# ---------------------------------------------------------------- real SDK


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> SdkHeaders:
    return SdkHeaders.load([MINGW], cache_dir=tmp_path_factory.mktemp("sdk-cache"))


@requires_mingw
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SEC_E_OK", 0),
        ("SEC_E_INVALID_HANDLE", 0x80090301),
        ("SEC_I_ASYNC_CALL_PENDING", 0x00090368),
        ("FWP_E_ALREADY_EXISTS", 0x80320009),
        ("ERROR_SUCCESS", 0),
        ("ERROR_ACCESS_DENIED", 5),
        ("STATUS_INVALID_HANDLE", 0xC0000008),
        ("RPC_E_DISCONNECTED", 0x80010108),
        ("E_FAIL", 0x80004005),
        ("HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)", 0x80070005),
        ("HRESULT_FROM_NT(STATUS_INVALID_HANDLE)", 0xD0000008),
        # MAKE_DDHRESULT(450) -> MAKE_HRESULT(1, _FACDD 0x876, 450): a header's function-like macro
        ("DDERR_SURFACELOST", 0x887601C2),
    ],
)
def test_real_values(sdk: SdkHeaders, name: str, expected: int) -> None:
    assert sdk.value(name) == expected


@requires_mingw
def test_real_conflicting_definition_resolved_by_header(sdk: SdkHeaders) -> None:
    # issper16.h really does define it differently; winerror.h must win, and
    # the function's own header (sspi.h) does not define it, so still winerror.h.
    assert sdk.value("SEC_E_INVALID_HANDLE", header="issper16.h") == 0x1301
    assert sdk.value("SEC_E_INVALID_HANDLE", header="sspi.h") == 0x80090301
    assert sdk.value("SEC_E_INVALID_HANDLE", header="Sspi.h") == 0x80090301
    assert sdk.value("SEC_E_INVALID_HANDLE") == 0x80090301


@requires_mingw
def test_real_unknown_name_is_unresolved(sdk: SdkHeaders) -> None:
    assert sdk.value("SEC_E_NO_SUCH_CODE_ANYWHERE") is None
    assert sdk.value("HRESULT_FROM_WIN32(NO_SUCH_ERROR)") is None


@requires_mingw
def test_real_name_of(sdk: SdkHeaders) -> None:
    assert sdk.name_of(0x80090301, ("SEC_E_", "SEC_I_")) == "SEC_E_INVALID_HANDLE"
    assert sdk.name_of(0x00090368, ("SEC_E_", "SEC_I_")) == "SEC_I_ASYNC_CALL_PENDING"
    assert sdk.name_of(0, ("SEC_E_",)) == "SEC_E_OK"
    assert sdk.name_of(0xC0000008, ("STATUS_",)) == "STATUS_INVALID_HANDLE"
    assert sdk.name_of(-2147467259, ("E_",)) == "E_FAIL"  # signed spelling of 0x80004005


@requires_mingw
def test_real_delete_security_context(sdk: SdkHeaders) -> None:
    expected = Prototype("DeleteSecurityContext", "SECURITY_STATUS", (("PCtxtHandle", "phContext"),), "sspi.h")
    assert sdk.prototype("DeleteSecurityContext", header="sspi.h") == expected
    assert sdk.prototype("DeleteSecurityContext") == expected


@requires_mingw
def test_real_sspi_async_multiline(sdk: SdkHeaders) -> None:
    proto = sdk.prototype("SspiDeleteSecurityContextAsync", header="sspi.h")
    assert proto is not None
    assert proto.returns == "SECURITY_STATUS"
    assert proto.params == (("SspiAsyncContext*", "AsyncContext"), ("PCtxtHandle", "phContext"))


@requires_mingw
def test_real_acquire_credentials_handle_takes_user_mode_branch(sdk: SdkHeaders) -> None:
    proto = sdk.prototype("AcquireCredentialsHandleW")
    assert proto is not None and proto.header == "sspi.h"
    assert proto.returns == "SECURITY_STATUS"
    assert len(proto.params) == 9
    # "#if ISSP_MODE==0 ... #else" inside the parameter list: user mode (ISSP_MODE 1) wins
    assert proto.params[:3] == (
        ("SEC_WCHAR*", "pszPrincipal"),
        ("SEC_WCHAR*", "pszPackage"),
        ("unsigned long", "fCredentialUse"),
    )
    assert proto.params[-1] == ("PTimeStamp", "ptsExpiry")


@requires_mingw
def test_real_fwpm(sdk: SdkHeaders) -> None:
    assert sdk.prototype("FwpmEngineOpen0") == Prototype(
        "FwpmEngineOpen0",
        "DWORD",
        (
            ("const wchar_t*", "serverName"),
            ("UINT32", "authnService"),
            ("SEC_WINNT_AUTH_IDENTITY_W*", "authIdentity"),
            ("const FWPM_SESSION0*", "session"),
            ("HANDLE*", "engineHandle"),
        ),
        "fwpmu.h",
    )
    assert sdk.prototype("IPsecSaContextExpire0", header="fwpmu.h") == Prototype(
        "IPsecSaContextExpire0", "DWORD", (("HANDLE", "engineHandle"), ("UINT64", "id")), "fwpmu.h"
    )


@requires_mingw
def test_real_decorated_declarations(sdk: SdkHeaders) -> None:
    # WINBASEAPI WINBOOL WINAPI CloseHandle (HANDLE hObject);
    assert sdk.prototype("CloseHandle") == Prototype("CloseHandle", "BOOL", (("HANDLE", "hObject"),), "handleapi.h")
    # BOOLAPI -> INTERNETAPI_(WINBOOL) -> EXTERN_C DECLSPEC_IMPORT WINBOOL WINAPI
    close = sdk.prototype("InternetCloseHandle")
    assert close is not None and close.returns == "BOOL"
    assert sdk.prototype("GetLastError") == Prototype("GetLastError", "DWORD", (), "errhandlingapi.h")


@requires_mingw
def test_real_non_functions_are_unresolved(sdk: SdkHeaders) -> None:
    assert sdk.prototype("NoSuchFunctionAnywhere") is None
    assert sdk.prototype("ACQUIRE_CREDENTIALS_HANDLE_FN_W") is None  # a function-pointer typedef
    assert sdk.prototype("RtlZeroMemory") is None  # a macro in every header


@requires_mingw
def test_real_cache_is_reused(sdk: SdkHeaders, tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = tmp_path_factory.mktemp("sdk-cache-reuse")
    first = SdkHeaders.load([MINGW], cache_dir=cache)
    second = SdkHeaders.load([MINGW], cache_dir=cache)
    assert not first.loaded_from_cache
    assert second.loaded_from_cache
    assert second.value("FWP_E_ALREADY_EXISTS") == 0x80320009


# ---------------------------------------------------------------- tiny include folder


def write(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def include(tmp_path: Path) -> Path:
    root = tmp_path / "include"
    write(root, "winerror.h", """
        #define _HRESULT_TYPEDEF_(_sc) ((HRESULT)_sc)
        #define SEC_E_OK ((HRESULT)0x00000000L)
        #define SEC_E_INVALID_HANDLE _HRESULT_TYPEDEF_(0x80090301L)
        #define ERROR_ACCESS_DENIED 5L
        #define E_FAIL _HRESULT_TYPEDEF_(0x80004005L)
    """)
    write(root, "ntstatus.h", """
        #define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)
        #define SHARED 2
    """)
    write(root, "issper16.h", """
        #define SEC_E_INVALID_HANDLE ((SECURITY_STATUS)0x1301)
        #define ONLY_16 0x16
    """)
    write(root, "abc16.h", "#define BOTH 0x16\n")
    write(root, "zzz.h", """
        #define BOTH 0x77
        #define ALIAS_FAR SEC_E_INVALID_HANDLE
    """)
    write(root, "aaa.h", """
        #define SEC_E_INVALID_HANDLE 0x1111
        #define SHARED 1
        #define ALIAS_NEAR SEC_E_INVALID_HANDLE
        #define CHAIN1 CHAIN2
        #define CHAIN2 CHAIN3
        #define CHAIN3 (0x10 | 0x20)
        #define CYCLE_A CYCLE_B
        #define CYCLE_B CYCLE_A
        #define SELF SELF
        #define STRING "text"
        #define FLOATING 1.5f
        #define FLOAT_CAST ((float)1)
        #define UNKNOWN_CALL mystery(1)
        #define SIZE sizeof(int)
        #define EMPTY
        #define NEGATIVE (-1)
        #define __MSABI_LONG(x) x ## l
        #define MSABI __MSABI_LONG(1234)
        #define SHIFTED (1 << 4)
        #define BYTE_CAST ((BYTE)0x1FF)
        #define DWORD_CAST ((DWORD)-1)
        #define MADE MAKE_HRESULT(1, 7, 5)
        #define FROM_WIN32 HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)
        #define WIDE 0x100000000ULL
        #define OCTAL 010
        #define MAKE_CODE(code) ((HRESULT)(0x88760000 | (code)))
        #define VIA_MACRO MAKE_CODE(450)
        #define CONTINUED \\
            0x42
        /*
        #define COMMENTED_OUT 1
        */
        #define TRAILING_COMMENT 7 /* seven */
    """)
    write(root, "sub/deep.h", "#define DEEP 7\n")
    write(root, "UPPER.H", "#define UPPER_EXT 9\n")
    write(root, "notes.txt", "#define NOT_A_HEADER 1\n")
    return root


@pytest.fixture
def headers(include: Path, tmp_path: Path) -> SdkHeaders:
    return SdkHeaders.load([include], cache_dir=tmp_path / "cache")


def test_priority_winerror_beats_other_and_16_bit_headers(headers: SdkHeaders) -> None:
    # aaa.h sorts first and issper16.h defines it too: winerror.h still wins
    assert headers.value("SEC_E_INVALID_HANDLE") == 0x80090301


def test_priority_given_header_wins(headers: SdkHeaders) -> None:
    assert headers.value("SEC_E_INVALID_HANDLE", header="aaa.h") == 0x1111
    assert headers.value("SEC_E_INVALID_HANDLE", header="issper16.h") == 0x1301
    assert headers.value("SEC_E_INVALID_HANDLE", header="AAA.H") == 0x1111
    # a header that does not define the name changes nothing
    assert headers.value("SEC_E_INVALID_HANDLE", header="zzz.h") == 0x80090301
    assert headers.value("SEC_E_INVALID_HANDLE", header="missing.h") == 0x80090301


def test_priority_ntstatus_before_others(headers: SdkHeaders) -> None:
    assert headers.value("SHARED") == 2
    assert headers.value("SHARED", header="aaa.h") == 1


def test_priority_16_bit_headers_last(headers: SdkHeaders) -> None:
    # abc16.h sorts before zzz.h by name but is a 16-bit header
    assert headers.value("BOTH") == 0x77
    # a name only a 16-bit header defines still resolves
    assert headers.value("ONLY_16") == 0x16


def test_alias_resolves_from_its_own_header_first(headers: SdkHeaders) -> None:
    assert headers.value("ALIAS_NEAR") == 0x1111  # aaa.h's own SEC_E_INVALID_HANDLE
    assert headers.value("ALIAS_FAR") == 0x80090301  # zzz.h has none: winerror.h
    assert headers.value("CHAIN1") == 0x30


def test_alias_cycles_are_unresolved(headers: SdkHeaders) -> None:
    assert headers.value("CYCLE_A") is None
    assert headers.value("CYCLE_B") is None
    assert headers.value("SELF") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SEC_E_OK", 0),
        ("STATUS_INVALID_HANDLE", 0xC0000008),
        ("E_FAIL", 0x80004005),
        ("NEGATIVE", 0xFFFFFFFF),
        ("MSABI", 1234),
        ("SHIFTED", 16),
        ("BYTE_CAST", 0xFF),
        ("DWORD_CAST", 0xFFFFFFFF),
        ("MADE", 0x80070005),
        ("FROM_WIN32", 0x80070005),
        ("HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)", 0x80070005),
        ("HRESULT_FROM_WIN32(E_FAIL)", 0x80004005),  # already an HRESULT: unchanged
        ("HRESULT_FROM_WIN32(0)", 0),
        ("HRESULT_FROM_NT(STATUS_INVALID_HANDLE)", 0xD0000008),
        ("WIDE", 0x100000000),
        ("OCTAL", 8),
        ("VIA_MACRO", 0x887601C2),
        ("CONTINUED", 0x42),
        ("TRAILING_COMMENT", 7),
        ("DEEP", 7),
        ("UPPER_EXT", 9),
    ],
)
def test_evaluates(headers: SdkHeaders, name: str, expected: int) -> None:
    assert headers.value(name) == expected


@pytest.mark.parametrize(
    "name",
    ["STRING", "FLOATING", "FLOAT_CAST", "UNKNOWN_CALL", "SIZE", "EMPTY", "COMMENTED_OUT", "NOT_A_HEADER",
     "NEVER_DEFINED", "HRESULT_FROM_WIN32(NEVER_DEFINED)", "1 +", ""],
)
def test_unevaluable_is_none(headers: SdkHeaders, name: str) -> None:
    assert headers.value(name) is None


def test_name_of(headers: SdkHeaders) -> None:
    assert headers.name_of(0x80090301) == "SEC_E_INVALID_HANDLE"
    # 0x1111 is SEC_E_INVALID_HANDLE only in aaa.h; with no header preferred
    # that name means 0x80090301, and only aaa.h's alias keeps 0x1111
    assert headers.name_of(0x1111) == "ALIAS_NEAR"
    assert headers.name_of(0x1111, ("SEC_E_",)) == "ALIAS_NEAR"
    assert headers.name_of(0x80070005) in {"MADE", "FROM_WIN32"}
    assert headers.name_of(0x80070005) == headers.name_of(0x80070005)  # deterministic
    assert headers.name_of(0x80070005, ("FROM_",)) == "FROM_WIN32"
    assert headers.name_of(-1) == "NEGATIVE"  # both in aaa.h: the one defined first
    assert headers.name_of(0x30, ("NOPE_",)) == "CHAIN1"  # prefix unmatched: any name
    assert headers.name_of(0xABCDEF) is None


def test_header_change_invalidates_cache(include: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = SdkHeaders.load([include], cache_dir=cache)
    again = SdkHeaders.load([include], cache_dir=cache)
    assert (first.loaded_from_cache, again.loaded_from_cache) == (False, True)
    assert again.value("BOTH") == 0x77
    assert len(list(cache.glob("*.pickle"))) == 1

    header = include / "zzz.h"
    header.write_text("#define BOTH 0x7777\n")
    stat = header.stat()
    os.utime(header, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = SdkHeaders.load([include], cache_dir=cache)
    assert not changed.loaded_from_cache
    assert changed.value("BOTH") == 0x7777

    write(include, "new.h", "#define BRAND_NEW 3\n")
    added = SdkHeaders.load([include], cache_dir=cache)
    assert not added.loaded_from_cache
    assert added.value("BRAND_NEW") == 3
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*"))


def test_corrupt_cache_is_rebuilt(include: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    SdkHeaders.load([include], cache_dir=cache)
    (cache_file,) = cache.glob("*.pickle")
    cache_file.write_bytes(b"not a pickle")
    rebuilt = SdkHeaders.load([include], cache_dir=cache)
    assert not rebuilt.loaded_from_cache
    assert rebuilt.value("SEC_E_INVALID_HANDLE") == 0x80090301
    assert SdkHeaders.load([include], cache_dir=cache).loaded_from_cache


def test_cache_dir_from_environment(include: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECPROOF_CACHE", str(tmp_path / "env-cache"))
    SdkHeaders.load([include])
    assert list((tmp_path / "env-cache").glob("sdk-index-*.pickle"))


def test_include_dirs_from_environment(include: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    monkeypatch.setenv("SPECPROOF_SDK_INCLUDE", os.pathsep.join([str(include), str(other)]))
    assert default_include_dirs() == [include, other]
    headers = SdkHeaders.load(cache_dir=tmp_path / "cache")  # "other" does not exist: skipped
    assert headers.include_dirs == (include.resolve(),)
    assert headers.value("DEEP") == 7


def test_missing_sdk_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(SdkNotFound) as raised:
        SdkHeaders.load([tmp_path / "nowhere"], cache_dir=tmp_path / "cache")
    message = str(raised.value)
    assert "apt-get install mingw-w64-common" in message
    assert "--sdk-include" in message and "SPECPROOF_SDK_INCLUDE" in message


def _worker_value(headers: SdkHeaders, name: str) -> int | None:
    return headers.value(name)


def test_pickles_for_worker_processes(headers: SdkHeaders) -> None:
    assert headers.prototype("NoSuchFunction") is None  # fill the per-process caches
    copy = pickle.loads(pickle.dumps(headers))
    assert copy.value("ALIAS_NEAR") == 0x1111
    assert SdkHeaders.from_state(headers.to_state()).value("CHAIN1") == 0x30
    with ProcessPoolExecutor(max_workers=1) as pool:
        assert pool.submit(_worker_value, headers, "SEC_E_INVALID_HANDLE").result() == 0x80090301


# ---------------------------------------------------------------- prototypes


PROTO_H = """
    #ifndef PROTO_H
    #define PROTO_H
    #define MYAPI __declspec(dllimport)
    #define SAMPLE_ENTRY __stdcall
    #define MODE 1
    #ifdef __cplusplus
    extern "C" {
    #endif

    typedef LONG (WINAPI *PFN_Sample)(int value);
    typedef LONG WINAPI SAMPLE_FN(int value);
    typedef struct _TABLE {
        PFN_Sample Sample;
        LONG (WINAPI *Member)(void);
        LONG NotAFunction(int);
    } TABLE;

    _Must_inspect_result_
    MYAPI LONG SAMPLE_ENTRY
    Sample(
        _In_ PCtxtHandle phContext,
        _Out_writes_bytes_(cbBuffer) void *pvBuffer,   /* the buffer */
        _In_ unsigned __LONG32 cbBuffer,
        _Inout_opt_ SampleContext * pContext,
        __in_opt const char name[],
        _Reserved_ ULONG
    );

    _Success_(return == 0)
    static __inline int InlineHelper(int x) { return Called(x) + Sample(0, 0, 0, 0, 0, 0); }

    #define MacroOnly(x) Hidden(x)
    WINBASEAPI VOID WINAPI NoArgs(void);
    WINBASEAPI WINBOOL WINAPI Callback(int (__cdecl *compare)(const void *, const void *), void *);

    LONG Conditional(
    #if MODE == 0
        int kernel_only,
    #else
        int user_only,
    #endif
        int common);

    #ifdef SOME_KERNEL_SWITCH
    NTSTATUS KernelOnly(PVOID Context);
    #endif
    #if 0
    int Disabled(int);
    #endif

    #ifdef __cplusplus
    }
    #endif
    #endif
"""


@pytest.fixture
def proto_headers(tmp_path: Path) -> SdkHeaders:
    root = tmp_path / "include"
    write(root, "proto.h", PROTO_H)
    write(root, "other.h", "int Sample(void);\nint OtherOnly(char c);\n")
    return SdkHeaders.load([root], cache_dir=tmp_path / "cache")


def test_multiline_prototype_with_sal(proto_headers: SdkHeaders) -> None:
    assert proto_headers.prototype("Sample", header="proto.h") == Prototype(
        "Sample",
        "LONG",
        (
            ("PCtxtHandle", "phContext"),
            ("void*", "pvBuffer"),
            ("unsigned long", "cbBuffer"),
            ("SampleContext*", "pContext"),
            ("const char*", "name"),
            ("ULONG", None),
        ),
        "proto.h",
    )


def test_given_header_searched_first(proto_headers: SdkHeaders) -> None:
    assert proto_headers.prototype("Sample", header="other.h") == Prototype("Sample", "int", (), "other.h")
    # without a header: other.h sorts first
    assert proto_headers.prototype("Sample").header == "other.h"  # type: ignore[union-attr]
    assert proto_headers.prototype("OtherOnly", header="proto.h") == Prototype(
        "OtherOnly", "int", (("char", "c"),), "other.h"
    )


def test_decorations_and_function_pointer_params(proto_headers: SdkHeaders) -> None:
    assert proto_headers.prototype("NoArgs") == Prototype("NoArgs", "VOID", (), "proto.h")
    assert proto_headers.prototype("Callback") == Prototype(
        "Callback",
        "BOOL",
        (("int (*)(const void*, const void*)", "compare"), ("void*", None)),
        "proto.h",
    )
    assert proto_headers.prototype("InlineHelper") == Prototype("InlineHelper", "int", (("int", "x"),), "proto.h")


def test_conditional_parameter_list_takes_compiled_branch(proto_headers: SdkHeaders) -> None:
    proto = proto_headers.prototype("Conditional")
    assert proto is not None
    assert proto.params == (("int", "user_only"), ("int", "common"))


def test_compiled_out_declaration_found_by_first_branch(proto_headers: SdkHeaders) -> None:
    proto = proto_headers.prototype("KernelOnly")
    assert proto == Prototype("KernelOnly", "NTSTATUS", (("PVOID", "Context"),), "proto.h")
    assert proto_headers.prototype("Disabled") is None  # "#if 0" is never a branch to take


@pytest.mark.parametrize("name", ["PFN_Sample", "SAMPLE_FN", "Member", "NotAFunction", "Called", "Hidden", "MacroOnly", "Nope"])
def test_not_declarations(proto_headers: SdkHeaders, name: str) -> None:
    assert proto_headers.prototype(name) is None


# ---------------------------------------------------------------- evaluator


def test_evaluator_short_circuits_and_rejects() -> None:
    def lookup(name: str) -> int:
        raise NotEvaluable(name)

    assert evaluate("defined(X) && X > 5", lookup, defined=lambda name: False) == 0
    assert evaluate("1 || UNKNOWN", lookup) == 1
    assert evaluate("0 ? UNKNOWN : 3", lookup) == 3
    assert evaluate("((unsigned long)(1)<<31) | 5", lookup) == 0x80000005
    for text in ("UNKNOWN", "1 / 0", "f(1)", "(1", "1.0", '"s"'):
        with pytest.raises(NotEvaluable):
            evaluate(text, lookup)
