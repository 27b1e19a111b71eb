"""The learn-text reader: reference pages copied from learn.microsoft.com as plain text.

Each small page below shows one shape a browser copy takes (headings kept
or lost, parameter lines kept or lost, `);` kept or lost, flattened tables,
requirement rows); the seed and the markdown corpus check the reader on
real pages.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from learntext_render import CHROME, render_learn_text, synthesize_prototype
from specproof.readers import read_page
from specproof.readers.learn_text import looks_like_learn_text, read_learn_text
from specproof.readers.parts import Block, NotAFunction, PageError, PageParts, ParamPart

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seeds" / "001_8dd8282e63fb9a14.txt"
CORPUS = SHARED / "corpus" / "sdk-api"


def read(text: str, file: str = "copied/page.txt") -> PageParts:
    return read_learn_text(text.encode("utf-8"), file)


def names(parts: PageParts) -> list[str]:
    return [p.name for p in parts.params]


def docs(parts: PageParts) -> dict[str, list[str]]:
    return {p.name: [b.text for b in p.blocks] for p in parts.params}


def tables(blocks: list[Block]) -> list[list[list[str]]]:
    return [b.rows for b in blocks if b.kind == "table"]


def first_column(blocks: list[Block]) -> list[list[str]]:
    return [[row[0] for row in b.rows] for b in blocks if b.kind == "table"]


# A page as a copy keeps it when every heading survives.
FULL = """\
CloseWidget function (widget.h)

The CloseWidget function closes a widget handle.

Syntax

C++
Copy
WIDGET_STATUS CloseWidget(
  [in]           HWIDGET hWidget,
  [in, optional] PVOID   pReserved
);

Parameters

[in] hWidget

Handle of the widget to close.

[in, optional] pReserved

Reserved. Must be NULL.

Return value

If the function succeeds, the return value is WIDGET_OK.

Return code\tDescription
WIDGET_E_INVALID_HANDLE\tThe handle is not valid.
WIDGET_E_BUSY\tThe widget is in use.

Remarks

After the widget is closed, the handle is no longer valid.

Note  Closing a widget twice returns WIDGET_OK.

- The first item.
- The second item.

Requirements

Minimum supported client\tWindows 10 [desktop apps only]
Minimum supported server\tWindows Server 2016 [desktop apps only]
Target Platform\tWindows
Header\twidget.h (include Widgets.h)
Library\tWidget.lib
DLL\tWidget.dll

See also

OpenWidget

Widget Functions
"""

# The same page after a copy that lost the headings, the parameter lines and the `);`
# (the shape of the seed).
LOST = """\
CloseWidget function (widget.h)

The CloseWidget function closes a widget handle.


WIDGET_STATUS CloseWidget(
  HWIDGET hWidget,
  PVOID   pReserved



Handle of the widget to close.


Reserved. Must be NULL.

Return value

If the function succeeds, the return value is WIDGET_OK.

Return code
WIDGET_E_INVALID_HANDLE The handle is not valid.
WIDGET_E_BUSY The widget is in use.


After the widget is closed, the handle is no longer valid.


Minimum supported client Windows 10 [desktop apps only]
Header widget.h

See also

OpenWidget
"""


# -- the seed ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> PageParts:
    if not SEED.is_file():
        pytest.skip(f"the seed page is not available here ({SEED})")
    return read_learn_text(SEED.read_bytes(), str(SEED))


def test_seed_identity(seed):
    assert seed.format == "learn-text"
    assert seed.api == "SspiDeleteSecurityContextAsync"
    assert seed.header == "sspi.h"
    assert seed.date is None
    assert seed.digest == "sha256:" + hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert seed.summary.startswith("The SspiDeleteSecurityContextAsync function deletes the local data structures")


def test_seed_prototype_keeps_its_lost_close(seed):
    assert "SspiAsyncContext *AsyncContext" in seed.prototype
    assert seed.prototype.startswith("SECURITY_STATUS SspiDeleteSecurityContextAsync(")
    assert ");" not in seed.prototype


def test_seed_params_recovered_from_the_prototype(seed):
    assert names(seed) == ["AsyncContext", "phContext"]
    assert docs(seed) == {
        "AsyncContext": ["The async call context."],
        "phContext": ["Handle of the security context to delete."],
    }
    assert all(p.annotation is None for p in seed.params)


def test_seed_returns(seed):
    prose = [b.text for b in seed.returns if b.kind == "para"]
    assert len(prose) == 2
    assert prose[0].startswith("Returns SEC_E_OK if the async request")
    assert prose[1].startswith("SspiGetAsyncCallStatus returns SEC_E_OK on completion.")
    assert tables(seed.returns) == [[
        ["Return code", "Description"],
        ["SEC_E_INVALID_HANDLE", "The handle passed to the function is not valid."],
    ]]
    assert seed.returns[-1].header is True


def test_seed_remarks(seed):
    # the page has three remark paragraphs (so does its markdown source)
    assert [b.kind for b in seed.remarks] == ["para", "para", "para"]
    assert seed.remarks[0].text.startswith("On async call completion")
    assert "no longer valid" in seed.remarks[-1].text


def test_seed_requirements_and_see_also(seed):
    assert "[kernel-mode drivers only]" in seed.req["target-min-winverclnt"]
    assert seed.req["target-min-winversvr"] == "Windows Server 2016 [kernel-mode drivers only]"
    assert seed.req["header"] == "sspi.h"
    assert seed.see_also == ["SSPI Functions"]


# -- whole pages: headings kept, headings lost ------------------------------------------


def test_headings_kept():
    parts = read(FULL)
    assert parts.api == "CloseWidget" and parts.header == "widget.h"
    assert parts.summary == "The CloseWidget function closes a widget handle."
    assert parts.prototype.endswith(");")
    assert "C++" not in parts.prototype and "Copy" not in parts.prototype
    assert [(p.name, p.annotation) for p in parts.params] == [("hWidget", "[in]"), ("pReserved", "[in, optional]")]
    assert docs(parts) == {"hWidget": ["Handle of the widget to close."], "pReserved": ["Reserved. Must be NULL."]}
    assert [b.kind for b in parts.returns] == ["para", "table"]
    assert tables(parts.returns) == [[
        ["Return code", "Description"],
        ["WIDGET_E_INVALID_HANDLE", "The handle is not valid."],
        ["WIDGET_E_BUSY", "The widget is in use."],
    ]]
    assert [b.kind for b in parts.remarks] == ["para", "note", "item", "item"]
    assert parts.remarks[1].text == "Note Closing a widget twice returns WIDGET_OK."
    assert parts.remarks[2].text == "The first item."
    assert parts.req == {
        "target-min-winverclnt": "Windows 10 [desktop apps only]",
        "target-min-winversvr": "Windows Server 2016 [desktop apps only]",
        "target-platform": "Windows",
        "header": "widget.h",
        "include-header": "Widgets.h",
        "lib": "Widget.lib",
        "dll": "Widget.dll",
    }
    assert parts.see_also == ["OpenWidget", "Widget Functions"]


def test_headings_lost_gives_the_same_parts():
    full, lost = read(FULL), read(LOST)
    assert names(lost) == names(full)
    assert docs(lost) == docs(full)
    assert first_column(lost.returns) == first_column(full.returns)
    assert [b.text for b in lost.returns if b.kind == "para"] == [b.text for b in full.returns if b.kind == "para"]
    assert [b.text for b in lost.remarks] == ["After the widget is closed, the handle is no longer valid."]
    assert lost.req == {"target-min-winverclnt": "Windows 10 [desktop apps only]", "header": "widget.h"}
    assert lost.see_also == ["OpenWidget"]


def test_headings_lost_returns_found_by_their_wording():
    page = LOST.replace("Return value\n\n", "")
    parts = read(page)
    assert docs(parts)["pReserved"] == ["Reserved. Must be NULL."]
    assert parts.returns[0].text == "If the function succeeds, the return value is WIDGET_OK."


def test_see_also_heading_lost_takes_the_lines_after_the_requirements():
    parts = read(LOST.replace("See also\n\n", ""))
    assert parts.see_also == ["OpenWidget"]
    assert all("OpenWidget" != b.text for b in parts.remarks)


def test_returns_never_start_inside_a_parameters_first_paragraph():
    page = """\
GetWidgetName function (widget.h)

Gets a widget's name.

BOOL GetWidgetName(
  HWIDGET hWidget,
  LPWSTR  pszName
);

Handle of the widget.

If the function succeeds, this buffer receives the name.

If the function succeeds, the return value is nonzero.

The name is never longer than 32 characters.
"""
    parts = read(page)
    assert docs(parts) == {
        "hWidget": ["Handle of the widget."],
        "pszName": ["If the function succeeds, this buffer receives the name."],
    }
    assert [b.text for b in parts.returns] == ["If the function succeeds, the return value is nonzero."]
    assert [b.text for b in parts.remarks] == ["The name is never longer than 32 characters."]


def test_void_returns_end_at_the_statement():
    page = """\
ResetWidget function (widget.h)

Resets a widget.

void ResetWidget(
  HWIDGET hWidget
);

Handle of the widget.

This function does not return a value.

Callers must not reset a widget that another thread is using; the reset fails silently and returns nothing.
"""
    parts = read(page)
    assert [b.text for b in parts.returns] == ["This function does not return a value."]
    assert len(parts.remarks) == 1 and parts.remarks[0].text.startswith("Callers must not reset")


def test_remarks_heading_ends_the_returns():
    remarks = "\n\nRemarks\n\nFor extended error information, see the log.\n\nAfter the widget"
    page = LOST.replace("\n\nAfter the widget", remarks)
    parts = read(page)
    assert [b.kind for b in parts.returns] == ["para", "table"]
    assert [b.text for b in parts.remarks][0] == "For extended error information, see the log."


# -- parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines, expected",
    [
        (("[in] hWidget", "[in, optional] pReserved"), [("hWidget", "[in]"), ("pReserved", "[in, optional]")]),
        (("hWidget [in]", "pReserved [in, optional]"), [("hWidget", "[in]"), ("pReserved", "[in, optional]")]),
        (("hWidget", "pReserved"), [("hWidget", None), ("pReserved", None)]),
        (("[In] hWidget", "pReserved [out]"), [("hWidget", "[In]"), ("pReserved", "[out]")]),
    ],
    ids=["annotation-first", "annotation-after", "bare-names", "mixed"],
)
def test_parameter_lines(lines, expected):
    page = f"""\
CloseWidget function (widget.h)

Closes a widget.

WIDGET_STATUS CloseWidget(HWIDGET hWidget, PVOID pReserved);

{lines[0]}

Handle of the widget to close.

It must be open.

{lines[1]}

Reserved.

Returns WIDGET_OK.
"""
    parts = read(page)
    assert [(p.name, p.annotation) for p in parts.params] == expected
    assert docs(parts) == {
        "hWidget": ["Handle of the widget to close.", "It must be open."],
        "pReserved": ["Reserved."],
    }


def test_annotations_from_the_prototype_when_lines_are_lost():
    page = """\
CloseWidget function (widget.h)

Closes a widget.

WIDGET_STATUS CloseWidget(
  [in]      HWIDGET hWidget,
  [out]     PDWORD  pdwState
);

Handle of the widget to close.

Receives the last state.

Returns WIDGET_OK.
"""
    parts = read(page)
    assert [(p.name, p.annotation) for p in parts.params] == [("hWidget", "[in]"), ("pdwState", "[out]")]


def test_bare_word_that_is_not_a_parameter_stays_a_paragraph():
    page = """\
CloseWidget function (widget.h)

Closes a widget.

WIDGET_STATUS CloseWidget(HWIDGET hWidget, PVOID pReserved);

hWidget

Handle of the widget to close.

pReserved

Reserved

Returns WIDGET_OK.
"""
    parts = read(page)
    assert docs(parts) == {"hWidget": ["Handle of the widget to close."], "pReserved": ["Reserved"]}


def test_unnamed_docs_with_more_paragraphs_than_parameters_are_not_guessed():
    page = """\
MoveWidget function (widget.h)

Moves a widget.

WIDGET_STATUS MoveWidget(
  HWIDGET hWidget,
  int     x,
  int     y

Handle of the widget.

The new x.

The new y.

Both are in pixels.

Returns WIDGET_OK.
"""
    parts = read(page)
    assert names(parts) == ["hWidget", "x", "y"]
    assert all(p.blocks == [] for p in parts.params)


def test_unnamed_docs_grouped_when_each_parameter_opens_with_a_paragraph():
    page = """\
SetWidgetMode function (widget.h)

Sets a widget's mode.

WIDGET_STATUS SetWidgetMode(
  HWIDGET hWidget,
  DWORD   dwMode

Handle of the widget.

The mode. One of the following values.

Value\tMeaning
WIDGET_MODE_FAST\tFast mode.
WIDGET_MODE_SLOW\tSlow mode.

Returns WIDGET_OK.
"""
    parts = read(page)
    assert docs(parts)["hWidget"] == ["Handle of the widget."]
    mode = parts.params[1].blocks
    assert [b.kind for b in mode] == ["para", "table"]
    assert mode[1].rows == [
        ["Value", "Meaning"], ["WIDGET_MODE_FAST", "Fast mode."], ["WIDGET_MODE_SLOW", "Slow mode."],
    ]
    assert parts.returns[0].text == "Returns WIDGET_OK."


def test_unnamed_docs_split_at_type_lines():
    page = """\
SetWidgetMode function (widget.h)

Sets a widget's mode.

DWORD SetWidgetMode(HWIDGET hWidget, DWORD dwMode);

Type: HWIDGET

Handle of the widget.

Type: DWORD

The mode.

It is a bit mask.

Type: DWORD

If the function succeeds, the return value is the old mode.
"""
    parts = read(page)
    assert docs(parts) == {
        "hWidget": ["Type: HWIDGET", "Handle of the widget."],
        "dwMode": ["Type: DWORD", "The mode.", "It is a bit mask."],
    }
    assert parts.return_type == "DWORD"
    assert [b.text for b in parts.returns] == ["If the function succeeds, the return value is the old mode."]


def test_single_parameter_gets_every_paragraph():
    page = """\
CloseWidget function (widget.h)

Closes a widget.

WIDGET_STATUS CloseWidget(HWIDGET hWidget);

Handle of the widget to close.

It must have been opened by OpenWidget.

Returns WIDGET_OK.
"""
    assert docs(read(page)) == {
        "hWidget": ["Handle of the widget to close.", "It must have been opened by OpenWidget."],
    }


def test_void_prototype_has_no_parameters():
    page = (
        "GetWidgetCount function (widget.h)\n\nCounts widgets.\n\n"
        "DWORD GetWidgetCount(void);\n\nReturns the count.\n"
    )
    parts = read(page)
    assert parts.params == []
    assert parts.returns[0].text == "Returns the count."


def test_prototype_stops_at_its_close_and_the_text_goes_on():
    page = """\
CloseWidget function (widget.h)

Closes a widget.

WIDGET_STATUS CloseWidget(
  HWIDGET hWidget
);
Handle of the widget to close.

Returns WIDGET_OK.
"""
    parts = read(page)
    assert parts.prototype == "WIDGET_STATUS CloseWidget(\n  HWIDGET hWidget\n);"
    assert docs(parts) == {"hWidget": ["Handle of the widget to close."]}


def test_prose_mentioning_the_call_is_not_the_prototype():
    page = """\
CloseWidget function (widget.h)

Call CloseWidget(hWidget) when you are done with a widget.

WIDGET_STATUS CloseWidget(HWIDGET hWidget);

Handle of the widget to close.

Returns WIDGET_OK.
"""
    parts = read(page)
    assert parts.prototype == "WIDGET_STATUS CloseWidget(HWIDGET hWidget);"
    assert parts.summary == "Call CloseWidget(hWidget) when you are done with a widget."


def test_method_title():
    page = """\
IWidget::Close method (widget.h)

Closes the widget.

HRESULT Close(
  [in] DWORD dwFlags
);

Flags.

Returns S_OK.
"""
    parts = read(page)
    assert parts.api == "IWidget::Close"  # the documented name, `::` kept
    assert names(parts) == ["dwFlags"]


def test_macro_title():
    page = (
        "WIDGET_SIZE macro (widget.h)\n\nGives a widget's size.\n\n"
        "void WIDGET_SIZE(\n   w\n);\n\nThe widget.\n\nNone\n"
    )
    parts = read(page)
    assert parts.api == "WIDGET_SIZE" and names(parts) == ["w"]
    assert [b.text for b in parts.returns] == ["None"]


# -- return tables ----------------------------------------------------------------------


def returns_of(table: str, intro: str = "If the function fails, it returns one of these codes.") -> list[Block]:
    page = f"""\
CloseWidget function (widget.h)

Closes a widget.

WIDGET_STATUS CloseWidget(HWIDGET hWidget);

Handle of the widget to close.

{intro}

{table}

The widget must not be used after it is closed.
"""
    parts = read(page)
    assert parts.remarks and parts.remarks[-1].text == "The widget must not be used after it is closed."
    return parts.returns


@pytest.mark.parametrize(
    "table",
    [
        "Return code/value\tDescription\nSEC_E_OK\n0x00000000\tThe call succeeded.\n"
        "SEC_E_INVALID_HANDLE\n0x80090301\tThe handle is not valid.",
        "Return code/value Description\nSEC_E_OK\n0x00000000 The call succeeded.\n"
        "SEC_E_INVALID_HANDLE\n0x80090301 The handle is not valid.",
        "Return code/value Description\nSEC_E_OK 0x00000000 The call succeeded.\n"
        "SEC_E_INVALID_HANDLE 0x80090301 The handle is not valid.",
        "Return code/value\tDescription\nSEC_E_OK\n0x00000000\nThe call succeeded.\n\n"
        "SEC_E_INVALID_HANDLE\n0x80090301\nThe handle is not valid.",
    ],
    ids=["value-line-tab", "value-line-space", "value-inline", "description-on-its-own-line"],
)
def test_value_lines_under_names(table):
    assert tables(returns_of(table)) == [[
        ["Return code/value", "Description"],
        ["SEC_E_OK\n0x00000000", "The call succeeded."],
        ["SEC_E_INVALID_HANDLE\n0x80090301", "The handle is not valid."],
    ]]


def test_wildcard_family_and_open_family_rows():
    table = (
        "Return code/value\tDescription\n"
        "ERROR_SUCCESS\n0\tThe SA context was expired.\n"
        "FWP_E_* error code\n0x80320001\u20140x80320039\tA Windows Filtering Platform (WFP) specific error.\n"
        "RPC_* error code\n0x80010001\u20140x80010122\tFailure to communicate with the engine.\n"
        "Other NTSTATUS codes\tAn error occurred."
    )
    rows = tables(returns_of(table))[0]
    assert [row[0] for row in rows] == [
        "Return code/value", "ERROR_SUCCESS\n0", "FWP_E_* error code\n0x80320001\u20140x80320039",
        "RPC_* error code\n0x80010001\u20140x80010122", "Other NTSTATUS codes",
    ]
    assert rows[-1][1] == "An error occurred."


def test_open_family_with_space_separator():
    table = "Return code\nSTATUS_SUCCESS The call succeeded.\nOther NTSTATUS codes An error occurred."
    rows = tables(returns_of(table))[0]
    assert rows[1:] == [["STATUS_SUCCESS", "The call succeeded."], ["Other NTSTATUS codes", "An error occurred."]]


def test_return_value_directly_over_rows_is_a_table_header():
    table = "Return value\tDescription\nTRUE\tThe widget is open.\nFALSE\tThe widget is closed."
    blocks = returns_of(table, intro="Returns a BOOL.")
    assert first_column(blocks) == [["Return value", "TRUE", "FALSE"]]


def test_description_continues_on_following_lines_and_starts_with_a_parameter_name():
    table = (
        "Return code\tDescription\n"
        "SEC_E_INVALID_TOKEN pMessage did not contain a valid token.\n"
        "The token may have been truncated.\n"
        "SEC_E_OK The call succeeded."
    )
    rows = tables(returns_of(table))[0]
    description = "pMessage did not contain a valid token.\nThe token may have been truncated."
    assert rows[1] == ["SEC_E_INVALID_TOKEN", description]
    assert rows[2] == ["SEC_E_OK", "The call succeeded."]


def test_several_codes_in_one_cell():
    table = (
        "Return code\tDescription\nNDIS_STATUS_BUFFER_TOO_SHORT\n"
        "NDIS_STATUS_INVALID_LENGTH\tThe buffer is too short.\nNDIS_STATUS_SUCCESS\tDone."
    )
    rows = tables(returns_of(table))[0]
    assert rows[1][0] == "NDIS_STATUS_BUFFER_TOO_SHORT\nNDIS_STATUS_INVALID_LENGTH"
    assert rows[2] == ["NDIS_STATUS_SUCCESS", "Done."]


def test_wide_table_keeps_its_columns():
    table = (
        "Return code\tNT Status Value\tDescription\n"
        "HIDP_STATUS_SUCCESS\t0x00110000\tThe data was returned.\n"
        "HIDP_STATUS_USAGE_NOT_FOUND 0xc0110004 The usage does not exist."
    )
    rows = tables(returns_of(table))[0]
    assert rows == [
        ["Return code", "NT Status Value", "Description"],
        ["HIDP_STATUS_SUCCESS", "0x00110000", "The data was returned."],
        ["HIDP_STATUS_USAGE_NOT_FOUND", "0xc0110004", "The usage does not exist."],
    ]


def test_two_return_tables_with_prose_between():
    table = (
        "Return code\tDescription\nSEC_I_CONTINUE_NEEDED\tSend the token.\n\n"
        "If the function fails, it returns one of the following error codes.\n\n"
        "Return code\tDescription\nSEC_E_INTERNAL_ERROR\tAn internal error."
    )
    blocks = returns_of(table, intro="If the function succeeds, it returns one of the following success codes.")
    assert [b.kind for b in blocks] == ["para", "table", "para", "table"]
    assert first_column(blocks) == [["Return code", "SEC_I_CONTINUE_NEEDED"], ["Return code", "SEC_E_INTERNAL_ERROR"]]


def test_return_table_without_prose_before_it():
    page = """\
IPsecWidgetExpire0 function (fwpmu.h)

Expires a widget.

DWORD IPsecWidgetExpire0(
  HANDLE engineHandle,
  UINT64 id

Handle for an open session to the filter engine.

A runtime identifier for the widget.

Return code/value\tDescription
ERROR_SUCCESS
0\tThe widget was expired.

When a widget is expired, it is deleted after a minute.
"""
    parts = read(page)
    assert docs(parts) == {"engineHandle": ["Handle for an open session to the filter engine."],
                           "id": ["A runtime identifier for the widget."]}
    assert first_column(parts.returns) == [["Return code/value", "ERROR_SUCCESS\n0"]]
    assert [b.text for b in parts.remarks] == ["When a widget is expired, it is deleted after a minute."]


def test_type_line_sets_the_return_type():
    page = LOST.replace("Return value\n\n", "Return value\n\nType: WIDGET_STATUS\n\n")
    parts = read(page)
    assert parts.return_type == "WIDGET_STATUS"
    assert all(not b.text.startswith("Type:") for b in parts.returns)


def test_return_value_heading_over_a_sentence_is_a_heading():
    page = LOST.replace("Return value\n\nIf the function succeeds, the return value is WIDGET_OK.",
                        "Return value\nTRUE if the widget was closed; otherwise FALSE.")
    parts = read(page)
    assert parts.returns[0] == Block("para", "TRUE if the widget was closed; otherwise FALSE.")
    assert docs(parts)["pReserved"] == ["Reserved. Must be NULL."]


def test_sentence_starting_with_a_code_is_not_a_row():
    table = "Return code\nWIDGET_E_INVALID_HANDLE The handle is not valid.\nWIDGET_E_BUSY The widget is in use."
    page = LOST.replace(table, "WIDGET_E_BUSY is returned when the widget is in use.")
    parts = read(page)
    assert tables(parts.returns) == []
    assert "WIDGET_E_BUSY is returned when the widget is in use." in [b.text for b in parts.returns]


# -- requirements -----------------------------------------------------------------------


REQ_ROWS = {
    "Minimum supported client": ("target-min-winverclnt", "Windows Vista"),
    "Minimum supported server": ("target-min-winversvr", "Windows Server 2008"),
    "Target Platform": ("target-platform", "Universal"),
    "Header": ("header", "fwpmk.h"),
    "Library": ("lib", "Fwpkclnt.lib"),
    "DLL": ("dll", "NtosKrnl.exe"),
    "IRQL": ("irql", "<= PASSIVE_LEVEL"),
    "Include header": ("include-header", "Fwpmk.h"),
}


@pytest.mark.parametrize("order", [list(REQ_ROWS), list(reversed(REQ_ROWS)), ["IRQL", "Header", "Target Platform"]],
                         ids=["page-order", "reversed", "subset"])
@pytest.mark.parametrize("sep", [" ", "\t"], ids=["space", "tab"])
def test_requirements_in_any_order(order, sep):
    rows = "\n".join(f"{key}{sep}{REQ_ROWS[key][1]}" for key in order)
    page = LOST.split("\n\n\nMinimum supported client")[0] + f"\n\n\n{rows}\n"
    parts = read(page)
    assert parts.req == {REQ_ROWS[key][0]: REQ_ROWS[key][1] for key in order}
    assert [b.text for b in parts.remarks] == ["After the widget is closed, the handle is no longer valid."]


def test_requirement_value_on_the_next_line_and_unknown_rows_under_the_heading():
    page = FULL.replace("Header\twidget.h (include Widgets.h)", "Header\nwidget.h\nAPI set\text-ms-win-widget-l1-1-0")
    parts = read(page)
    assert parts.req["header"] == "widget.h"
    assert "include-header" not in parts.req
    assert parts.see_also == ["OpenWidget", "Widget Functions"]


def test_remark_starting_with_a_requirement_word_stays_a_remark():
    remark = "Header files for widgets are installed with the SDK."
    page = LOST.replace("After the widget is closed", remark + "\n\nAfter the widget is closed")
    parts = read(page)
    assert parts.remarks[0].text == remark
    assert parts.req["header"] == "widget.h"


# -- normalisation, dates, chrome -------------------------------------------------------


def test_crlf_nbsp_and_private_use_characters():
    page = LOST.replace("Minimum supported client Windows", "Minimum supported client\u00a0Windows")
    page = page.replace("The CloseWidget function", "The\u202fCloseWidget\ue70f function")
    parts = read(page.replace("\n", "\r\n"))
    plain = read(LOST)
    assert parts.summary == plain.summary == "The CloseWidget function closes a widget handle."
    assert names(parts) == names(plain)
    assert parts.req == plain.req
    assert first_column(parts.returns) == first_column(plain.returns)
    assert "\r" not in parts.prototype


def test_date_line():
    page = FULL.replace("The CloseWidget function closes", "Last updated 06/20/2024\n\nThe CloseWidget function closes")
    parts = read(page)
    assert parts.date == "2024-06-20"
    assert parts.summary == "The CloseWidget function closes a widget handle."
    assert read(FULL.replace("\n\nThe CloseWidget", "\n\n2023-01-31\n\nThe CloseWidget")).date == "2023-01-31"


def test_site_chrome_is_dropped():
    page = FULL.replace("\n\nThe CloseWidget", "\n\nIn this article\n\nThe CloseWidget")
    page += "\nWas this page helpful?\nYes\nNo\n"
    parts = read(page)
    assert parts.summary == "The CloseWidget function closes a widget handle."
    assert parts.see_also == ["OpenWidget", "Widget Functions"]


def test_digest_is_of_the_raw_bytes():
    raw = LOST.replace("\n", "\r\n").encode()
    assert read_learn_text(raw, "x").digest == "sha256:" + hashlib.sha256(raw).hexdigest()


# -- not a function, not readable -------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["WIDGET_INFO structure (widget.h)", "WIDGET_MODE enumeration (widget.h)",
     "PWIDGET_CALLBACK callback function (widget.h)", "IWidget interface (widget.h)",
     "IOCTL_WIDGET_RESET IOCTL (widget.h)", "WIDGET_DATA union (widget.h)"],
)
def test_other_page_kinds_are_not_functions(title):
    text = f"{title}\n\nDescribes a widget.\n"
    assert looks_like_learn_text(text)
    with pytest.raises(NotAFunction, match="not a function"):
        read(text)


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty"),
        (b"   \n\n  \n", "empty"),
        (b"\x00\x01\x02\x03binary\x00data", "binary"),
        (b"CloseWidget function (widget.h)\n\n\xff\xfe not UTF-8", "UTF-8"),
        (b"Just some notes about widgets.\nNothing else.\n", "no title line"),
        (b"---\nUID: NF:widget.CloseWidget\n---\n# CloseWidget\n", "front matter"),
        ("\x07\x08" * 40 + "garbage\x1b\x1c" * 20, "binary"),
    ],
    ids=["empty", "blank", "nul-bytes", "not-utf8", "prose", "markdown", "control-chars"],
)
def test_unreadable_input(raw, reason):
    if isinstance(raw, str):
        raw = raw.encode()
    with pytest.raises(PageError, match=reason):
        read_learn_text(raw, "bad.txt")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("CloseWidget function (widget.h)\n\nCloses.", True),
        ("\ufeff\n\n  IWidget::Close method (widget.h)\r\n", True),
        ("WIDGET_SIZE macro (widget.h)\n", True),
        ("---\ntitle: CloseWidget function (widget.h)\n---\n", False),
        ("The CloseWidget function (widget.h) closes a widget.\n", False),
        ("CloseWidget function\n", False),
        ("", False),
    ],
)
def test_looks_like_learn_text(text, expected):
    assert looks_like_learn_text(text) is expected


# -- the renderer and the reader agree --------------------------------------------------


def sample_parts() -> PageParts:
    """What a markdown reader gives for a small page: codes with values, a family, notes and requirements."""
    return PageParts(
        format="sdk-api", file="sample.md", digest="sha256:0", api="IPsecWidgetExpire0", header="fwpmu.h",
        summary="The IPsecWidgetExpire0 function expires a widget.",
        description=[Block("para", "The IPsecWidgetExpire0 function expires a widget.")],
        params=[
            ParamPart("engineHandle", "[in]", [Block("para", "Handle for an open session to the filter engine.")]),
            ParamPart("id", "[in]", [Block("para", "A runtime identifier for the widget.")]),
        ],
        returns=[Block("table", rows=[
            ["Return code/value", "Description"],
            ["ERROR_SUCCESS\n0", "The widget was expired."],
            ["FWP_E_* error code\n0x80320001\u20140x80320039", "A WFP specific error."],
            ["Other NTSTATUS codes", "An error occurred."],
        ], header=True)],
        remarks=[Block("para", "When a widget is expired, it is deleted after a minute."),
                 Block("note", "The caller needs DELETE access.")],
        req={"target-min-winverclnt": "Windows Vista [desktop apps only]", "header": "fwpmu.h", "lib": "Fwpuclnt.lib",
             "dll": "Fwpuclnt.dll"},
        see_also=["FwpmEngineOpen0", "IPsecWidgetCreate0"],
    )


@pytest.mark.parametrize("headings", [True, False, {"Return value", "See also"}],
                         ids=["headings", "no-headings", "some"])
@pytest.mark.parametrize("param_names", [True, False], ids=["names", "no-names"])
@pytest.mark.parametrize("close_prototype", [True, False], ids=["closed", "open"])
@pytest.mark.parametrize("value_on_next_line", [True, False], ids=["value-line", "value-inline"])
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_rendered_sample_reads_back(headings, param_names, close_prototype, value_on_next_line, crlf):
    parts = sample_parts()
    text = render_learn_text(parts, headings=headings, param_names=param_names, close_prototype=close_prototype,
                             value_on_next_line=value_on_next_line, crlf=crlf)
    assert ("\r\n" in text) is crlf
    back = read(text)
    assert back.api == parts.api and back.header == parts.header
    assert [(p.name, p.annotation if param_names else None) for p in back.params] == [
        (p.name, p.annotation if param_names else None) for p in parts.params]
    assert docs(back) == docs(parts)
    assert tables(back.returns) == tables(parts.returns)
    assert [(b.kind, b.text) for b in back.remarks] == [(b.kind, b.text) for b in parts.remarks]
    assert back.req == parts.req
    assert back.see_also == parts.see_also
    assert back.prototype.rstrip().endswith(");") is close_prototype


def test_renderer_shapes():
    text = render_learn_text(sample_parts(), headings=False, param_names=False, close_prototype=False,
                             value_on_next_line=False, table_header="first", req_order=["header", "lib"])
    lines = text.split("\n")
    assert lines[0] == "IPsecWidgetExpire0 function (fwpmu.h)"
    assert "Syntax" not in lines and "Parameters" not in lines and "Return value" not in lines
    assert "[in] id" not in lines and ");" not in lines
    assert "Return code/value" in lines
    assert "ERROR_SUCCESS 0 The widget was expired." in lines
    assert lines.index("Header fwpmu.h") < lines.index("Library Fwpuclnt.lib")
    assert not any(line.startswith("Minimum supported client") for line in lines)


def test_synthesized_prototype():
    assert synthesize_prototype(sample_parts()) == (
        "HRESULT IPsecWidgetExpire0(\n  PVOID engineHandle,\n  PVOID id\n);")
    assert synthesize_prototype(PageParts("sdk-api", "f", "d", "F")) == "HRESULT F(void);"


# -- the markdown corpus, read from both formats ----------------------------------------


def corpus_pages() -> list[Path]:
    folders = [CORPUS / "sspi", CORPUS / "fwpmu"]
    return sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.md"))


def sdk_prototype_text(parts: PageParts, sdk) -> str | None:
    """The declaration a rendered page shows in its syntax block, from the SDK headers."""
    found = sdk.prototype(parts.api, parts.header)
    if found is None:
        return None
    names = [p.name for p in parts.params] if len(parts.params) == len(found.params) else [n for _, n in found.params]
    # a rendered page shows the doc's own parameter names with the header's types
    params = ",\n".join(f"  {type_} {name or ''}".rstrip() for (type_, _), name in zip(found.params, names))
    return f"{found.returns} {found.name}(\n{params}\n);" if params else f"{found.returns} {found.name}(void);"


def spec_codes(spec) -> set:
    return {(c.name or c.family or c.label, c.value, c.range, c.open, c.success, c.phase) for c in spec.returns.codes}


@pytest.mark.parametrize("path", corpus_pages() or [None], ids=lambda p: p.name if p else "no-corpus")
def test_markdown_and_its_learn_text_copy_give_one_spec(path, sdk):
    """Read from its markdown source and from a copy that lost headings, names and `);`: same params, same codes."""
    from specproof.readers.spec_builder import build_spec
    from specproof.readers.markdown import read_markdown

    if path is None:
        pytest.skip(f"the sdk-api corpus is not available here ({CORPUS})")
    source = read_markdown(path.read_bytes(), str(path))
    text = render_learn_text(source, sdk_prototype_text(source, sdk), headings=False, param_names=False,
                             close_prototype=False)
    copy = read_learn_text(text.encode("utf-8"), str(path))
    assert copy.format == "learn-text" and copy.api == source.api
    assert names(copy) == names(source)
    assert first_column(copy.returns) == first_column(source.returns)
    from_markdown, from_text = build_spec(source, sdk), build_spec(copy, sdk)
    assert [(p.name, p.type) for p in from_text.signature.params] == [
        (p.name, p.type) for p in from_markdown.signature.params]
    assert from_text.signature.returns == from_markdown.signature.returns
    assert spec_codes(from_text) == spec_codes(from_markdown)
    assert from_text.mode == from_markdown.mode


# -- whole-page copies: the site's chrome around the article ----------------------------


def without_digest(parts: PageParts) -> PageParts:
    return replace(parts, digest="")


CHROME_CASES = [
    # (site language, headings the copy kept, breadcrumb style)
    ("en", True, "slash"), ("en", False, "lines"), ("en", {"Return value", "See also"}, "spaces"),
    ("de", True, "lines"), ("de", False, "slash"), ("de", {"Return value", "See also"}, "slash"),
    ("fr", True, "spaces"), ("fr", False, "slash"), ("fr", {"Return value", "See also"}, "lines"),
    ("es", True, "slash"), ("es", False, "spaces"), ("es", {"Return value", "See also"}, "slash"),
]


@pytest.mark.parametrize("lang, headings, breadcrumbs", CHROME_CASES,
                         ids=[f"{lang}-{'all' if h is True else 'none' if h is False else 'some'}-{b}"
                              for lang, h, b in CHROME_CASES])
@pytest.mark.parametrize("param_names", [True, False], ids=["names", "no-names"])
def test_copy_with_site_chrome_reads_as_the_copy_without(lang, headings, breadcrumbs, param_names):
    """Site header, breadcrumbs, action words, metadata, "In this article" and footer, in four site languages."""
    parts = sample_parts()
    options = dict(headings=headings, param_names=param_names, close_prototype=param_names)
    whole = render_learn_text(parts, chrome=lang, chrome_date="2024-02-22", breadcrumbs=breadcrumbs, **options)
    plain = render_learn_text(parts, date="02/22/2024", **options)
    assert not whole.startswith("IPsecWidgetExpire0") and "In this article" not in plain
    assert looks_like_learn_text(whole)
    copy = read_page(whole.encode("utf-8"), "copied/page.txt")
    assert copy.format == "learn-text" and copy.date == "2024-02-22"
    assert without_digest(copy) == without_digest(read(plain))
    assert copy.see_also == parts.see_also  # the footer is not see-also
    assert copy.summary == parts.summary  # the metadata and the heading list are not description


@pytest.mark.parametrize("lang", ["en", "de", "fr", "es"])
def test_chrome_metadata_before_the_title_and_a_short_heading_list(lang):
    """The metadata may sit before the title too, and the "In this article" list may show one heading."""
    parts = sample_parts()
    whole = render_learn_text(parts, chrome=lang, toc_shown=1)
    lines = whole.split("\n")
    title = lines.index("IPsecWidgetExpire0 function (fwpmu.h)")
    meta = lines[title + 2:lines.index("", title + 2)]  # Article, date, contributors, feedback, list, more
    assert meta[-2] == "Syntax"
    moved = "\n".join(lines[:title] + meta[:4] + [lines[title], ""] + meta[4:] + lines[title + 2 + len(meta):])
    for text in (whole, moved):
        copy = read(text)
        assert without_digest(copy) == without_digest(read(render_learn_text(parts, date=copy.date)))


def test_copy_starting_at_the_title_keeps_the_metadata_out():
    page = FULL.replace(
        "CloseWidget function (widget.h)\n",
        "CloseWidget function (widget.h)\nArticle\n12/05/2018\n3 contributors\nFeedback\nIn this article\n"
        "Syntax\nParameters\nReturn value\nRemarks\nShow 2 more\n", 1)
    parts = read(page)
    assert parts.date == "2018-12-05"
    dated = FULL.replace("\n\nThe CloseWidget", "\n\n12/05/2018\n\nThe CloseWidget")
    assert without_digest(parts) == without_digest(read(dated))


def test_a_heading_list_and_lost_headings():
    """The copy lost the body's headings but kept the "In this article" list: the list is not the headings."""
    page = LOST.replace("\n\nThe CloseWidget", "\nArtikel\n05.12.2018\nFeedback\nIn diesem Artikel\nSyntax\n"
                        "Parameters\nReturn value\nRemarks\n2 weitere anzeigen\n\nThe CloseWidget", 1)
    parts = read("Zum Hauptinhalt wechseln\nLearn / Windows / Widgets / Widget.h\n" + page)
    assert parts.date == "2018-12-05"
    dated = LOST.replace("\n\nThe CloseWidget", "\n\n12/05/2018\n\nThe CloseWidget")
    assert without_digest(parts) == without_digest(read(dated))


@pytest.mark.parametrize("text, date", [
    ("Article\n02/22/2024\n", "2024-02-22"), ("Artikel\n22.02.2024\n", "2024-02-22"),
    ("Article\n22/02/2024\n", "2024-02-22"), ("Artículo • 22/02/2024 • 3 colaboradores\n", "2024-02-22"),
    ("Article\n2024-02-22\n", "2024-02-22"), ("Article\n12/05/2018\n", "2018-12-05"),  # en-us: month first
])
def test_metadata_dates_in_site_locales(text, date):
    parts = read(FULL.replace("CloseWidget function (widget.h)\n", f"CloseWidget function (widget.h)\n{text}", 1))
    assert parts.date == date
    assert parts.summary == "The CloseWidget function closes a widget handle."


def test_the_seed_copied_with_the_whole_page(seed):
    """The real seed, with the chrome a copy of the whole page adds in English, German and French."""
    text = SEED.read_text(encoding="utf-8")
    title, rest = text.split("\n", 1)
    for lang in ("en", "de", "fr"):
        site = CHROME[lang]
        meta = [line.format(date="22/02/2024" if lang == "fr" else "22.02.2024" if lang == "de" else "02/22/2024",
                            n=4) for line in site["meta"]]
        whole = "\n".join(site["top"] + [" / ".join(site["crumbs"] + ["Sspi.h"]), title] + meta
                          + [site["in_article"], "Syntax", "Parameters", "Return value", "Remarks",
                             site["more"].format(n=2), rest])
        whole = whole.rstrip("\n") + "\n\n" + "\n".join(site["footer"]) + "\n"
        copy = read_page(whole.encode("utf-8"), str(SEED))
        assert copy.date == "2024-02-22"
        assert replace(copy, digest="", date=None) == replace(seed, digest="")


def test_method_copy_with_chrome_keeps_the_documented_name():
    page = """\
Skip to main content
Learn / Windows / Drivers / Widgets / Widget.h
Edit
Share via
IWidget::Close method (widget.h)
Article
11/04/2019
Feedback
In this article
Syntax
Parameters
Return value

Closes the widget.

Syntax

HRESULT Close(
  [in] DWORD dwFlags
);

Parameters

[in] dwFlags

Flags.

Return value

Returns S_OK.
"""
    parts = read(page)
    assert parts.api == "IWidget::Close" and parts.header == "widget.h" and parts.date == "2019-11-04"
    assert names(parts) == ["dwFlags"] and parts.summary == "Closes the widget."
    assert [b.text for b in parts.returns] == ["Returns S_OK."]


def test_corpus_method_page_with_chrome():
    from specproof.readers.markdown import read_markdown

    path = SHARED / "corpus" / "wdk-ddi" / "engextcpp" / "nf-engextcpp-extbuffer-copy(const_t_ulong).md"
    if not path.is_file():
        pytest.skip(f"the wdk-ddi corpus is not available here ({path})")
    source = read_markdown(path.read_bytes(), str(path))
    plain = render_learn_text(source, kind="method", date="02/22/2024")
    for lang in ("en", "es"):
        copy = read_page(render_learn_text(source, kind="method", chrome=lang).encode("utf-8"), str(path))
        assert copy.api == "ExtBuffer::Copy"
        assert without_digest(copy) == without_digest(read(plain, str(path)))


def test_title_like_line_in_the_chrome_is_not_the_title():
    """A title-like line with no page after it (before the next one) is chrome; the page's title is the next."""
    page = ("Skip to main content\nRecently viewed\nOpenWidget function (widget.h)\nWidgetInfo structure (widget.h)\n"
            "Learn / Widgets\n" + FULL)
    assert without_digest(read(page)) == without_digest(read(FULL))


def test_other_page_kinds_behind_chrome_are_not_functions():
    page = "Skip to main content\nLearn / Widgets / Widget.h\nEdit\nWIDGET_INFO structure (widget.h)\n\nSyntax\n\n" \
           "typedef struct WIDGET_INFO {\n  DWORD cb;\n} WIDGET_INFO;\n\nRequirements\n\nHeader\twidget.h\n"
    assert looks_like_learn_text(page)
    with pytest.raises(NotAFunction, match="a structure page"):
        read(page)


PROSE = "".join(f"Paragraph {i} of some notes about widgets, which go on for a while.\n\n" for i in range(80))


@pytest.mark.parametrize("page", [
    PROSE + FULL,  # the title only after more than the window of prose
    "Skip to main content\n" + PROSE + FULL,
    "Notes\n" + "\n".join(f"line {i}" for i in range(70)) + "\n" + LOST,
], ids=["prose", "chrome-then-prose", "many-short-lines"])
def test_title_deep_in_the_body_is_refused(page):
    assert not looks_like_learn_text(page)
    first = page.lstrip().split("\n", 1)[0]
    with pytest.raises(PageError, match=f"no title line: .* this one with '{first}'$"):
        read(page)
    with pytest.raises(PageError, match="unknown page format"):
        read_page(page.encode(), "notes.txt")


def test_title_like_line_without_a_page_after_it_is_refused():
    page = "Meeting notes\n\nCloseWidget function (widget.h)\n\nWe should call it less often.\nAnd log it.\n"
    assert not looks_like_learn_text(page)
    with pytest.raises(PageError, match=r"this one with 'Meeting notes'; the title-like line 'CloseWidget "
                                        r"function \(widget.h\)' \(line 3\) is followed by no Syntax"):
        read(page)


def test_window_counts_lines_with_text():
    """The title may follow up to the window's worth of chrome lines, however many blank lines lie between."""
    chrome = [f"Crumb {i}" for i in range(58)]
    near = "\n\n\n".join(chrome) + "\n" + FULL  # the title is the 59th line with text
    assert looks_like_learn_text(near) and read(near).api == "CloseWidget"
    far = "\n".join(chrome + ["Crumb 58", "Crumb 59"]) + "\n" + FULL  # the 61st
    assert not looks_like_learn_text(far)


def spec_without_digest(spec):
    return spec.model_copy(update={"source": spec.source.model_copy(update={"digest": ""})})


@pytest.mark.parametrize("path", corpus_pages() or [None], ids=lambda p: p.name if p else "no-corpus")
def test_corpus_copy_with_chrome_gives_the_spec_of_the_copy_without(path, sdk):
    """Each corpus page copied whole (site chrome in one of four languages) and copied bare: one spec."""
    from specproof.readers.spec_builder import build_spec
    from specproof.readers.markdown import read_markdown

    if path is None:
        pytest.skip(f"the sdk-api corpus is not available here ({CORPUS})")
    source = read_markdown(path.read_bytes(), str(path))
    prototype = sdk_prototype_text(source, sdk)
    lang = ("en", "de", "fr", "es")[sum(path.name.encode()) % 4]
    for headings in (True, False):
        options = dict(headings=headings, param_names=headings, close_prototype=headings)
        whole = render_learn_text(source, prototype, chrome=lang, chrome_date="2023-10-31", **options)
        plain = render_learn_text(source, prototype, date="10/31/2023", **options)
        from_whole = build_spec(read_page(whole.encode("utf-8"), str(path)), sdk)
        from_plain = build_spec(read_learn_text(plain.encode("utf-8"), str(path)), sdk)
        assert from_whole.source.date == "2023-10-31"
        assert spec_without_digest(from_whole) == spec_without_digest(from_plain), lang


def test_heading_list_right_before_the_headings_it_lists():
    """A page with no description: the list ends where a heading it already named comes again."""
    body = FULL.split("\n\nThe CloseWidget function closes a widget handle.\n", 1)[1]
    bare = "CloseWidget function (widget.h)\n" + body
    page = "CloseWidget function (widget.h)\nArticle\n06/20/2024\nIn this article\nSyntax\nParameters\n" + body
    parts = read(page)
    assert parts.date == "2024-06-20" and parts.prototype.startswith("WIDGET_STATUS CloseWidget(")
    assert replace(parts, digest="", date=None) == without_digest(read(bare))
