"""PageParts to Spec: the one place where page facts get their meaning.

Every reader fills PageParts; this module decides the mode, the signature,
the return shape and codes, and the clauses, so that one function read from
two formats gives one spec. Values the page does not give are looked up in
the SDK headers (when the caller passes them) and flagged when unknown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from ..sdk.declarations import declared_name, parse_page_prototype
from ..sdk.expr import sign_extend
from ..spec.model import (Clause, FailureValue, Param, Requirements, ReturnCode, Returns, Signature, Source,
                          Spec, return_width)
from . import clauses as cl
from .code_grammar import code_column, codes_in_cell, names_in_prose, parse_number, success_of
from .failure import last_error_names, last_error_on_success, mentions_last_error, read_failure
from .parts import Block, PageParts
from .text import digest_text, fold

if TYPE_CHECKING:
    from ..sdk import SdkHeaders

KERNEL_LIBS = frozenset({
    "fwpkclnt.lib", "ntoskrnl.lib", "hal.lib", "ndis.lib", "wdmsec.lib", "ksecdd.lib", "fltmgr.lib",
    "netio.lib", "storport.lib", "ks.lib", "wdfldr.lib", "aux_klib.lib", "classpnp.lib", "ntstrsafe.lib",
    "cng.lib", "wmilib.lib", "usbd.lib", "hidparse.lib", "bdasup.lib", "portcls.lib", "acxstub.lib",
    "netadaptercxstub.lib", "wdfdriverentry.lib",
})
_KERNEL_HEADERS = frozenset({"wdm.h", "ntddk.h", "ntifs.h", "fltkernel.h", "ndis.h", "wdf.h", "storport.h"})
_STATUS_TYPES = frozenset({"HRESULT", "NTSTATUS", "SECURITY_STATUS", "LSTATUS", "SCODE", "RPC_STATUS", "MMRESULT"})
_BOOL_SENTENCE = re.compile(r"\breturn(?:s| value is)\s+(?:a\s+)?(nonzero|non-zero|zero|true|false|null|non-null)\b", re.I)
_VOID_SENTENCE = re.compile(r"\b(?:does not|doesn't) return a value\b|^none\.?$", re.I)
_POINTS_AHEAD = re.compile(r"\b(?:below|following)\b", re.I)
_REPORT_VERBS = re.compile(r"\b(?:return(?:s|ed)?|fail(?:s|ed)? with|complete(?:s|d)? with)\b", re.I)
_NUMBER_CELL = re.compile(r"^(?:0[xX][0-9A-Fa-f]+|-?\d+)[uUlL]*$")
_LIB_SEPARATORS = re.compile(r"[;,\s]+")
_DRIVER_FILE = re.compile(r"\.sys\b")
_ANNOTATION_SEPARATORS = re.compile(r"[,\s]+")
_FAIL = re.compile(r"\bfail", re.I)
_SUCCEED = re.compile(r"\bsucce", re.I)
_CONST = re.compile(r"\bconst\b")
_DIRECTIONS = {"in": "in", "out": "out", "inout": "inout", "in/out": "inout", "_in_": "in", "_out_": "out",
               "_inout_": "inout", "_in_opt_": "in", "_out_opt_": "out", "_inout_opt_": "inout"}


# -- requirements and mode ------------------------------------------------------------


def _kernel_reason(parts: PageParts) -> str | None:
    """The page fact that makes a function kernel-mode, or None for user mode."""
    for key in ("target-min-winverclnt", "target-min-winversvr", "target-platform"):
        value = parts.req.get(key, "")
        if "kernel-mode" in value.lower() or "kernel mode" in value.lower():
            return f"requirements say {value!r}"
    irql = parts.req.get("irql")
    if irql:
        return f"IRQL requirement {irql!r}"
    lib = (parts.req.get("lib") or "").lower()
    for name in _LIB_SEPARATORS.split(lib):
        if name in KERNEL_LIBS:
            return f"kernel library {name}"
    for key in ("dll", "lib"):
        value = (parts.req.get(key) or "").lower()
        if _DRIVER_FILE.search(value):
            return f"{key} {parts.req[key]!r} is a kernel driver"
    header = (parts.header or "").lower()
    if header in _KERNEL_HEADERS:
        return f"kernel header {header}"
    return None


def _requirements(parts: PageParts) -> Requirements:
    req = parts.req
    return Requirements(
        min_client=req.get("target-min-winverclnt"), min_server=req.get("target-min-winversvr"),
        irql=req.get("irql"), target_type=req.get("target-type"), target_platform=req.get("target-platform"),
        kmdf_ver=req.get("kmdf-ver"), umdf_ver=req.get("umdf-ver"), ddi_compliance=req.get("ddi-compliance"),
    )


# -- signature ------------------------------------------------------------------------


def _direction(annotation: str | None) -> tuple[str | None, bool]:
    """(direction, optional) from `[in, out, optional]`, `[in/out]`, `[_In_opt_]`; (None, False) when absent."""
    if not annotation:
        return None, False
    inner = annotation.strip().strip("[]").strip().lower()
    tokens = [t.strip() for t in _ANNOTATION_SEPARATORS.split(inner) if t.strip()]
    optional = any("opt" in t for t in tokens)
    if inner.replace(" ", "") in _DIRECTIONS:
        return _DIRECTIONS[inner.replace(" ", "")], optional
    has_in = any(t in ("in", "_in_", "_in_opt_") or t.startswith("in/") for t in tokens) or "_inout" in inner
    has_out = any(t in ("out", "_out_", "_out_opt_", "retval") or t.endswith("/out") for t in tokens) or "_inout" in inner
    if "inout" in tokens or "in/out" in inner or (has_in and has_out):
        return "inout", optional
    if has_in:
        return "in", optional
    if has_out:
        return "out", optional
    return None, optional


def _kind(parts: PageParts) -> str:
    """`method` for a COM or C++ member (`IDebugClient::AttachProcess`, UID `NF:dbgeng.IDebugClient.AttachProcess`)."""
    if "::" in parts.api:
        return "method"
    tail = parts.uid.split(":", 1)[-1].split(".", 1)[1] if parts.uid and "." in parts.uid else ""
    return "method" if "." in tail.split("(", 1)[0] else "function"


def _doc_text(blocks: list[Block]) -> str:
    return "\n\n".join(b.text for b in blocks if b.kind in ("para", "item", "note", "heading") and b.text)


def _signature(parts: PageParts, sdk: "SdkHeaders | None") -> Signature:
    typed: list[tuple[str, str | None]] = []
    returns: str | None = None
    types_from = None
    prototype = None
    if parts.prototype:
        prototype = parse_page_prototype(parts.prototype, declared_name(parts.api))
        if prototype is not None:
            types_from = "page"
    if prototype is None and sdk is not None:
        prototype = sdk.prototype(declared_name(parts.api), parts.header)
        if prototype is not None:
            types_from = "sdk-headers"
    if prototype is not None:
        typed = list(prototype.params)
        returns = prototype.returns
    if parts.return_type:
        returns = parts.return_type
    by_name = {name: type_ for type_, name in typed if name}
    same_count = len(typed) == len(parts.params)
    params = []
    seen: set[str] = set()
    for index, part in enumerate(parts.params):
        direction, optional = _direction(part.annotation)
        name = part.name or _unnamed(index, typed, same_count, seen)
        if not part.name:
            how = "from the prototype" if same_count and name == typed[index][1] else "by its position"
            parts.problems.append(f"{part.problem or f'parameter {index + 1} has no name'}; named {name} {how}")
        if name in seen:
            renamed = _unique(name, seen)
            parts.problems.append(f"parameter {index + 1} repeats the name {name}; kept as {renamed}")
            name = renamed
        seen.add(name)
        type_ = by_name.get(name) or (typed[index][0] if same_count else None)
        params.append(Param(name=name, type=type_, direction=direction, optional=optional,
                            annotation=part.annotation, doc=_doc_text(part.blocks)))
    if not parts.params and typed:
        # the page documents no parameters (or lost them): take names from the prototype
        params = [Param(name=name or f"unnamedParam{i + 1}", type=type_) for i, (type_, name) in enumerate(typed)]
    if types_from and not any(p.type for p in params) and not returns:
        types_from = None
    return Signature(returns=returns, params=params, types_from=types_from)  # type: ignore[arg-type]


def _unnamed(index: int, typed: list[tuple[str, str | None]], same_count: bool, seen: set[str]) -> str:
    """A name for a parameter the page left unnamed: the prototype's at its position, else its position."""
    if same_count and typed[index][1] and typed[index][1] not in seen:
        return typed[index][1]  # type: ignore[return-value]
    return _unique(f"unnamedParam{index + 1}", seen)


def _unique(name: str, seen: set[str]) -> str:
    number = 2
    while f"{name}_{number}" in seen:
        number += 1
    return name if name not in seen else f"{name}_{number}"


# -- clauses and codes ----------------------------------------------------------------


class _Numbering:
    def __init__(self, prefix: str, section: str) -> None:
        self.prefix, self.section, self.count = prefix, section, 0
        self.clauses: list[Clause] = []

    def add(self, text: str) -> Clause:
        self.count += 1
        clause = Clause(id=f"{self.prefix}{self.count}", section=self.section, text=text,  # type: ignore[arg-type]
                        digest=digest_text(text), kind=cl.kind_of(text))  # type: ignore[arg-type]
        self.clauses.append(clause)
        return clause


_FUNCTION_LIKE = r"(?:[A-Z][a-z]+[A-Z]\w*|[A-Z]\w*\d\w*)"
_FUNCTION_NAME = re.compile(_FUNCTION_LIKE)
_OTHER_REPORTER = re.compile(
    rf"^(?:[Tt]he\s+)?\**({_FUNCTION_LIKE})\**(?:\s+function)?\s+(?:returns|may return|will return|can return)\b"
    rf"|\b[Cc]all(?:ing)?\s+\**({_FUNCTION_LIKE})\**[^.]*?\b(?:returns|will return|may return)\b"
)


def _reporter(sentence: str, api: str) -> str | None:
    """Another function whose results a sentence states.

    "SspiGetAsyncCallStatus returns SEC_E_OK on completion" and "Calling
    SspiGetAsyncCallStatus will return ..." speak of that function's return
    values, not of the one the page documents.
    """
    match = _OTHER_REPORTER.search(sentence.lstrip("*"))
    if not match:
        return None
    name = match.group(1) or match.group(2)
    if name.lower() == declared_name(api).lower() or not _FUNCTION_NAME.search(name):
        return None
    return name


def _join_split_rows(rows: list[list[str]]) -> list[list[str]]:
    """Mend rows split over two lines: `| NAME |` then `| its description |`."""
    mended: list[list[str]] = []
    for row in rows:
        previous = mended[-1] if mended else None
        alone = len(row) >= 1 and not any(c.strip() for c in row[1:])
        if (previous is not None and alone and row[0] and not any(c.strip() for c in previous[1:])
                and len(previous) > 1 and not names_in_prose(row[0]) and " " in row[0]):
            mended[-1] = [previous[0], row[0], *previous[2:]]
            continue
        mended.append(list(row))
    return mended


def _table_codes(block: Block, numbering: _Numbering, phase: str, reporter: str | None) -> list[ReturnCode]:
    rows = block.rows
    header = rows[0] if block.header and rows else None
    body = _join_split_rows(rows[1:] if header else rows)
    column = code_column(header, body)
    value_column = next((i for i, title in enumerate(header or []) if i != column and "value" in title.lower()
                         and all(_NUMBER_CELL.match(r[i].strip()) for r in body if i < len(r) and r[i].strip())), None)
    codes: list[ReturnCode] = []
    for row in body:
        clause = numbering.add(cl.row_text(row, header))
        if column is None or column >= len(row):
            continue
        value_cell = row[value_column] if value_column is not None and value_column < len(row) else ""
        description = " ".join(c for i, c in enumerate(row) if i not in (column, value_column))
        for code in codes_in_cell(row[column], description):
            if code.value is None and code.name and parse_number(value_cell.strip()) is not None:
                code.value = parse_number(value_cell.strip())
            code.clause = clause.id
            if phase == "completion":
                code.phase, code.reported_by = "completion", reporter
            elif phase == "last-error":
                code.phase, code.success = "last-error", False
            codes.append(code)
    return codes


_OWN_SUBJECT = re.compile(r"^(?:if |when |the (?:function|method|routine|call)\b|this (?:function|method|routine)\b)", re.I)
_PRONOUN_SUBJECT = re.compile(r"^(?:otherwise,?\s+)?(?:it|this call)\b", re.I)


def _returns(parts: PageParts, numbering: _Numbering) -> list[ReturnCode]:
    """Codes of the returns section, with each sentence and table row numbered as a clause.

    A paragraph whose subject is another function ("SspiGetAsyncCallStatus
    returns SEC_E_OK on completion. Otherwise, it may return ...") speaks of
    that function's results: its codes, and a table it points to ("the error
    codes below"), are completion-phase codes reported by that function.
    """
    codes: list[ReturnCode] = []
    pending_phase: tuple[str, str | None] = ("call", None)
    for block in parts.returns:
        if block.kind == "table":
            codes.extend(_table_codes(block, numbering, *pending_phase))
            pending_phase = ("call", None)
            continue
        if block.kind == "item" and pending_phase[0] == "last-error":
            # a list after "GetLastError, which can return one of the following error codes:"
            for sentence in cl.block_sentences(block):
                clause = numbering.add(sentence)
                codes.extend(ReturnCode(name=name, origin="prose", clause=clause.id, phase="last-error")
                             for name in names_in_prose(sentence)[:1])
            continue
        if pending_phase[0] == "last-error":
            pending_phase = ("call", None)
        reporter: str | None = None
        for sentence in cl.block_sentences(block):
            clause = numbering.add(sentence)
            named = _reporter(sentence, parts.api)
            if named:
                reporter = named
            elif _OWN_SUBJECT.match(sentence) or not _PRONOUN_SUBJECT.match(sentence):
                reporter = None
            if reporter and _POINTS_AHEAD.search(sentence):
                pending_phase = ("completion", reporter)
            elif mentions_last_error(sentence) and _POINTS_AHEAD.search(sentence):
                pending_phase = ("last-error", None)  # "GetLastError, which can return one of the following"
            returned, last = last_error_names(sentence, names_in_prose(sentence))
            for name in returned:
                codes.append(ReturnCode(
                    name=name, origin="prose", clause=clause.id, success=success_of(name, None, sentence),
                    phase="completion" if reporter else "call", reported_by=reporter,
                ))
            codes.extend(ReturnCode(name=name, origin="prose", clause=clause.id, phase="last-error",
                                    success=last_error_on_success(sentence)) for name in last)
            for match in _BOOL_SENTENCE.finditer(sentence):
                label = match.group(1).lower().replace("non-zero", "nonzero")
                failing = _FAIL.search(sentence)
                succeeded = _SUCCEED.search(sentence) and not failing
                codes.append(ReturnCode(label=label, origin="prose", clause=clause.id,
                                        success=bool(succeeded or (label in ("nonzero", "true", "non-null")
                                                                   and not failing))))
    return codes


def _remarks(parts: PageParts, numbering: _Numbering) -> list[ReturnCode]:
    """Remarks clauses; codes a remark says the function returns or fails with are kept as prose codes."""
    codes: list[ReturnCode] = []
    for block in parts.remarks:
        if block.kind == "table":
            for row in block.rows[1 if block.header else 0:]:
                numbering.add(cl.row_text(row, None))
            continue
        for sentence in cl.block_sentences(block):
            clause = numbering.add(sentence)
            if clause.kind == "normative" and _REPORT_VERBS.search(sentence) and not _reporter(sentence, parts.api):
                returned, last = last_error_names(sentence, names_in_prose(sentence))
                for name in returned:
                    codes.append(ReturnCode(name=name, origin="prose", clause=clause.id,
                                            success=success_of(name, None, sentence)))
                codes.extend(ReturnCode(name=name, origin="prose", clause=clause.id, phase="last-error",
                                        success=last_error_on_success(sentence)) for name in last)
    return codes


def _param_last_errors(parts: PageParts) -> list[ReturnCode]:
    """Last errors a parameter's description names for a value of it: CreateFileW's dwCreationDisposition
    table, "If the specified file exists, the function fails and the last-error code is set to
    ERROR_FILE_EXISTS (80)". They are failure reasons (or success notes) as much as the remarks' are; the
    sentence goes in the code's note, prefixed by the parameter, since parameters give no clauses."""
    codes: list[ReturnCode] = []
    for param in parts.params:
        for block in param.blocks:
            if block.kind == "table":
                sentences = [s for row in block.rows[1 if block.header else 0:]
                             for s in cl.split_sentences(cl.row_text(row, None))]
            else:
                sentences = cl.block_sentences(block)
            for sentence in sentences:
                if not mentions_last_error(sentence):
                    continue
                _, last = last_error_names(sentence, names_in_prose(sentence))
                codes.extend(ReturnCode(name=name, origin="param", phase="last-error",
                                        success=last_error_on_success(sentence),
                                        note=f"{param.name}: {sentence.strip()}"[:400]) for name in last)
    return codes


def _dedupe(codes: Iterable[ReturnCode]) -> list[ReturnCode]:
    """One entry per (identity, phase); a table row beats a prose mention of the same code."""
    chosen: dict[tuple, ReturnCode] = {}
    for code in codes:
        key = (code.name or code.family or (code.label or "").lower(), code.phase)
        old = chosen.get(key)
        if old is None or (old.origin == "prose" and code.origin == "table"):
            chosen[key] = code
    return list(chosen.values())


def _resolve(codes: list[ReturnCode], header: str | None, sdk: "SdkHeaders | None") -> None:
    for code in codes:
        if not code.name:
            continue
        if code.value is None and sdk is not None:
            code.value = sdk.value(code.name, header)
        if code.value is None:
            code.unresolved = True
        elif code.phase == "last-error":
            code.success = code.success or code.value == 0  # ERROR_SUCCESS, NO_ERROR: no failure reason
        elif not code.success:
            code.success = success_of(code.name, code.value, "")


def _win32_errors_are_last_errors(codes: list[ReturnCode]) -> list[ReturnCode]:
    """A function that fails by a failure value returns no Win32 error: a prose mention of one ("a function
    that uses a handle fails with ERROR_INVALID_HANDLE") is about the last error."""
    for code in codes:
        if (code.phase == "call" and code.origin == "prose" and code.name and code.value is not None
                and code.value < 0x10000 and (code.name.startswith("ERROR_") or code.name == "NO_ERROR")):
            code.phase, code.success = "last-error", code.value == 0
    return _dedupe(codes)


def _resolve_failure(values: list[FailureValue], header: str | None, sdk: "SdkHeaders | None",
                     return_type: str | None) -> None:
    """Failure values named by a constant (INVALID_HANDLE_VALUE, WAIT_FAILED) get their value from the headers.

    The headers' values come folded to 32 bits when they fit (`-1` is 0xFFFFFFFF); a 64-bit return type
    (a HANDLE) returns that constant sign-extended, so INVALID_HANDLE_VALUE is 0xFFFFFFFFFFFFFFFF there.
    """
    wide = return_width(return_type) == 64
    for value in values:
        if value.value is not None or value.nonzero or not value.name:
            continue
        found = sdk.value(value.name, header) if sdk is not None else None
        if found is None:
            value.unresolved = True
            continue
        value.value = sign_extend(found) if wide else found


def _shape(return_type: str | None, codes: list[ReturnCode], parts: PageParts) -> str:
    """What kind of result the function gives: a status code, a BOOL, nothing, a handle ..."""
    base = _CONST.sub("", return_type or "").strip()
    if base in ("BOOL", "WINBOOL"):
        return "bool"
    if base == "BOOLEAN":
        return "boolean"
    if base.lower() == "void":
        return "void"
    if base in _STATUS_TYPES:
        return "status"
    if base.startswith("H") and base.isupper() and len(base) > 2:
        return "handle"
    if base.endswith("*") or base in ("PVOID", "LPVOID"):
        return "pointer"
    if any((c.name or c.family) and c.phase != "last-error" for c in codes):
        return "status"
    if any(c.label in ("nonzero", "zero") for c in codes):
        # "the return value is nonzero" of a DWORD (a length, a count) says nothing of TRUE and FALSE
        return "value" if base else "bool"
    if any(c.label in ("true", "false") for c in codes):
        return "boolean"
    prose = " ".join(b.text for b in parts.returns if b.kind != "table").strip()
    if _VOID_SENTENCE.search(prose):
        return "void"
    return "value" if base or prose else "unknown"


# -- the spec -------------------------------------------------------------------------


def _summary(parts: PageParts) -> str:
    if parts.summary:
        return fold(parts.summary)
    for block in parts.description:
        if block.kind == "para":
            sentences = cl.split_sentences(block.text)
            if sentences:
                return sentences[0]
    return ""


def build_spec(parts: PageParts, sdk: "SdkHeaders | None" = None) -> Spec:
    """The spec of one function page."""
    reason = _kernel_reason(parts)
    signature = _signature(parts, sdk)
    returns_numbering = _Numbering("R", "returns")
    remarks_numbering = _Numbering("M", "remarks")
    codes = _dedupe(_returns(parts, returns_numbering) + _remarks(parts, remarks_numbering)
                    + _param_last_errors(parts))
    _resolve(codes, parts.header, sdk)
    shape = _shape(signature.returns, codes, parts)
    reading = read_failure(returns_numbering.clauses + remarks_numbering.clauses, signature.returns, shape, codes)
    if reading.failure.signal == "value":
        # the page's ERROR_* names are reasons in the last error, not values returned: without them as
        # call codes the shape may change (a BOOL's table of ERROR_* rows made it look like a status)
        codes = _win32_errors_are_last_errors(codes)
        shape = _shape(signature.returns, codes, parts)
    _resolve_failure(reading.failure.values, parts.header, sdk, signature.returns)
    dll = parts.req.get("dll")
    return Spec(
        api=parts.api,
        kind=_kind(parts),  # type: ignore[arg-type]
        summary=_summary(parts),
        header=parts.header or "unknown.h",
        include_header=parts.req.get("include-header"),
        library=parts.req.get("lib"),
        dll=dll,
        mode="kernel" if reason else "user",
        mode_reason=reason,
        requirements=_requirements(parts),
        source=Source(format=parts.format, uid=parts.uid, file=parts.file, date=parts.date, digest=parts.digest,
                      problems=[*parts.problems, *reading.problems]),
        signature=signature,
        returns=Returns(shape=shape, codes=codes, failure=reading.failure),  # type: ignore[arg-type]
        clauses=returns_numbering.clauses + remarks_numbering.clauses,
        see_also=parts.see_also,
    )
