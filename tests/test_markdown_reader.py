"""The markdown readers (sdk-api, wdk-ddi) on pages written for each shape the docs use."""

from __future__ import annotations

import pytest

from pagemaker import page
from specproof.readers import NotAFunction, PageError, read_page
from specproof.readers.spec_builder import build_spec


def spec_of(raw: bytes, file: str = "sdk-api-src/content/testhdr/nf-testhdr-testfunction.md"):
    return build_spec(read_page(raw, file))


def codes(spec):
    return {(c.name or c.family or c.label): c for c in spec.returns.codes}


# -- front matter --------------------------------------------------------------------


def test_version_strings_stay_strings_and_dates_become_iso():
    spec = spec_of(page(kmdf="1.9", date="11/4/2019"))
    assert spec.requirements.kmdf_ver == "1.9"
    assert spec.source.date == "2019-11-04"


def test_tab_after_list_dash_in_legacy_front_matter():
    raw = page(extra="topic_type:\n-\tAPIRef\n-\tkbSyntax\n")
    assert spec_of(raw).api == "TestFunction"


def test_crlf_no_final_newline_nbsp_and_private_use_glyphs():
    raw = page(remarks="The\u00a0caller must\u202fclose it.\ue700", crlf=True).rstrip(b"\r\n")
    spec = spec_of(raw)
    assert spec.clauses[-1].text == "The caller must close it."
    assert spec_of(page(remarks="The caller must close it.")).clauses[-1].digest == spec.clauses[-1].digest


def test_truncated_front_matter_is_a_page_error():
    raw = b"---\nUID: NF:testhdr.TestFunction\ntitle: TestFunction\n"
    with pytest.raises(PageError, match="never closed"):
        read_page(raw, "x.md")


def test_invalid_front_matter_names_the_line():
    raw = b"---\nUID: NF:testhdr.TestFunction\ntitle: [unclosed\n---\n## -description\n"
    with pytest.raises(PageError, match="line"):
        read_page(raw, "x.md")


@pytest.mark.parametrize("uid,why", [("NS:testhdr._THING", "structure"), ("NE:testhdr.KIND", "enumeration"),
                                     ("NC:testhdr.PFN_CALLBACK", "callback")])
def test_non_function_pages_are_skipped_with_reason(uid, why):
    raw = page().replace(b"UID: NF:testhdr.TestFunction", f"UID: {uid}".encode())
    with pytest.raises(NotAFunction, match=why):
        read_page(raw, "x.md")


# -- sections ------------------------------------------------------------------------


def test_headings_at_other_levels_duplicated_misspelled_and_out_of_order():
    body = """
### -remarks

First remark.

## -returns

Returns **S_OK** on success.

## -parameters

### -param a [in]

The a.

## -remarks

Second remark.

## -see-aextension

[Related](nf-x-related.md)
"""
    spec = spec_of(page(body=body))
    assert [c.text for c in spec.clauses if c.section == "remarks"] == ["First remark.", "Second remark."]
    assert spec.see_also == ["Related"]
    assert [p.name for p in spec.signature.params] == ["a"]


def test_headings_inside_code_fences_are_code():
    remarks = "Example:\n\n```cpp\n## -returns\nint x = 1;\n```\n\nAfter the code."
    spec = spec_of(page(remarks=remarks))
    assert [c.text for c in spec.clauses if c.section == "remarks"] == ["Example:", "After the code."]
    assert "S_OK" in codes(spec)


# -- parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "annotation,direction,optional",
    [
        ("[in]", "in", False), ("[out]", "out", False), ("[in, out]", "inout", False),
        ("[out, optional]", "out", True), ("[in/out]", "inout", False), ("[ in, optional ]", "in", True),
        ("[_In_opt_]", "in", True), ("[_Inout_]", "inout", False), ("[out, retval]", "out", False),
        ("[in, ref]", "in", False), ("[in, reads(Count)]", "in", False), ("", None, False),
    ],
)
def test_parameter_annotations(annotation, direction, optional):
    spec = spec_of(page(params=f"### -param Value {annotation}\n\nThe value."))
    (param,) = spec.signature.params
    assert (param.name, param.direction, param.optional) == ("Value", direction, optional)
    assert param.annotation == (annotation or None)


def test_subfields_and_unnamed_params():
    params = """### -param unnamedParam1 [in]

First.

### -param Arg [in]

Depends on Which.

##### - Arg.KIND_ONE

Used for kind one.
"""
    spec = spec_of(page(params=params))
    assert [p.name for p in spec.signature.params] == ["unnamedParam1", "Arg"]
    assert "Used for kind one." in spec.signature.params[1].doc


# -- returns -------------------------------------------------------------------------

HTML_TABLE = """If the function fails, it returns one of the following.

<table>
<tr>
<th>Return code/value</th>
<th>Description</th>
</tr>
<tr>
<td width="40%">
<dl>
<dt><b>SEC_E_OK</b></dt>
<dt>0x00000000L</dt>
</dl>
</td>
<td width="60%">
The call succeeded.

</td>
</tr>
<tr>
<td width="40%">
<dl>
<dt><b>SEC_E_INVALID_HANDLE</b></dt>
<dt>0x80090301</dt>
</dl>
</td>
<td width="60%">
The handle is not valid:
<ul>
<li>it was never opened</li>
<li>it was closed</li>
</ul>
</td>
</tr>
</table>
"""


def test_html_table_with_dl_cells_values_and_lists():
    spec = spec_of(page(returns=HTML_TABLE))
    found = codes(spec)
    assert found["SEC_E_OK"].value == 0 and found["SEC_E_OK"].success
    assert found["SEC_E_INVALID_HANDLE"].value == 0x80090301 and not found["SEC_E_INVALID_HANDLE"].success
    row = spec.clause(found["SEC_E_INVALID_HANDLE"].clause)
    assert "it was never opened" in row.text and row.section == "returns"


def test_wildcard_family_with_range_escaped_star_and_em_dash():
    returns = """| Return code/value | Description |
|---|---|
| **ERROR_SUCCESS**<br>0 | Success. |
| **FWP_E_\\* error code**<br>0x80320001\u20140x80320039 | A WFP error. |
| **RPC_\\* error code**<br>0x80010001\u20130x80010122 | An RPC failure. |
| **Other NTSTATUS codes** | An error occurred. |
"""
    found = codes(spec_of(page(returns=returns)))
    assert found["ERROR_SUCCESS"].value == 0 and found["ERROR_SUCCESS"].success
    assert found["FWP_E_*"].range == (0x80320001, 0x80320039) and not found["FWP_E_*"].open
    assert found["RPC_*"].range == (0x80010001, 0x80010122)
    assert found["NTSTATUS"].open and found["NTSTATUS"].range is None


def test_hresult_from_win32_and_escaped_pipes_and_three_columns():
    returns = """| Return code | Value | Description |
|---|---|---|
| HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED) | 0x80070005 | Access a \\| b denied. |
| E_INVALIDARG | 0x80070057 | Bad argument. |
"""
    spec = spec_of(page(returns=returns))
    found = codes(spec)
    assert "HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)" in found
    assert found["E_INVALIDARG"].value == 0x80070057
    assert "Access a | b denied." in spec.clause(found["HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)"].clause).text


def test_rows_split_over_two_lines():
    returns = """| Return code | Description |
| --- | --- |
| STATUS_SUCCESS | It worked. |
| STATUS_FLT_DELETING_OBJECT |
| The instance is being torn down. This is an error code. |
"""
    spec = spec_of(page(returns=returns))
    found = codes(spec)
    assert set(found) == {"STATUS_SUCCESS", "STATUS_FLT_DELETING_OBJECT"}
    assert "torn down" in spec.clause(found["STATUS_FLT_DELETING_OBJECT"].clause).text


def test_list_of_codes_in_one_cell():
    returns = """| Status | Meaning |
|---|---|
| <ul><li>NDIS_STATUS_BUFFER_TOO_SHORT</li><li>NDIS_STATUS_INVALID_LENGTH</li></ul> | Too short. |
"""
    found = codes(spec_of(page(returns=returns)))
    assert {"NDIS_STATUS_BUFFER_TOO_SHORT", "NDIS_STATUS_INVALID_LENGTH"} <= set(found)


def test_codes_in_prose_are_kept_and_marked():
    returns = "Returns **SEC_E_OK** if queued. Otherwise it returns SEC_E_INSUFFICIENT_MEMORY."
    found = codes(spec_of(page(returns=returns)))
    assert found["SEC_E_OK"].origin == "prose" and found["SEC_E_OK"].success
    assert found["SEC_E_INSUFFICIENT_MEMORY"].origin == "prose"


def test_completion_codes_reported_by_another_function():
    returns = """Returns **SEC_E_OK** if the request was queued.

SspiGetAsyncCallStatus returns **SEC_E_OK** on completion. Otherwise, it may return **SEC_I_ASYNC_CALL_PENDING**, or one of the error codes below.

| Return code | Description |
|---|---|
| **SEC_E_INVALID_HANDLE** | The handle is not valid. |
"""
    spec = spec_of(page(returns=returns))
    by_phase = {(c.name, c.phase): c for c in spec.returns.codes}
    assert ("SEC_E_OK", "call") in by_phase
    assert by_phase[("SEC_E_OK", "completion")].reported_by == "SspiGetAsyncCallStatus"
    assert by_phase[("SEC_I_ASYNC_CALL_PENDING", "completion")].reported_by == "SspiGetAsyncCallStatus"
    assert by_phase[("SEC_E_INVALID_HANDLE", "completion")].origin == "table"


def test_bool_and_void_returns():
    bool_spec = spec_of(page(returns="If the function succeeds, the return value is nonzero.\n\n"
                                     "If the function fails, the return value is zero."))
    assert bool_spec.returns.shape == "bool"
    labels = {c.label: c.success for c in bool_spec.returns.codes}
    assert labels == {"nonzero": True, "zero": False}
    void_spec = spec_of(page(returns="This function does not return a value."))
    assert void_spec.returns.shape == "void" and not void_spec.returns.codes


def test_type_line_gives_the_return_type():
    spec = spec_of(page(returns="Type: <b>DWORD</b>\n\nReturns **ERROR_SUCCESS** on success."))
    assert spec.signature.returns == "DWORD"
    assert [c.text for c in spec.clauses if c.section == "returns"] == ["Returns ERROR_SUCCESS on success."]


# -- mode, clauses, identity ----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,reason",
    [
        ({"irql": "<= PASSIVE_LEVEL"}, "IRQL"),
        ({"client": "Windows 10 [kernel-mode drivers only]"}, "kernel-mode"),
        ({"lib": "fwpkclnt.lib"}, "fwpkclnt.lib"),
        ({"dll": "Ksecdd.sys"}, "kernel driver"),
    ],
)
def test_kernel_mode_and_its_reason(kwargs, reason):
    spec = spec_of(page(**kwargs))
    assert spec.mode == "kernel" and reason in spec.mode_reason


def test_user_mode_by_default():
    spec = spec_of(page())
    assert spec.mode == "user" and spec.mode_reason is None


def test_clause_kinds_and_ids():
    remarks = ("The function deletes the context. The caller must not use the handle afterwards. "
               "For more information, see Contexts.")
    spec = spec_of(page(remarks=remarks))
    remarks_clauses = [c for c in spec.clauses if c.section == "remarks"]
    assert [c.id for c in remarks_clauses] == ["M1", "M2", "M3"]
    assert [c.kind for c in remarks_clauses] == ["normative", "obligation", "informative"]


def test_sentences_keep_abbreviations():
    spec = spec_of(page(remarks="Use a handle, e.g. one from OpenThing. Then close it."))
    assert [c.text for c in spec.clauses if c.section == "remarks"] == [
        "Use a handle, e.g. one from OpenThing.", "Then close it."]


def test_format_is_told_from_path_or_page():
    raw = page()
    assert build_spec(read_page(raw, "wdk-ddi-src/content/x/nf-x-y.md")).source.format == "wdk-ddi"
    assert build_spec(read_page(raw, "elsewhere/nf-x-y.md")).source.format == "sdk-api"
    driver = page(extra="tech.root: netvista\n")
    assert build_spec(read_page(driver, "elsewhere/nf-x-y.md")).source.format == "wdk-ddi"


@pytest.mark.parametrize("raw,reason", [
    (b"", "empty"), (b"\x00\x01\x02garbage\x00" * 50, "binary"), (b"\xff\xfe\xfa not utf8 ---", "UTF-8"),
])
def test_unreadable_input(raw, reason):
    with pytest.raises(PageError, match=reason):
        read_page(raw, "bad.md")
