"""Small markdown reference pages for tests, written to order.

Each test states only what its shape needs (a returns section, a front-matter
oddity); everything else is a plain, valid page, so a failure points at the
shape under test.
"""

from __future__ import annotations

FRONT = """---
UID: NF:{header}.{uid_tail}
title: {api} function ({header}.h)
description: {summary}
ms.date: {date}
req.header: {req_header}
req.include-header: {include}
req.lib: {lib}
req.dll: {dll}
req.irql: {irql}
req.target-min-winverclnt: {client}
req.target-min-winversvr: {server}
req.kmdf-ver: {kmdf}
api_name:
 - {api_name}
{extra}---
"""

BODY = """
## -description

The **{api}** function does one thing for tests.

## -parameters

{params}

## -returns

{returns}

## -remarks

{remarks}

## -see-also

[OtherFunction](nf-{header}-otherfunction.md)
"""


def page(
    *,
    api: str = "TestFunction",
    header: str = "testhdr",
    summary: str = "Does one thing for tests.",
    date: str = "05/06/2021",
    include: str = "",
    lib: str = "Test.lib",
    dll: str = "Test.dll",
    irql: str = "",
    client: str = "Windows 10",
    server: str = "Windows Server 2016",
    kmdf: str = "",
    extra: str = "",
    params: str = "### -param hThing [in]\n\nA handle to the thing.",
    returns: str = "If the function succeeds, the return value is **S_OK**.",
    remarks: str = "The caller must close the handle when it is no longer needed.",
    body: str | None = None,
    crlf: bool = False,
    uid_tail: str | None = None,
    api_name: str | None = None,
    req_header: str | None = None,
) -> bytes:
    """A page; `uid_tail`, `api_name` and `req_header` default to what `api` and `header` give."""
    values = dict(api=api, header=header, summary=summary, date=date, include=include, lib=lib, dll=dll,
                  irql=irql, client=client, server=server, kmdf=kmdf, extra=extra, uid_tail=uid_tail or api,
                  api_name=api_name or api, req_header=req_header or f"{header}.h")
    text = FRONT.format(**values) + (body if body is not None else BODY.format(
        api=api, header=header, params=params, returns=returns, remarks=remarks))
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode("utf-8")
