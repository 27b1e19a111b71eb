"""The derivation rules: each a plain function from a spec to the cases it implies.

Every rule quotes in its docstring what in the docs triggers it. Rules
never invent expectations the docs do not give: where the docs are silent
a case is `robustness` (the implementation must survive) rather than
`conformance`. The set in force is the tuple RULES.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from ..adapter.marshal import is_pointer, normalise_type
from ..adapter.structs import pointee
from ..spec.model import (Arg, BufferArg, Case, Clause, ConstantArg, Expect, FixtureArg, HandleArg, Param, ReturnCode, Spec,
                          StringArg, ValueArg)
from .catalog import Catalog, HandleKind

Rule = Callable[[Spec, Catalog], Iterable[Case]]

_HANDLE_TYPE = re.compile(r"^(P|LP)?(Ctxt|Cred|Sec)Handle\*?$|^HANDLE$|^H[A-Z0-9_]+$")
_RELEASED = re.compile(r"already been (deleted|freed|closed|released)|has been (deleted|freed|closed|released)",
                       re.I)
_NO_LONGER_VALID = re.compile(r"no longer valid|not permitted", re.I)
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_RECEIVES = re.compile(r"\breceives?\b", re.I)
_OPTIONAL = re.compile(r"^\W*optional\b", re.I)


_NEW_HANDLE = re.compile(r"^p?hNew[A-Z]")


def direction(param: Param) -> str | None:
    """The page's direction; without an annotation, "... that receives ..." in its doc marks an output.

    So does the Windows naming convention `phNewContext` (the handle a call
    creates), which pages without annotations still follow.
    """
    if param.direction:
        return param.direction
    return "out" if _RECEIVES.search(param.doc) or _NEW_HANDLE.match(param.name) else None


def optional(param: Param) -> bool:
    """The page's flag; without an annotation, a doc that starts with "Optional" marks it."""
    return param.optional or (param.direction is None and bool(_OPTIONAL.match(param.doc)))


def handle_params(spec: Spec, catalog: Catalog) -> list[Param]:
    """Parameters that take a handle (by value or by pointer) the caller passes in."""
    found = []
    for param in spec.signature.params:
        if direction(param) in ("out", "inout"):  # an output slot, not a handle the caller passes in
            continue
        kind = catalog.handle(param)
        if (kind and kind.released) or _HANDLE_TYPE.match(normalise_type(param.type)):
            found.append(param)
    return found


def _returned_codes(spec: Spec) -> list[ReturnCode]:
    """Codes the function returns or reports on completion; a last error is no value a call returns."""
    return [c for c in spec.returns.codes if c.phase != "last-error"]


def _invalid_handle_code(spec: Spec) -> ReturnCode | None:
    return next((c for c in _returned_codes(spec) if c.name and c.name.endswith("_INVALID_HANDLE")), None)


def _clause_ids(*codes: ReturnCode | None) -> list[str]:
    return [c.clause for c in codes if c is not None and c.clause]


def _valid_args(spec: Spec, catalog: Catalog, skip: set[str] = frozenset(), strict: bool = False
                ) -> dict[str, Arg] | None:
    """Valid arguments from fixtures for every parameter not in `skip`.

    Optional parameters are left NULL; other outputs get a buffer of their size. With
    `strict`, a required input no fixture can build makes the answer None
    (the rule derives nothing); otherwise it is left NULL.
    """
    args: dict[str, Arg] = {}
    for param in spec.signature.params:
        if param.name in skip:
            continue
        handle = catalog.handle(param)
        source = catalog.value(spec.api, param)
        if handle and direction(param) != "out":
            args[param.name] = handle.live_arg()
        elif source:
            args[param.name] = source.arg()
        elif optional(param):  # an optional output too: NULL asks for nothing, the simplest valid call
            continue
        elif direction(param) == "out" and is_pointer(param.type):
            args[param.name] = BufferArg(buffer=_out_size(param))
        elif strict:
            return None
    return args


def _out_size(param: Param) -> int:
    """An out-parameter's buffer: the structure it points to, as the headers lay it out, else room for any
    scalar (and for the first characters of a string)."""
    target = pointee(param.type)
    return target.size if target else 8


def _mode(spec: Spec) -> str | None:
    return "kernel" if spec.mode == "kernel" else None


def export(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """A user-mode function with a DLL (`dll:`, from the page's requirements) is exported by it."""
    if spec.mode == "user" and spec.dll:
        yield Case(id="export", rule="export", covers=[])


def kernel_mode(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """A kernel-mode function (`mode: kernel`) resolves in its kernel module; only kernel-capable adapters run it."""
    if spec.mode == "kernel":
        yield Case(id="kernel-export", rule="kernel-mode", mode="kernel", covers=[])


def _fails_by_value(spec: Spec) -> bool:
    """The Win32 error model: a failure value of the return (FALSE, NULL, ...) or the error code itself."""
    return spec.returns.failure.signal in ("value", "error-code") and bool(spec.returns.failure.values)


def _failure_clauses(spec: Spec, *extra: ReturnCode | None) -> list[str]:
    """The clauses that say how the call fails: its failure values', then its GetLastError advice, then `extra`."""
    failure = spec.returns.failure
    ids = [v.clause for v in failure.values if v.clause] + ([failure.last_error_clause] if failure.last_error
                                                             and failure.last_error_clause else [])
    ids += _clause_ids(*extra)
    return list(dict.fromkeys(ids))


def _last_error_named(spec: Spec, suffix: str) -> ReturnCode | None:
    return next((c for c in spec.returns.codes if c.phase == "last-error" and not c.success and c.name
                 and c.name.endswith(suffix)), None)


_NOT_VALID_HANDLE = re.compile(r"handle[^.]*not\s+valid|invalid\s+handle|not\s+a\s+valid[^.]*handle",
                               re.I)


def invalid_handle(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """A documented `*_INVALID_HANDLE` code: NULL, zeroed, garbage and released handles must give it, not a crash.

    A function that fails by a failure value (the Win32 error model) must fail on them instead: its
    failure value, with the reason in the last error (judged against ERROR_INVALID_HANDLE when the page
    names it). Conformance when the page names that last error or says a handle that is not valid
    fails; robustness otherwise.
    """
    code = _invalid_handle_code(spec)
    if code is None:
        if _fails_by_value(spec):
            yield from _invalid_handle_fails(spec, catalog)
        return
    for param in handle_params(spec, catalog):
        kind = catalog.handle(param)
        if kind is not None and not kind.checked:
            continue
        others = _valid_args(spec, catalog, skip={param.name}) or {}
        # NULL in an optional handle parameter has a meaning of its own (e.g. "first call").
        variants: list[tuple[str, Arg]] = [] if optional(param) else [("null", HandleArg(handle="null"))]
        if is_pointer(param.type):
            variants.append(("zeroed", HandleArg(handle="zeroed")))
        variants.append(("garbage", HandleArg(handle="garbage")))
        # A release function whose docs say what releasing twice gives is the lifecycle rule's to test.
        said_twice = spec.api in (kind.release if kind else []) and any(_RELEASED.search(c.text) for c in spec.clauses)
        if kind and kind.released and not said_twice:
            variants.append(("released", FixtureArg(fixture=kind.released)))
        for label, arg in variants:
            expect = (Expect(completion=code.name) if code.phase == "completion" else Expect(returns=code.name))
            yield Case(id=f"invalid-handle-{_slug(param.name)}-{label}", rule="invalid-handle",
                       covers=_clause_ids(code), mode=_mode(spec), given={**others, param.name: arg}, expect=expect)


def _invalid_handle_fails(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    named = _last_error_named(spec, "_INVALID_HANDLE")
    said = [c.id for c in spec.clauses if _NOT_VALID_HANDLE.search(c.text)]
    level = "conformance" if named or said else "robustness"
    for param in handle_params(spec, catalog):
        kind = catalog.handle(param)
        if kind is None or not kind.checked:  # a handle the kit cannot make, or one nothing checks
            continue
        others = _valid_args(spec, catalog, skip={param.name}) or {}
        variants: list[tuple[str, Arg]] = [] if optional(param) else [("null", HandleArg(handle="null"))]
        variants.append(("garbage", HandleArg(handle="garbage")))
        if kind.released and spec.api not in kind.release:  # releasing twice is the lifecycle rule's
            variants.append(("released", FixtureArg(fixture=kind.released)))
        for label, arg in variants:
            yield Case(id=f"invalid-handle-{_slug(param.name)}-{label}", rule="invalid-handle", level=level,
                       covers=_failure_clauses(spec, named) + said, mode=_mode(spec),
                       given={**others, param.name: arg}, expect=Expect(success=False))


def null_pointer(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """A required pointer parameter given NULL gives a documented failure code, not a crash.

    Conformance when a clause says what NULL in that parameter does;
    robustness when the docs are silent.
    """
    by_value = _fails_by_value(spec)
    if not by_value and (spec.returns.shape != "status" or not any(not c.success for c in _returned_codes(spec))):
        return
    handled = ({p.name for p in handle_params(spec, catalog)} if _invalid_handle_code(spec) or by_value
               else set())
    for param in spec.signature.params:
        # Without the page's annotation NULL may well be allowed: no case rather than a guess.
        if param.direction is None or optional(param) or param.name in handled or not is_pointer(param.type):
            continue
        if _MAY_BE_NULL.search(param.doc or ""):
            continue  # "This pointer can be NULL": a call with NULL there is a documented one, not a misuse
        if _CALLBACK_TYPE.search(normalise_type(param.type)):
            continue  # a routine the function runs later (a thread's start): NULL crashes then, in no call to judge
        others = _valid_args(spec, catalog, skip={param.name}) or {}
        size = _size_of(spec, param)
        if size is not None:  # NULL with a length of zero is a call that asks for nothing: give it a length
            others[size.name] = ValueArg(value=NULL_CASE_LENGTH)
        said = [c.id for c in spec.clauses if param.name in c.text and re.search(r"\bnull\b", c.text, re.I)
                and (not by_value or _NULL_FAILS.search(c.text))]
        # Where the docs say nothing of NULL, any answer is the implementation's to give: the case asks only
        # that it not fail hard (no crash, no hang, no code or last error the page does not list).
        yield Case(id=f"null-pointer-{_slug(param.name)}", rule="null-pointer", covers=said,
                   level="conformance" if said else "robustness", mode=_mode(spec),
                   given={**others, param.name: ValueArg(value=0, name="NULL")},
                   expect=Expect(success=False) if said else Expect())


#: The length a null-pointer case gives the pointer's size parameter.
NULL_CASE_LENGTH = 16
#: Names that count a buffer's bytes or characters (cbData, cchWideChar, nNumberOfBytesToRead, nSize, nBufferLength).
_LENGTH_NAME = re.compile(r"^(?:cb|cch|nNumberOfBytes|nNumberOfChars|nSize$|nBufferLength$|dwSize$|nCount$)")
_LENGTH_WORDS = re.compile(r"\b(?:size|length|number\s+of\s+(?:bytes|characters|TCHARs|WCHARs|elements))\b", re.I)
_BUFFER_TYPE = re.compile(r"^(?:LP|P)?(?:C)?(?:VOID|BYTE|STR|WSTR|TSTR|CH|WCH|UCHAR|CHAR|WCHAR)\*?$|^(?:void|BYTE|char|"
                          r"WCHAR|CHAR)\*$", re.I)


def _size_of(spec: Spec, pointer: Param) -> Param | None:
    """The by-value parameter that gives `pointer`'s buffer length: its doc names the pointer and speaks of a
    size or length ("The size of the information pointed to by the lpData parameter"), or, for the call's
    only data buffer, its name counts bytes or characters (nNumberOfBytesToRead, cchWideChar)."""
    integers = [p for p in spec.signature.params if p is not pointer and not is_pointer(p.type)
                and direction(p) in ("in", None)]
    named = [p for p in integers if re.search(rf"\b{re.escape(pointer.name)}\b", p.doc or "")
             and _LENGTH_WORDS.search(p.doc or "")]
    if named:
        return named[0]
    buffers = [p for p in spec.signature.params if _BUFFER_TYPE.match(normalise_type(p.type))]
    if buffers != [pointer]:
        return None
    return next((p for p in integers if _LENGTH_NAME.match(p.name)), None)


def success(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """With valid arguments from fixtures, the call gives a documented success code (and completes with one)."""
    if spec.returns.shape != "status":
        return
    args = _valid_args(spec, catalog, strict=True)
    if args is None or not any(isinstance(a, FixtureArg) for a in args.values()):
        return
    call_codes = [c for c in spec.returns.codes if c.success and c.phase == "call"]
    done = [c for c in spec.returns.codes if c.success and c.phase == "completion" and c.name
            and not c.name.endswith("_PENDING")]
    expect = Expect(success=True, completion=done[0].name if done else None)
    yield Case(id="success", rule="success", covers=_clause_ids(*call_codes, *done), mode=_mode(spec),
               given=args, expect=expect)


def _releases(spec: Spec, catalog: Catalog) -> list[tuple[Param, HandleKind]]:
    found = []
    for param in spec.signature.params:
        kind = catalog.handle(param)
        if kind and spec.api in kind.release and kind.released and kind.checked:
            found.append((param, kind))
    return found


# For a function that fails by a failure value, NULL in a parameter is a documented failure only where a clause
# says so ("should not be NULL", "cannot be NULL", "fails if ... NULL"); "lpBuffer can be NULL when nSize is 0"
# documents a call that succeeds.
_NULL_FAILS = re.compile(r"\b(?:must|should|can|may)\s*not\s+be\s+NULL\b|\bcannot\s+be\s+NULL\b|\bfails?\b|\berror\b"
                         r"|\bnot\s+(?:a\s+)?valid\b", re.I)
_MAY_BE_NULL = re.compile(r"\b(?:can|may)\s+be\s+NULL\b", re.I)
_CALLBACK_TYPE = re.compile(r"(?:ROUTINE|CALLBACK|PROC)\*?$|^(?:LP|P)?FN|^PTP_", re.I)
_TWICE = re.compile(r"\b(?:close|free|release|delete)s?\s+(?:a|the)\s+handle\s+twice\b", re.I)


def lifecycle(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """"Already been deleted" gives a double-release case; "no longer valid" a use-after-release case.

    A release function that fails by a failure value (CloseHandle) must fail when the handle was
    released already ("if you close a handle twice"; conformance where the page names ERROR_INVALID_HANDLE
    or says so, robustness otherwise).
    """
    if _fails_by_value(spec):
        named = _last_error_named(spec, "_INVALID_HANDLE")
        said = [c.id for c in spec.clauses if _TWICE.search(c.text) or _NOT_VALID_HANDLE.search(c.text)]
        for param, kind in _releases(spec, catalog):
            others = _valid_args(spec, catalog, skip={param.name}) or {}
            level = "conformance" if named or said else "robustness"
            yield Case(id=f"release-twice-{_slug(param.name)}", rule="lifecycle", mode=_mode(spec), level=level,
                       covers=_failure_clauses(spec, named) + said,
                       given={**others, param.name: FixtureArg(fixture=kind.released)}, expect=Expect(success=False))
            if kind.use:  # a handle is no longer valid once released: the function that uses it fails
                yield Case(id=f"use-after-release-{_slug(param.name)}", rule="lifecycle", mode=_mode(spec),
                           level=level, covers=said, call=kind.use.call,
                           given={**kind.use.args, kind.use.param: FixtureArg(fixture=kind.released)},
                           expect=Expect(success=False))
        return
    released_clauses = [c for c in spec.clauses if _RELEASED.search(c.text)]
    invalid_clauses = [c for c in spec.clauses if _NO_LONGER_VALID.search(c.text)]
    for param, kind in _releases(spec, catalog):
        others = _valid_args(spec, catalog, skip={param.name}) or {}
        if released_clauses:
            said = _code_named_in(spec, released_clauses[0])
            code = said or _invalid_handle_code(spec)
            expect = Expect(returns=code.name) if code else Expect(success=False)
            if code is not None and code.phase == "completion":
                expect = Expect(completion=code.name)
            yield Case(id=f"release-twice-{_slug(param.name)}", rule="lifecycle", mode=_mode(spec),
                       covers=[released_clauses[0].id] + ([code.clause] if code and code.clause and
                                                          code.clause != released_clauses[0].id else []),
                       given={**others, param.name: FixtureArg(fixture=kind.released)}, expect=expect)
        if invalid_clauses and kind.use:
            yield Case(id=f"use-after-release-{_slug(param.name)}", rule="lifecycle", mode=_mode(spec),
                       covers=[c.id for c in invalid_clauses], call=kind.use.call,
                       given={**kind.use.args, kind.use.param: FixtureArg(fixture=kind.released)},
                       expect=Expect(success=False))


def _code_named_in(spec: Spec, clause: Clause) -> ReturnCode | None:
    return next((c for c in _returned_codes(spec) if c.name and re.search(rf"\b{re.escape(c.name)}\b", clause.text)),
                None)


# A parameter that names something the function looks up, by its Windows name, with a name nothing has.
_LOOKED_UP = {
    "lpFileName": "specproof-no-such-file-5c1e.txt", "lpPathName": "specproof-no-such-directory-5c1e",
    "lpLibFileName": "specproof-no-such-module-5c1e.dll", "lpModuleName": "specproof-no-such-module-5c1e.dll",
    "lpProcName": "SpecproofNoSuchProcedure5c1e", "lpSubKey": "Software\\specproof-no-such-key-5c1e",
    "lpName": "specproof-no-such-name-5c1e",
}
# Functions that make what they are given the name of (or only compute with it): nothing is looked up.
_MAKES = re.compile(r"^(?:Create|RegCreate|SetEnvironment|GetTempFileName|GetFullPathName)")
_NOT_FOUND = re.compile(r"\bnot\s+(?:be\s+)?found\b|\bdoes\s+not\s+exist\b|\bno\s+(?:matching|such)\b", re.I)


def missing_name(spec: Spec, catalog: Catalog) -> Iterable[Case]:
    """A name that does not exist (a file, directory, module, procedure, registry key or environment variable)
    makes the lookup fail, not crash.

    From a parameter that names what the function looks up (lpFileName, lpPathName, lpLibFileName,
    lpModuleName, lpProcName, lpSubKey, lpName) of a function that fails by a failure value or returns
    the error code. Conformance when the page names a *_NOT_FOUND last error or says what a name that is
    not found gives; robustness otherwise.
    """
    if not _fails_by_value(spec) or _MAKES.match(spec.api):
        return
    named = next((c for c in spec.returns.codes if c.name and c.name.endswith("_NOT_FOUND") and not c.success),
                 None)
    said = [c.id for c in spec.clauses if _NOT_FOUND.search(c.text)]
    for param in spec.signature.params:
        text = _LOOKED_UP.get(param.name)
        if text is None or direction(param) in ("out", "inout"):
            continue
        if param.name == "lpName" and not re.search(r"environment|existing|open", param.doc + spec.summary, re.I):
            continue  # lpName of a function that makes an object
        others = _valid_args(spec, catalog, skip={param.name}) or {}
        for other in spec.signature.params:
            if normalise_type(other.type) == "HKEY" and other.name != param.name:
                others[other.name] = ConstantArg(constant="HKEY_CURRENT_USER", pointer=True)
        ansi = normalise_type(param.type) in ("LPCSTR", "LPSTR", "PCSTR", "char*", "constchar*")
        yield Case(id=f"missing-name-{_slug(param.name)}", rule="missing-name", mode=_mode(spec),
                   level="conformance" if named or said else "robustness",
                   covers=list(dict.fromkeys(_failure_clauses(spec, named) + said[:3])),
                   given={**others, param.name: StringArg(string=text, ansi=ansi)}, expect=Expect(success=False))


RULES: tuple[Rule, ...] = (export, kernel_mode, success, invalid_handle, null_pointer, lifecycle, missing_name)


def _signature(case: Case) -> tuple:
    return (case.call, case.mode if case.mode == "kernel" else None, tuple(sorted((k, v.model_dump_json()) for k, v in case.given.items())),
            case.expect.model_dump_json())


def rules_skipped(spec: Spec) -> str | None:
    """Why no rule derives cases for the spec, or None when the rules apply.

    A COM or C++ method is called through an object (an interface pointer,
    a class instance) that the kit cannot make yet, and is not an export a
    module names: its spec is kept, and its curated cases are still run.
    """
    if spec.kind == "method":
        return ("a method is called through an object (an interface pointer or a C++ instance) "
                "that the kit cannot make yet")
    return None


def derive(spec: Spec, catalog: Catalog) -> list[Case]:
    """The spec's curated cases, then every rule's, minus rule cases a curated one already makes."""
    cases = [c.model_copy(update={"mode": "kernel"}) if spec.mode == "kernel" and c.mode is None else c
             for c in spec.cases]
    if rules_skipped(spec):
        return cases
    seen = {_signature(c) for c in cases}
    ids = {c.id for c in cases}
    for rule in RULES:
        for case in rule(spec, catalog):
            if _signature(case) in seen:
                continue
            if case.id in ids:
                case = case.model_copy(update={"id": f"{case.id}-{case.rule}"})
            seen.add(_signature(case))
            ids.add(case.id)
            if spec.mode == "kernel" and case.mode is None:
                case = case.model_copy(update={"mode": "kernel"})
            cases.append(case)
    return cases
