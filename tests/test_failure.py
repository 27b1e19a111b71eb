"""How a function fails, read from its page: failure values, GetLastError advice, last-error codes.

Pages are written here in each sentence shape the docs use (tests/pagemaker.py),
with a syntax block for the return type; the core Win32 pages of the
corpus are read too when `../shared` is beside the checkout. Constants
resolve through the real mingw-w64 headers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pagemaker import page
from specproof.adapter.codebook import CodeBook
from specproof.readers import read_page
from specproof.readers.spec_builder import build_spec
from specproof.sdk import SdkHeaders
from specproof.spec.yamlio import dump_spec

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT.parent / "shared" / "corpus" / "sdk-api"
ALL_ONES_64 = 0xFFFF_FFFF_FFFF_FFFF


@pytest.fixture(scope="module")
def sdk() -> SdkHeaders:
    return SdkHeaders.load()


def spec_of(sdk, returns: str, prototype: str = "BOOL TestFunction(HANDLE hThing);", remarks: str = "None."):
    raw = page(returns=returns, remarks=remarks + f"\n\n## -syntax\n\n```cpp\n{prototype}\n```\n")
    return build_spec(read_page(raw, "sdk-api-src/content/testhdr/nf-testhdr-testfunction.md"), sdk)


@pytest.mark.parametrize(("returns", "prototype", "name", "value"), [
    ("If the function succeeds, the return value is nonzero.\n\nIf the function fails, the return value is zero. "
     "To get extended error information, call GetLastError.", "BOOL TestFunction(HANDLE hThing);", "FALSE", 0),
    ("If the function fails, the return value is zero (FALSE).", "BOOL TestFunction(HANDLE hThing);", "FALSE", 0),
    ("If the function fails, the return value is **NULL**.", "HANDLE TestFunction(HANDLE hThing);", "NULL", 0),
    ("If the function fails, the return value is **INVALID_HANDLE_VALUE**.", "HANDLE TestFunction(HANDLE hThing);",
     "INVALID_HANDLE_VALUE", ALL_ONES_64),
    ("If the function fails, the return value is INVALID_FILE_SIZE.", "DWORD TestFunction(HANDLE hThing);",
     "INVALID_FILE_SIZE", 0xFFFFFFFF),
    ("If the function succeeds, the return value is the previous count; otherwise, it is (DWORD) -1.",
     "DWORD TestFunction(HANDLE hThing);", "(DWORD)-1", 0xFFFFFFFF),
    ("If the function fails, the return value is (SIZE_T)-1.", "SIZE_T TestFunction(HANDLE hThing);",
     "(SIZE_T)-1", ALL_ONES_64),
    ("The function returns 0 if it does not succeed.", "int TestFunction(HANDLE hThing);", "0", 0),
    ("If lpHigh is NULL and the position does not fit, the function fails and returns INVALID_SET_FILE_POINTER.",
     "DWORD TestFunction(HANDLE hThing);", "INVALID_SET_FILE_POINTER", 0xFFFFFFFF),
    ("The function returns one of the following values.\n\n| Return code/value | Description |\n|---|---|\n"
     "| **FILE_TYPE_DISK**<br>0x0001 | The specified file is a disk file. |\n"
     "| **FILE_TYPE_UNKNOWN**<br>0x0000 | Either the type of the specified file is unknown, or the function failed. |",
     "DWORD TestFunction(HANDLE hThing);", "FILE_TYPE_UNKNOWN", 0),
], ids=["zero-bool", "zero-false", "null", "invalid-handle-value", "invalid-file-size", "otherwise-minus-one",
        "size-t-minus-one", "returns-if-not", "fails-and-returns", "table-row-or-failed"])
def test_failure_values_of_every_sentence_shape(sdk, returns, prototype, name, value):
    spec = spec_of(sdk, returns, prototype)
    failure = spec.returns.failure
    assert failure.signal == "value"
    assert [(v.name, v.value) for v in failure.values] == [(name, value)]
    assert failure.values[0].clause and failure.values[0].clause.startswith("R")
    assert not [p for p in spec.source.problems if p.startswith("failure:")]


def test_the_return_value_is_the_error_code(sdk):
    spec = spec_of(sdk, "If the function succeeds, the return value is ERROR_SUCCESS.\n\nIf the function fails, "
                        "the return value is a nonzero error code defined in Winerror.h.",
                   "LSTATUS TestFunction(HANDLE hThing);")
    assert spec.returns.failure.signal == "error-code"
    assert [v.nonzero for v in spec.returns.failure.values] == [True]
    book = CodeBook()
    assert book.is_success(spec, 0) and not book.is_success(spec, 2)
    assert book.documented(spec, 2) is True, "any nonzero error code is the page's"


def test_a_status_code_type_fails_by_its_codes_not_by_nonzero(sdk):
    """SECURITY_STATUS: SEC_I_CONTINUE_NEEDED is nonzero and no failure, so "a nonzero error code" decides nothing."""
    spec = spec_of(sdk, "If the function succeeds, the function returns SEC_E_OK.\n\nIf the function fails, the "
                        "return value is a nonzero error code.", "SECURITY_STATUS TestFunction(HANDLE hThing);")
    assert spec.returns.failure.signal == "status" and spec.returns.failure.values == []


def test_get_last_error_advice(sdk):
    said = spec_of(sdk, "If the function fails, the return value is zero. To get extended error information, "
                        "call GetLastError.")
    assert said.returns.failure.last_error is True
    assert said.returns.failure.last_error_clause == "R2"
    said_not = spec_of(sdk, "If the function fails, the return value is NULL. If the function fails, it does not "
                            "call SetLastError.", "LPVOID TestFunction(HANDLE hThing);")
    assert said_not.returns.failure.last_error is False
    silent = spec_of(sdk, "If the function fails, the return value is zero.")
    assert silent.returns.failure.last_error is None
    one_case = spec_of(sdk, "If the function succeeds, the return value is nonzero. You do not need to call "
                            "GetLastError.\n\nIf the function fails, the return value is zero. To get extended error "
                            "information, call GetLastError.")
    assert one_case.returns.failure.last_error is True, "'you do not need to' is advice for the success case"


def test_last_error_codes_are_told_from_return_values(sdk):
    spec = spec_of(sdk, "If the function fails, the return value is INVALID_FILE_SIZE and GetLastError will return "
                        "a value other than NO_ERROR.\n\nIf the object existed before the call, the function "
                        "returns a handle to it and GetLastError returns ERROR_ALREADY_EXISTS.\n\nIf the function "
                        "fails because no more files can be found, the GetLastError function returns "
                        "ERROR_NO_MORE_FILES.", "DWORD TestFunction(HANDLE hThing);",
                   remarks="The function returns FALSE, and GetLastError returns ERROR_INVALID_HANDLE.")
    last = {c.name: c for c in spec.returns.codes if c.phase == "last-error"}
    assert set(last) == {"ERROR_ALREADY_EXISTS", "ERROR_NO_MORE_FILES", "ERROR_INVALID_HANDLE"}, \
        "NO_ERROR after 'other than' is no code; INVALID_FILE_SIZE is the return value"
    assert last["ERROR_ALREADY_EXISTS"].success, "set when the object existed: the call did not fail"
    assert not last["ERROR_NO_MORE_FILES"].success and last["ERROR_NO_MORE_FILES"].value == 18
    assert [v.name for v in spec.returns.failure.values] == ["INVALID_FILE_SIZE"], \
        "the GetLastError function's 'returns' is not the function's return value"
    assert not any(c.name == "ERROR_INVALID_HANDLE" and c.phase == "call" for c in spec.returns.codes)
    assert spec.returns.failure.last_error is True, "naming last-error codes says the function sets one"


def test_a_list_of_last_error_codes_after_get_last_error(sdk):
    spec = spec_of(sdk, "The function returns 0 if it does not succeed. To get extended error information, the "
                        "application can call GetLastError, which can return one of the following error codes:\n\n"
                        "- ERROR_INSUFFICIENT_BUFFER. A supplied buffer size was not large enough.\n"
                        "- ERROR_INVALID_PARAMETER. Any of the parameter values was invalid.\n",
                   "int TestFunction(HANDLE hThing);")
    assert [c.name for c in spec.returns.codes if c.phase == "last-error"] == [
        "ERROR_INSUFFICIENT_BUFFER", "ERROR_INVALID_PARAMETER"]


def test_what_the_reader_cannot_decide_is_flagged_not_guessed(sdk):
    spec = spec_of(sdk, "If the function fails, the return value is the handle of the last window.",
                   "HWND TestFunction(HANDLE hThing);")
    assert spec.returns.failure.signal == "unknown" and spec.returns.failure.values == []
    assert any(p.startswith("failure: R1 says what a failed call returns") for p in spec.source.problems)
    void = spec_of(sdk, "If the function fails, the return value is a nonzero error code.",
                   "VOID TestFunction(HANDLE hThing);")
    assert void.returns.failure.signal == "none" and void.returns.failure.values == []
    assert any("returns void" in p for p in void.source.problems), "the docs contradict themselves: said"


def test_a_failed_calls_last_error_is_judged_against_the_failure_reasons_the_page_names(sdk):
    spec = spec_of(sdk, "If the function fails, the return value is zero. If the function fails because no more "
                        "files can be found, the GetLastError function returns ERROR_NO_MORE_FILES.")
    book = CodeBook()
    assert book.is_success(spec, 1) and not book.is_success(spec, 0)
    assert book.last_error_documented(spec, 0, 18) is True
    assert book.last_error_documented(spec, 0, 6) is False
    assert book.last_error_documented(spec, 1, 6) is None, "the call did not fail: nothing to judge"
    bare = spec_of(sdk, "If the function fails, the return value is zero. To get extended error information, call "
                        "GetLastError.")
    assert book.last_error_documented(bare, 0, 6) is None, "a page that names no reason accepts any, recorded"
    assert book.describe_last_errors(spec) == "ERROR_NO_MORE_FILES (0x12)"


def test_lint_rejects_a_failure_value_no_header_defines(sdk, tmp_path: Path):
    from specproof.spec.lint import lint

    spec = spec_of(sdk, "If the function fails, the return value is INVALID_HANDLE_VALUE.",
                   "HANDLE TestFunction(HANDLE hThing);")
    folder = tmp_path / "specs" / "testhdr"
    folder.mkdir(parents=True)
    text = dump_spec(spec).replace("- name: INVALID_HANDLE_VALUE\n      value: 0xFFFFFFFFFFFFFFFF\n",
                                   "- name: INVALID_HANDEL_VALUE\n      unresolved: true\n")
    (folder / "TestFunction.yaml").write_text(text)
    result = lint(tmp_path / "specs")
    errors = [str(p) for p in result.problems if p.severity == "error"]
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "INVALID_HANDEL_VALUE" in l)
    assert any(f"TestFunction.yaml:{line}:" in e and "INVALID_HANDEL_VALUE is not in the SDK headers" in e
               for e in errors), errors


@pytest.mark.skipif(not CORE.is_dir(), reason="../shared/corpus is not beside the checkout")
@pytest.mark.parametrize(("file", "signal", "values", "last_error", "codes"), [
    # CloseHandle's remarks: "... if a function that uses a handle fails with ERROR_INVALID_HANDLE": a last error
    ("handleapi/nf-handleapi-closehandle.md", "value", [("FALSE", 0)], True, ["ERROR_INVALID_HANDLE"]),
    # ... and its parameters' ("CREATE_NEW: If the specified file exists, the function fails and the last-error
    # code is set to ERROR_FILE_EXISTS (80)")
    ("fileapi/nf-fileapi-createfilew.md", "value", [("INVALID_HANDLE_VALUE", ALL_ONES_64)], True,
     ["ERROR_ACCESS_DENIED", "ERROR_FILE_NOT_FOUND", "ERROR_PIPE_BUSY", "ERROR_SHARING_VIOLATION",
      "ERROR_ALREADY_EXISTS", "ERROR_FILE_EXISTS"]),
    ("synchapi/nf-synchapi-waitforsingleobject.md", "value", [("WAIT_FAILED", 0xFFFFFFFF)], True, []),
    ("synchapi/nf-synchapi-createmutexw.md", "value", [("NULL", 0)], True,
     ["ERROR_ALREADY_EXISTS", "ERROR_INVALID_HANDLE"]),
    ("winreg/nf-winreg-regopenkeyexw.md", "error-code", [(None, None)], None, []),
    ("heapapi/nf-heapapi-heapalloc.md", "value", [("NULL", 0)], False, []),
    ("fileapi/nf-fileapi-findnextfilew.md", "value", [("FALSE", 0)], True, ["ERROR_NO_MORE_FILES"]),
    ("sysinfoapi/nf-sysinfoapi-gettickcount.md", "unknown", [], None, []),
])
def test_core_win32_pages(sdk, file, signal, values, last_error, codes):
    path = CORE / file
    spec = build_spec(read_page(path.read_bytes(), str(path)), sdk)
    failure = spec.returns.failure
    assert failure.signal == signal
    assert [(v.name, v.value) for v in failure.values] == values
    assert failure.last_error is last_error
    assert [c.name for c in spec.returns.codes if c.phase == "last-error"] == codes
    assert not [p for p in spec.source.problems if p.startswith("failure:")]


def test_a_last_error_is_no_return_code_a_rule_expects(sdk):
    """CloseHandle's page names ERROR_INVALID_HANDLE as the last error: the invalid-handle rule, which expects a
    returned *_INVALID_HANDLE code, makes no case from it (a call returns FALSE, not ERROR_INVALID_HANDLE)."""
    from specproof.derive.catalog import Catalog
    from specproof.derive.rules import derive

    spec = spec_of(sdk, "If the function fails, the return value is zero.",
                   remarks="The function returns FALSE, and GetLastError returns ERROR_INVALID_HANDLE.")
    assert [c.phase for c in spec.returns.codes if c.name == "ERROR_INVALID_HANDLE"] == ["last-error"]
    catalog = Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml")
    cases = derive(spec, catalog)
    assert not any(c.rule == "invalid-handle" or c.expect.returns == "ERROR_INVALID_HANDLE" for c in cases)
    spec.returns.codes[[c.name for c in spec.returns.codes].index("ERROR_INVALID_HANDLE")].phase = "call"
    assert any(c.rule == "invalid-handle" for c in derive(spec, catalog)), "as a returned code it would be one"


def test_rules_for_a_function_that_fails_by_a_failure_value(sdk):
    """CloseHandle's shape: NULL and garbage handles, and closing twice, must fail (FALSE), not crash; conformance
    because the page names ERROR_INVALID_HANDLE as the last error. SetEvent names none: robustness."""
    from specproof.derive.catalog import Catalog
    from specproof.derive.rules import derive

    catalog = Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml")

    def win32(api: str, param: str, remarks: str = "None."):
        raw = page(api=api, params=f"### -param {param} [in]\n\nA handle.",
                   returns="If the function fails, the return value is zero. To get extended error information, "
                           "call GetLastError.",
                   remarks=remarks + f"\n\n## -syntax\n\n```cpp\nBOOL {api}(\n  [in] HANDLE {param}\n);\n```\n")
        return build_spec(read_page(raw, f"sdk-api-src/content/testhdr/nf-testhdr-{api.lower()}.md"), sdk)

    close = win32("CloseHandle", "hObject", "The function returns FALSE, and GetLastError returns ERROR_INVALID_HANDLE.")
    cases = {c.id: c for c in derive(close, catalog)}
    assert {"invalid-handle-hobject-null", "invalid-handle-hobject-garbage", "release-twice-hobject"} <= set(cases)
    assert "invalid-handle-hobject-released" not in cases, "closing twice is the lifecycle rule's case"
    for case in ("invalid-handle-hobject-null", "release-twice-hobject"):
        assert cases[case].expect.success is False and cases[case].level == "conformance"
        assert cases[case].covers[:2] == ["R1", "R2"] and "M1" in cases[case].covers
    assert cases["release-twice-hobject"].given["hObject"].fixture == "closed_event"

    cases = {c.id: c for c in derive(win32("SetEvent", "hEvent"), catalog)}
    assert cases["invalid-handle-hevent-released"].given["hEvent"].fixture == "closed_event"
    assert {c.level for c in cases.values() if c.rule == "invalid-handle"} == {"robustness"}


def test_null_is_a_documented_failure_only_where_a_clause_says_so(sdk):
    from specproof.derive.catalog import Catalog
    from specproof.derive.rules import derive

    catalog = Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml")
    prototype = "DWORD GetThing(DWORD nSize, LPWSTR lpBuffer);"
    params = "### -param nSize [in]\n\nThe size.\n\n### -param lpBuffer [out]\n\nThe buffer."

    def null_case(remarks: str):
        raw = page(api="GetThing", params=params, returns="If the function fails, the return value is zero.",
                   remarks=remarks + f"\n\n## -syntax\n\n```cpp\n{prototype}\n```\n")
        spec = build_spec(read_page(raw, "sdk-api-src/content/testhdr/nf-testhdr-getthing.md"), sdk)
        return next(c for c in derive(spec, catalog) if c.id == "null-pointer-lpbuffer")

    assert null_case("The lpBuffer parameter can be NULL when nSize is zero.").level == "robustness"
    assert null_case("The lpBuffer parameter cannot be NULL.").level == "conformance"
    assert null_case("Passing NULL for lpBuffer is not a valid use of this function.").level == "conformance"


def test_no_null_case_for_a_routine_the_function_runs_later(sdk):
    """CreateThread(lpStartAddress=NULL) starts a thread that crashes the process after the call returned:
    no call's result can be judged, and the crash would land in whatever test runs next."""
    from specproof.derive.catalog import Catalog
    from specproof.derive.rules import derive

    raw = page(api="StartThing", params="### -param lpStartAddress [in]\n\nThe routine.\n\n"
                                        "### -param lpParameter [in]\n\nIts argument.",
               returns="If the function fails, the return value is NULL.",
               remarks="None.\n\n## -syntax\n\n```cpp\nHANDLE StartThing(\n  [in] LPTHREAD_START_ROUTINE lpStartAddress,\n"
                       "  [in] LPVOID lpParameter\n);\n```\n")
    spec = build_spec(read_page(raw, "sdk-api-src/content/testhdr/nf-testhdr-startthing.md"), sdk)
    ids = {c.id for c in derive(spec, Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml"))}
    assert "null-pointer-lpparameter" in ids and "null-pointer-lpstartaddress" not in ids


def test_a_name_that_does_not_exist(sdk):
    """DeleteFileW, LoadLibraryW, GetProcAddress (ANSI), RegOpenKeyExW (under HKEY_CURRENT_USER): a name nothing has
    must make the lookup fail; conformance when the page names a *_NOT_FOUND last error."""
    from specproof.derive.catalog import Catalog
    from specproof.derive.rules import derive
    from specproof.spec.model import StringArg

    catalog = Catalog.load(ROOT / "conformance" / "fixtures" / "catalog.yaml")

    def spec(api: str, params: str, prototype: str, returns: str):
        raw = page(api=api, params=params, returns=returns,
                   remarks=f"None.\n\n## -syntax\n\n```cpp\n{prototype}\n```\n")
        return build_spec(read_page(raw, f"sdk-api-src/content/testhdr/nf-testhdr-{api.lower()}.md"), sdk)

    delete = spec("DeleteThing", "### -param lpFileName [in]\n\nThe file.", "BOOL DeleteThing(\n  [in] LPCWSTR lpFileName\n);",
                  "If the function fails, the return value is zero. If the file does not exist, GetLastError returns "
                  "ERROR_FILE_NOT_FOUND.")
    (case,) = [c for c in derive(delete, catalog) if c.rule == "missing-name"]
    assert case.level == "conformance" and case.expect.success is False
    assert case.given["lpFileName"] == StringArg(string="specproof-no-such-file-5c1e.txt")

    proc = spec("FindProc", "### -param hModule [in]\n\nThe module.\n\n### -param lpProcName [in]\n\nThe name.",
                "FARPROC FindProc(\n  [in] HMODULE hModule,\n  [in] LPCSTR lpProcName\n);",
                "If the function fails, the return value is NULL.")
    (case,) = [c for c in derive(proc, catalog) if c.rule == "missing-name"]
    assert case.given["lpProcName"].ansi and case.level == "robustness"

    key = spec("OpenKey", "### -param hKey [in]\n\nA key.\n\n### -param lpSubKey [in, optional]\n\nThe subkey.",
               "LSTATUS OpenKey(\n  [in] HKEY hKey,\n  [in, optional] LPCWSTR lpSubKey\n);",
               "If the function fails, the return value is a nonzero error code defined in Winerror.h.")
    (case,) = [c for c in derive(key, catalog) if c.rule == "missing-name"]
    assert (case.given["hKey"].constant, case.given["hKey"].pointer) == ("HKEY_CURRENT_USER", True)

    make = spec("CreateThing", "### -param lpFileName [in]\n\nThe file.", "HANDLE CreateThing(\n  [in] LPCWSTR lpFileName\n);",
                "If the function fails, the return value is NULL.")
    assert not [c for c in derive(make, catalog) if c.rule == "missing-name"], "a function that makes the name"


def test_a_generated_test_says_how_the_call_fails(sdk):
    """The expectation a reader sees (docstring, @case, results) names the page's failure value."""
    from specproof.generate.render import _describe_expect
    from specproof.spec.model import Case, Expect

    failing = Case(id="x", rule="null-pointer", expect=Expect(success=False))
    by_value = spec_of(sdk, "If the function fails, the return value is zero.")
    assert _describe_expect(failing, by_value) == "fails (FALSE)"
    error_code = spec_of(sdk, "If the function fails, the return value is a nonzero error code defined in Winerror.h.",
                         "LSTATUS TestFunction(HANDLE hThing);")
    assert _describe_expect(failing, error_code) == "fails (a nonzero error code)"
    status = spec_of(sdk, "If the function fails, it returns SEC_E_INVALID_HANDLE.",
                     "SECURITY_STATUS TestFunction(HANDLE hThing);")
    assert _describe_expect(failing, status) == "a failure code"


@pytest.mark.skipif(not CORE.is_dir(), reason="../shared/corpus is not beside the checkout")
def test_a_parameters_description_names_last_errors_too(sdk):
    path = CORE / "fileapi" / "nf-fileapi-createfilew.md"
    spec = build_spec(read_page(path.read_bytes(), str(path)), sdk)
    codes = {c.name: c for c in spec.returns.codes if c.origin == "param"}
    exists = codes["ERROR_FILE_EXISTS"]
    assert (exists.value, exists.success, exists.phase) == (80, False, "last-error")
    assert exists.note.startswith("dwCreationDisposition: If the specified file exists, the function fails")
    assert codes["ERROR_ALREADY_EXISTS"].success, "OPEN_ALWAYS and CREATE_ALWAYS succeed with it"
