"""How a function says it failed, read from the sentences of its page (the Win32 error model).

Most of kernel32 and advapi32 do not return a status code: a return value
means failure (FALSE, NULL, INVALID_HANDLE_VALUE, WAIT_FAILED,
INVALID_FILE_SIZE, `(DWORD)-1`, zero for a length) and the reason is in the
thread's last error; winreg returns the error code itself. Every template
generation of the docs says it in a handful of sentence shapes:

- "If the function fails, the return value is zero." (and "... is NULL.",
  "... is INVALID_HANDLE_VALUE.", "... is zero (FALSE).", "... is (DWORD) -1.")
- "If the function fails ..., the function fails and returns X", "X: The
  function has failed." (a table row)
- "If the function fails, the return value is a nonzero error code defined
  in Winerror.h." (the return value is the error code)
- "To get extended error information, call GetLastError." (and "use the
  GetLastError function", "the application can call GetLastError"); "There
  is no extended error information for this function; do not call
  GetLastError.", "An application cannot call GetLastError ...", "If the
  function fails, it does not call SetLastError." say the opposite.

A failure sentence whose value is none of those shapes is not guessed: it
is returned as a problem for the spec editor, and the spec's failure
signal stays `unknown`. Which codes the page names for the last error is
decided sentence by sentence in spec_builder (`last_error_names`), with the
other codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..spec.model import Clause, Failure, FailureValue, ReturnCode

__all__ = ["FailureReading", "last_error_names", "last_error_on_success", "mentions_last_error", "read_failure"]

# "If the function fails[, ...], the return value is X" / "the function fails and returns X"
_FAILS_RETURNS = re.compile(
    r"\b(?:if|when)\b[^.]*?\bfails?\b[^.]*?\breturn\s+value\s+(?:is|will\s+be)\s+(?P<what>.+)$"
    r"|\bfunction\s+fails\b[^.]*?\b(?:and\s+)?returns\s+(?P<what2>.+)$"
    # "If the function succeeds, the return value is the count; otherwise, it is (DWORD) -1."
    r"|\bif\s+the\s+function\s+succeeds\b[^.]*?;\s*otherwise,?\s+(?:it|the\s+return\s+value)\s+is\s+(?P<what3>.+)$"
    # "The function returns 0 if it does not succeed."
    r"|\breturns\s+(?P<what4>[^.,;]+?)\s+if\s+(?:it|the\s+function)\s+(?:does\s+not\s+succeed|fails)\b",
    re.I,
)
# "WAIT_FAILED (DWORD)0xFFFFFFFF: The function has failed." (a table row as a clause: code, then description)
# a row of a return-value table that says it means failure: "FILE_TYPE_UNKNOWN 0x0000: Either the type of the
# specified file is unknown, or the function failed.", "WAIT_FAILED: The function has failed."
_ROW_FAILED = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]+)\b[^:]*:[^.]*?\b(?:the\s+)?function\s+(?:has\s+)?failed\b",
                         re.I)
_ERROR_CODE = re.compile(r"\b(?:nonzero|non-zero|system)?\s*error\s+code\b|\bthe\s+error\s+code\b", re.I)
_ZERO = re.compile(r"^(?:zero|0)\b(?:\s*\((?:zero|0|false)\))?|^false\b", re.I)
_NULL = re.compile(r"^null\b", re.I)
_MINUS_ONE = re.compile(r"^\(\s*(?P<type>[A-Z_][A-Za-z0-9_ ]*?)\s*\)\s*-\s*1\b")
_CONSTANT = re.compile(r"^(?P<name>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")
_GET_LAST_ERROR = re.compile(r"\bGetLastError\b|\blast[- ]error\b", re.I)
_CALL_IT = re.compile(r"\b(?:call|use|see)\s+(?:the\s+)?GetLastError\b|\bcan\s+call\s+GetLastError\b", re.I)
# The page says the function gives no reason in the last error.
_DO_NOT = re.compile(
    r"\b(?:cannot|can\s+not|do\s+not|should\s+not)\s+call\s+GetLastError\b|\bno\s+extended\s+error\s+information\b"
    r"|\bdoes\s+not\s+(?:call\s+SetLastError|set\s+the\s+(?:thread's\s+)?last[- ]error)",
    re.I,
)
# "You do not need to call GetLastError" (on success): advice for one case, not the function's rule.
_NEED_NOT = re.compile(r"\b(?:do\s+not|does\s+not|need\s+not)\s+need\s+to\s+call\s+GetLastError\b"
                       r"|\bneed\s+not\s+call\s+GetLastError\b", re.I)
_FAIL_SUBJECT = re.compile(r"\b(?:if|when)\s+(?:the\s+)?(?:function|call)\s+fails\b|\bdoes\s+not\s+succeed\b", re.I)
#: Bits of the value a cast in `(TYPE)-1` keeps.
_WIDTH_OF_TYPE = {"DWORD": 32, "UINT": 32, "ULONG": 32, "LONG": 32, "INT": 32, "BOOL": 32, "WORD": 16,
                  "SIZE_T": 64, "ULONG_PTR": 64, "DWORD_PTR": 64, "LONG_PTR": 64, "UINT_PTR": 64, "HANDLE": 64,
                  "LPVOID": 64, "PVOID": 64, "DWORD64": 64, "ULONGLONG": 64}
# A last error set when the call did not fail: "... upon success", "... is not a failure", "the object existed
# before the function call ... GetLastError returns ERROR_ALREADY_EXISTS", "If GetLastError returns ERROR_SUCCESS,
# then the function has succeeded".
_ON_SUCCESS = re.compile(r"\bupon\s+success\b|\bnot\s+a\s+failure\b|\bsucce(?:ed|eds|eded)\b|\bexist(?:s|ed)\s+before\b"
                         r"|\bworked\s+properly\b", re.I)
_NAME_AFTER = re.compile(r"\b(?:other\s+than|not)\s+$", re.I)


@dataclass
class FailureReading:
    """What the sentences say about failure, and what the reader could not decide."""

    failure: Failure = field(default_factory=Failure)
    problems: list[str] = field(default_factory=list)


def mentions_last_error(sentence: str) -> bool:
    return bool(_GET_LAST_ERROR.search(sentence))


def last_error_on_success(sentence: str) -> bool:
    """Whether a sentence naming a last error speaks of a call that did not fail (so it is no failure reason)."""
    return bool(_ON_SUCCESS.search(sentence)) and not re.search(r"\bfails?\b", sentence, re.I)


def last_error_names(sentence: str, names: list[str]) -> tuple[list[str], list[str]]:
    """(names the sentence says are the return value, names it says are the last error).

    A name after the sentence's mention of GetLastError or the last error is
    a last error ("... returns FALSE, and GetLastError returns
    ERROR_INVALID_HANDLE"); one before it is what the call returns ("the
    return value is INVALID_FILE_SIZE and GetLastError will return ...").
    A name after "other than" is none of them ("a value other than NO_ERROR").
    """
    mention = _GET_LAST_ERROR.search(sentence)
    if not mention:
        return names, []
    returned, last = [], []
    for name in names:
        at = sentence.find(name)
        if at < 0:
            returned.append(name)
        elif _NAME_AFTER.search(sentence[:at]):
            continue
        elif at > mention.start():
            last.append(name)
        else:
            returned.append(name)
    return returned, last


#: Return types whose value is a status code with its own severity (SEC_I_CONTINUE_NEEDED is nonzero and no
#: failure): the codes decide, never "nonzero means failure".
STATUS_CODE_TYPES = frozenset({"HRESULT", "NTSTATUS", "SECURITY_STATUS", "SCODE", "RPC_STATUS"})


def read_failure(clauses: list[Clause], return_type: str | None, shape: str, codes: list[ReturnCode]) -> FailureReading:
    """The failure signal, failure values and GetLastError advice of the returns (and remarks) sentences.

    Only the returns section decides failure values; GetLastError advice is
    taken from both sections, the returns section first. Values named by a
    constant are left for the builder to resolve through the SDK headers. A
    function returning a status code type (HRESULT, NTSTATUS,
    SECURITY_STATUS) fails by its codes: its signal is `status`, whatever
    its sentences say of "a nonzero error code".
    """
    reading = FailureReading()
    base = re.sub(r"\b(?:const|CONST)\b", "", return_type or "").strip()
    if base in STATUS_CODE_TYPES:
        reading.failure.signal = "status"
        _last_error_advice(reading.failure, clauses, codes)
        return reading
    failure = reading.failure
    undecided: list[Clause] = []
    error_code = False
    for clause in clauses:
        text = clause.text.strip()
        if clause.section == "returns":
            row = _ROW_FAILED.match(text)
            match = _FAILS_RETURNS.search(text)
            if row:
                _add(failure, FailureValue(name=row.group("name"), clause=clause.id))
            elif match and not (match.group("what2") and mentions_last_error(text[:match.start("what2")])):
                # ("... the GetLastError function returns ERROR_X" names a last error, not a return value)
                what = next(g for g in match.group("what", "what2", "what3", "what4") if g).strip()
                value = _value(what, return_type, clause.id)
                if value == "error-code":
                    error_code = True
                    _add(failure, FailureValue(nonzero=True, clause=clause.id))
                elif value is not None:
                    _add(failure, value)
                else:
                    undecided.append(clause)
    _last_error_advice(failure, clauses, codes)
    if shape == "void":
        failure.signal = "none"
        for value in failure.values:  # the docs contradict themselves: worth the editor's (and a reader's) eye
            reading.problems.append(f"failure: {value.clause} says a failed call returns "
                                    f"{value.name or 'a nonzero error code'}, but the function returns void")
        failure.values = []
    elif error_code:
        failure.signal = "error-code"
    elif failure.values:
        failure.signal = "value"
    elif shape == "status" and any(c.phase == "call" and (c.name or c.family) for c in codes):
        failure.signal = "status"
    for clause in undecided:
        reading.problems.append(f"failure: {clause.id} says what a failed call returns, but not as a value the "
                                f"reader knows (zero, NULL, a constant, (TYPE)-1, an error code): "
                                f"{clause.text.strip()[:160]!r}; add `returns.failure.values` by hand")
    if failure.signal == "unknown" and not undecided and shape not in ("status", "void") and any(
            c.section == "returns" and _FAIL_SUBJECT.search(c.text) for c in clauses):
        reading.problems.append("failure: the returns section speaks of failure, but no sentence says which "
                                "value a failed call returns; set `returns.failure` by hand")
    return reading


def _last_error_advice(failure: Failure, clauses: list[Clause], codes: list[ReturnCode]) -> None:
    """Whether the page says to call GetLastError. "Does not set the last error" is the function's own rule and
    wins; then "call GetLastError"; a page that names last-error codes ("GetLastError returns
    ERROR_ALREADY_EXISTS") says it sets one. "You do not need to call GetLastError" (when the call
    succeeded) is advice for one case and says neither."""
    said_not = said_call = None
    for clause in clauses:
        if _NEED_NOT.search(clause.text):
            continue
        if said_not is None and _DO_NOT.search(clause.text):
            said_not = clause
        elif said_call is None and _CALL_IT.search(clause.text):
            said_call = clause
    named = next((c for c in codes if c.phase == "last-error" and c.clause), None)
    if said_not is not None:
        failure.last_error, failure.last_error_clause = False, said_not.id
    elif said_call is not None:
        failure.last_error, failure.last_error_clause = True, said_call.id
    elif named is not None:
        failure.last_error, failure.last_error_clause = True, named.clause


def _add(failure: Failure, value: FailureValue) -> None:
    key = (value.name, value.nonzero)
    if not any((v.name, v.nonzero) == key for v in failure.values):
        failure.values.append(value)


def _value(what: str, return_type: str | None, clause: str) -> FailureValue | str | None:
    """A failure value from the words after "the return value is"; "error-code" for an error code."""
    what = what.strip().strip("*").strip()
    if _ERROR_CODE.search(what) and not _CONSTANT.match(what):
        return "error-code"
    if _ZERO.match(what):
        base = (return_type or "").replace("const", "").strip().upper()
        name = "FALSE" if base in ("BOOL", "WINBOOL", "BOOLEAN") or re.search(r"\bfalse\b", what, re.I) else "0"
        return FailureValue(name=name, value=0, clause=clause)
    if _NULL.match(what):
        return FailureValue(name="NULL", value=0, clause=clause)
    minus = _MINUS_ONE.match(what)
    if minus:
        cast = minus.group("type").strip()
        width = _WIDTH_OF_TYPE.get(cast.upper().replace(" ", ""), 64)
        return FailureValue(name=f"({cast})-1", value=(1 << width) - 1, clause=clause)
    constant = _CONSTANT.match(what)
    if constant:
        return FailureValue(name=constant.group("name"), clause=clause)
    return None

