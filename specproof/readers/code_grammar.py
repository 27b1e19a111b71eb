"""Return codes in every shape the docs write them.

A return-table row's first cell holds the code; the shapes seen across the
docs repositories are:

- a name: `SEC_E_INVALID_HANDLE`
- a name with its value on the next line: `ERROR_SUCCESS` / `0`, `0x80090301L`
- `HRESULT_FROM_WIN32(ERROR_X)`
- a wildcard family with a range: `FWP_E_* error code` / `0x80320001—0x80320039`
  (any dash, or "to"; the star may be escaped or bracketed: `STATUS_[*ERROR*]`)
- a prefixed family: `ERR_CPSUI-prefixed error code`
- an open family: `Other NTSTATUS codes`, `Any other value`
- a condition instead of a code: `Nonzero`, `< Zero`, `TRUE`

Prose gives codes too ("the return value is **SEC_E_OK**"); those are kept
and marked as coming from prose.
"""

from __future__ import annotations

import re

from ..spec.model import ReturnCode

# -- the grammar of a code and of its value ------------------------------------------------
# Pattern text, written once: this module's patterns are compiled from it, and so are those of the
# learn-text reader, which has to find codes at the start of table rows that lost their cell borders.

NUMBER = r"(?:0[xX][0-9A-Fa-f]+|-?\d+)[uUlL]*"
"""A code's value as a C literal: `0x80090301L`, `0`, `-1`."""

RANGE_DASH = r"\s*(?:[-\u2010-\u2015\u2212]|\bto\b|\bthrough\b)\s*"
"""What stands between the two ends of a range of values: any dash, `to` or `through`."""

VALUE = rf"{NUMBER}(?:{RANGE_DASH}{NUMBER}|\s+\({NUMBER}\))?"
"""A value as a table writes it: one number, a range, or a number with its other spelling (`-1 (0xFFFFFFFF)`)."""

WRAPPER = r"HRESULT_FROM_(?:WIN32|NT|SETUPAPI)"
"""The macros that turn another code into an HRESULT: `HRESULT_FROM_WIN32(ERROR_X)`."""

FAMILY_PREFIX = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_?"
"""What the codes of a wildcard family share: `FWP_E_` of `FWP_E_*`, `STATUS` of `STATUS_[*ERROR*]`."""

CODE_LIKE_NAME = r"[A-Z][A-Z0-9]*_[A-Z0-9_]+"
"""A name that reads as a code by its shape alone (upper case, an underscore), as a sentence's subject:
"SEC_E_OK is returned", "ERROR_MORE_DATA if the buffer is too small"."""

ROW_CODE = (
    rf"(?:{WRAPPER}\(\s*[A-Z][A-Z0-9_]*\s*\)"
    rf"|{FAMILY_PREFIX}(?:\\?\*|\[\\?\*[^\]]*\])"
    r"(?:\s+(?:error|status|success|warning|information)\s+(?:codes?|values?)|\s+codes?|\s+values?)?"
    r"|[A-Z][A-Z0-9_]*-prefixed(?:\s+(?:error\s+)?codes?)?|[A-Z][A-Z0-9]*_\[[A-Z_*]+\]"
    r"|(?:Other|Any other|All other)\s+(?:[\w/-]+\s+){0,4}?(?:codes?|values?|errors?)\b"
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
    r"|TRUE|FALSE|NULL|NOERROR|Nonzero|Non-zero|Zero|[<>]=?\s*(?:[Zz]ero|0))"
)
"""The code a return-table row starts with, in each shape the module docstring lists (a wrapped code
with no space before its parenthesis, as table cells write it)."""

CODE_NAME = re.compile(
    r"\b(?:S_OK|S_FALSE|NO_ERROR|NOERROR|E_[A-Z][A-Z0-9_]+|(?:ERROR|STATUS|RPC_[SXE]|WSA[A-Z]*|NTE|CO_E)_[A-Z0-9_]+"
    r"|[A-Z][A-Z0-9]*_[EISW]_[A-Z0-9_]+|[A-Z][A-Z0-9]*_(?:OK|SUCCESS))\b"
)
"""A name that is a code wherever it stands, by the prefixes and infixes (`_E_`, `_S_`) codes use."""

_WRAPPED = re.compile(rf"\b({WRAPPER})\s*\(\s*([A-Z][A-Z0-9_]*)\s*\)")
_RANGE = re.compile(rf"({NUMBER}){RANGE_DASH}({NUMBER})")
_LONE_VALUE = re.compile(rf"^\(?({NUMBER})\)?$")
_WILDCARD = re.compile(rf"\b({FAMILY_PREFIX})\s*(?:\\?\*|\[\\?\*?[A-Za-z]*\\?\*?\])")
_PREFIXED = re.compile(r"\b([A-Z][A-Z0-9_]+)-prefixed\b")
_OPEN = re.compile(r"^(?:other|any other|all other)\s+(.+?)(?:\s+(?:error\s+)?(?:codes?|values?|errors?|status(?:es)?))?\.?$", re.I)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONDITION = re.compile(
    r"^(?:[<>]=?\s*)?(?:zero|nonzero|non-zero|true|false|null|non-null|a handle|a pointer|a value|0|1|-1)\b.*$", re.I
)

# macros that test or build codes; a sentence naming one speaks of codes, it does not return it
STATUS_MACROS = frozenset({
    "NT_SUCCESS", "NT_ERROR", "NT_WARNING", "NT_INFORMATION", "SUCCEEDED", "FAILED", "IS_ERROR",
    "HRESULT_CODE", "HRESULT_FACILITY", "HRESULT_SEVERITY", "SCODE_CODE", "SCODE_FACILITY", "SCODE_SEVERITY",
    "MAKE_HRESULT", "MAKE_SCODE", "HRESULT_FROM_WIN32", "HRESULT_FROM_NT", "NDIS_STATUS_SUCCESS_MACRO",
    "WIN32_FROM_HRESULT", "RPC_S_OK_MACRO", "SEC_SUCCESS",
})
_MACRO_AFTER = re.compile(r"\((?=\s*[A-Za-z_])|\**\s+macros?\b", re.I)
_SUCCESS_NAME = re.compile(r"_[IS]_|_(?:OK|SUCCESS)$")
_FAILURE_NAME = re.compile(r"_[EW]_|^E_|^ERROR_|^STATUS_")
_UPPER_WORD = re.compile(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b")
_CODE_TITLE = re.compile(r"return|code|status|result|value|error|constant")
SUCCESS_NAMES = frozenset({"S_OK", "S_FALSE", "NO_ERROR", "NOERROR", "ERROR_SUCCESS", "STATUS_SUCCESS", "SEC_E_OK"})
_SUCCESS_WORDS = re.compile(r"\b(succe(?:ss|eded|eds|ssful|ssfully)|completed successfully)\b", re.I)
_FAILURE_WORDS = re.compile(r"\b(fail(?:s|ed|ure)?|error|not valid|invalid|unsuccessful)\b", re.I)


def parse_number(text: str) -> int | None:
    """A C integer literal (`0x80090301L`, `0`, `-1`) as an unsigned 32-bit value."""
    cleaned = text.strip().rstrip("uUlL")
    try:
        value = int(cleaned, 16) if cleaned.lower().startswith("0x") else int(cleaned)
    except ValueError:
        return None
    return value & 0xFFFFFFFF if -(1 << 31) <= value < (1 << 32) else value


def success_of(name: str | None, value: int | None, description: str) -> bool:
    """Whether a documented code reports success.

    Known success names win; then the code's own severity where it is a
    status code (HRESULT, NTSTATUS and SECURITY_STATUS use the sign bit for
    failure); then the words of its description.
    """
    if name in SUCCESS_NAMES:
        return True
    if name and _SUCCESS_NAME.search(name):
        return True
    if name and _FAILURE_NAME.search(name):
        if name.startswith("STATUS_") and value is not None:
            return value < 0x80000000 and not (0x40000000 <= value < 0x80000000 and _FAILURE_WORDS.search(description))
        return False
    if _SUCCESS_WORDS.search(description) and not _FAILURE_WORDS.search(description):
        return True
    return False


def codes_in_cell(cell: str, description: str) -> list[ReturnCode]:
    """The code(s) a table row's first cell names; [] when it names nothing recognisable."""
    lines = [line.strip(" *`_") for line in cell.split("\n") if line.strip(" *`_")]
    if not lines:
        return []
    joined = " ".join(lines)
    value: int | None = None
    span: tuple[int, int] | None = None
    range_match = _RANGE.search(joined)
    if range_match:
        low, high = parse_number(range_match.group(1)), parse_number(range_match.group(2))
        if low is not None and high is not None and low <= high:
            span = (low, high)
    names: list[str] = []
    for line in lines:
        single = _LONE_VALUE.match(line)
        if single and value is None and span is None:
            value = parse_number(single.group(1))
            continue
        wrapped = _WRAPPED.search(line)
        if wrapped:
            names.append(f"{wrapped.group(1)}({wrapped.group(2)})")
            continue
        head = line.split()[0] if line.split() else line
        if _IDENT.match(head) and head.isupper() and "_" in head:
            names.extend(n for n in _UPPER_WORD.findall(line) if "_" in n and n.isupper()
                         and (n == head or CODE_NAME.fullmatch(n)))
    wildcard = _WILDCARD.search(joined)
    prefixed = _PREFIXED.search(joined)
    if wildcard or prefixed:
        prefix = (wildcard or prefixed).group(1)  # type: ignore[union-attr]
        family = prefix + ("*" if prefix.endswith("_") or prefixed else "_*")
        return [ReturnCode(family=family, range=span, open=span is None, success=False)]
    opened = _OPEN.match(joined)
    if opened and not names:
        return [ReturnCode(family=opened.group(1).strip(), open=True,
                           success=bool(_SUCCESS_WORDS.search(description)) and not _FAILURE_WORDS.search(description))]
    if names:
        # one value in the cell belongs to a single name; several names share none
        own_value = value if len(names) == 1 else None
        return [ReturnCode(name=n, value=own_value, success=success_of(n, own_value, description)) for n in names]
    if _CONDITION.match(joined) or value is not None:
        return [ReturnCode(label=joined, value=value, success=success_of(None, None, description))]
    return [ReturnCode(label=joined, success=success_of(None, None, description))]


def code_column(header: list[str] | None, rows: list[list[str]]) -> int | None:
    """Which column of a table holds the codes; None when the table is not a code table."""
    if header:
        lowered = [h.lower() for h in header]
        for index, title in enumerate(lowered):
            if _CODE_TITLE.search(title):
                if "description" in title or "meaning" in title:
                    continue
                return index
        return None
    # no header: the column whose cells look like codes
    for index in range(min(len(r) for r in rows) if rows else 0):
        if sum(1 for r in rows if CODE_NAME.search(r[index])) >= max(1, len(rows) // 2):
            return index
    return None


def names_in_prose(text: str) -> list[str]:
    """Code names a sentence mentions, in order, without duplicates.

    A name that is called (`NT_SUCCESS(status)`) or called a macro ("the
    NT_SUCCESS macro") is a macro that tests codes, not a code; so are the
    SDK's status-testing macros wherever they appear.
    """
    found: dict[str, None] = {}
    for match in _WRAPPED.finditer(text):
        found.setdefault(f"{match.group(1)}({match.group(2)})", None)
    stripped = _WRAPPED.sub(" ", text)
    for match in CODE_NAME.finditer(stripped):
        name = match.group(0)
        if name in STATUS_MACROS or _MACRO_AFTER.match(stripped, match.end()):
            continue
        found.setdefault(name, None)
    return list(found)
