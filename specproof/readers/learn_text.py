"""Reader for learn-text: a learn.microsoft.com reference page copied from a browser as plain text.

A browser copy keeps the words and loses the structure, and not always the
same structure. Section headings may survive or not; the syntax block may
lose its closing `);`; the parameter lines (`[in] phContext`) may be gone;
each table row becomes one line (`NAME Description`, or `NAME` alone with
the value, and maybe the description, on the next line); the requirements
table becomes `Key Value` lines. So the reader depends on none of those
marks. It first cuts the page into units (headings, the prototype,
parameter lines, flattened tables, requirement rows, paragraphs), then
places the section boundaries: at a heading where one survived, otherwise
by what the text says (a returns statement, a return-code table, the
requirement keys).

Rules chosen where a copy is ambiguous:

- Kinds. Only `function`, `method` and `macro` titles (and `inline function`,
  `function-like macro`) are read. Everything else (structure, enumeration,
  callback function, interface, class, IOCTL, ...) raises NotAFunction:
  a callback function page documents a function *type* the caller writes,
  not a function anyone can call. A method's api is its documented name,
  `IFoo::Bar`, as the title writes it.
- Site chrome. A whole-page copy starts with the site's own lines (skip
  link, browser banner, breadcrumbs, action words such as Edit / Share via /
  Bearbeiten / Partager via, "Table of contents"), in the reader's language.
  They are not matched by word: the title is the first line, among the
  first `_TITLE_WINDOW` lines with text, that reads as a title (`Name
  function (header.h)`, a known kind) and is followed, before any other
  title-like line and within `_STRUCTURE_REACH` lines, by the page's
  structure (a Syntax, Parameters, Return value or Requirements heading,
  the prototype of that name, a parameter line or a requirement row);
  everything before it is ignored. A title on the first line needs no such
  proof. Right after the title come the article's metadata (Article, date,
  contributors, Feedback) and the "In this article" list of the page's
  headings: short lines with no sentence punctuation before the first
  content line are dropped when they hold a date (dd.mm.yyyy read day
  first, d/m/yyyy day first only when the first number is over 12, as
  en-us writes month first), and a run of heading names with nothing
  between them (or one that the body repeats, after such a line) is that
  list, not the page's headings.
- The prototype is the block starting at the line that declares the
  function (`... Name(` with nothing but a type before it and no sentence
  after), or the block right after a "Syntax" heading (a typedef such as
  `VOID (*PFN_X)(...)` does not name the function).
- Parameter lines are `[in] name`, `name [in]` or a bare `name`. When the
  prototype names parameters, only those names count, so a one-word
  paragraph ("Reserved") or an old page's sub-entry is never taken for a
  parameter. With the lines lost, the prototype's names are used in order
  and the docs are shared out as `_share_docs` says, or not at all.
- Without a "Return value" heading the returns part starts at the first
  returns statement ("Returns ...", "If the function ...", "<Api> returns
  ...", "TRUE if ...", "None") or return-code table, but never inside a
  parameter's first unit: each parameter is assumed to own at least one,
  because out-parameter docs often begin "If the function succeeds".
- A page that kept "Syntax" or "Parameters" kept its headings: its returns
  end at the next heading. Otherwise (the seed kept only "Return value"
  and "See also") the returns end after the last return-code table (one
  headed Return code, Return value, Error code ...) plus trailing "For
  extended error information ..." sentences; with no table, at the first
  paragraph that no longer speaks of the result ("If ... returns",
  "Otherwise", "<Other> returns"); a void statement ends them at once.
- A `Type: DWORD` line in the returns part sets the return type and is not
  kept as a block (as the markdown reader does); in a parameter's docs it
  is kept as a paragraph.
- Tables. A table starts at a header line (`Return code`, `Return
  code/value Description`, tab-separated cells) followed by a row. A row
  starts with a code (SEC_E_OK, FWP_E_* error code, Other NTSTATUS codes,
  HRESULT_FROM_WIN32(X), TRUE) or a value, but not when a plain lower-case
  word follows ("SEC_E_OK is returned ..." is prose). A value after the
  name goes into the name cell as "NAME\nVALUE", like the markdown
  readers' `<dt>` cells, except in tables of three or more columns, where
  it is a cell of its own. Consecutive bare name lines are one cell naming
  several codes. Lines that start no row continue the description.
- Requirement rows are recognised by their keys. A block keyed by a short
  word (Header, Library, DLL, IRQL) counts only with a tab after the key or
  a value of the expected shape (`x.h`, `x.lib`, `x.dll`, `..._LEVEL`), so
  "Header files ..." in the remarks stays a remark. After the requirements
  table, lines that are not requirement rows are the see-also list (that
  is where the page puts it, heading or not).
- Each line is one block: a browser copy does not wrap paragraphs. A lone
  "Note" line makes the next line a note; a code block follows a `Copy`
  line and runs across blank lines while the text still reads as code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .codes import CODE_NAME
from .parts import Block, NotAFunction, PageError, PageParts, ParamPart
from .text import decode_page, digest_bytes, fold, iso_date

__all__ = ["looks_like_learn_text", "prototype_params", "read_learn_text"]

# -- the title ---------------------------------------------------------------------------

_TITLE = re.compile(
    r"^(?P<name>(?:~?[A-Za-z_][\w~-]*::)*(?:operator\S+?|~?[A-Za-z_][\w~-]*)(?:\([^()]*\))?)"
    r"\s+(?P<kind>[A-Za-z][A-Za-z -]{0,40}?)\s+"
    r"\((?P<header>[\w.\-/]+\.(?:h|hpp|hxx|idl|inl))\)\s*$"
)
_OVERLOAD = re.compile(r"\(.*$")
_FUNCTION_KINDS = frozenset({"function", "method", "macro", "inline function", "function-like macro"})
_OTHER_KINDS = frozenset({
    "structure", "struct", "enumeration", "enum", "union", "callback function", "callback",
    "function pointer", "interface", "class", "ioctl", "constant", "constants", "property",
    "event", "message", "notification", "typedef", "delegate", "attribute", "namespace",
    "control code", "object", "record", "field", "data type",
})
_KNOWN_KINDS = _FUNCTION_KINDS | _OTHER_KINDS

# -- lines the copy adds or keeps that carry no content ----------------------------------

_DATE_LINE = re.compile(r"^(?:Last updated(?: on)?:?\s*)?(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})$", re.I)
_CHROME = frozenset({"in this article", "article", "feedback", "table of contents", "exit focus mode",
                     "commentaires", "comentarios"})
_READ_TIME = re.compile(r"^\d+ (?:minutes? to read|contributors?)$", re.I)
_LANG_LABELS = frozenset({"c++", "c", "cpp", "syntax", "c#", "idl", "vb", "json", "xml", "console"})
# where the copied page ends and the site's own footer starts
_FOOTER = frozenset({
    "was this page helpful?", "additional resources", "submit and view feedback for",
    "war diese seite hilfreich?", "zusätzliche ressourcen", "cette page a-t-elle été utile ?",
    "cette page a-t-elle été utile?", "ressources supplémentaires", "¿le resultó útil esta página?",
    "¿le ha resultado útil esta página?", "recursos adicionales",
})
# how far into a copy the title may sit, behind the site's chrome (non-blank lines), and how far
# after it the page's structure must show (a description runs some tens of lines, not hundreds)
_TITLE_WINDOW = 60
_STRUCTURE_REACH = 400
# the headings that prove a page follows a title line (see the module docstring)
_STRUCTURE_HEADINGS = frozenset({"syntax", "parameters", "return value", "return values", "requirements"})
# a date in the article's metadata, in the reader's locale: 02/22/2024, 22/02/2024, 22.02.2024, 2024-02-22
_META_DATE = re.compile(r"(?<![\d/.])(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?![\d/.])|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SENTENCE_END = frozenset(".:;!?,)]")

_CODE_LINE = re.compile(r"^(?:[ \t]|//|/\*|#|[{}])|[;{}(),]\s*$")

# -- headings ----------------------------------------------------------------------------

_HEADINGS = {
    "syntax": "syntax", "parameters": "params", "return value": "returns", "return values": "returns",
    "remarks": "remarks", "examples": "examples", "example": "examples", "requirements": "req",
    "see also": "see",
}
_CLOSING = frozenset({"returns", "remarks", "examples", "req", "see"})

# -- the prototype -----------------------------------------------------------------------

_PROTO_PREFIX = re.compile(r"^[\w \t*&:]*$")
_ANNOTATION = (
    r"\[\s*(?:in|out|inout|optional|opt|reserved|retval|in\s*/\s*out)"
    r"(?:\s*[,/]\s*(?:in|out|inout|optional|opt|reserved|retval))*\s*\]"
)
_ANNOTATION_RE = re.compile(_ANNOTATION, re.I)
_BRACKETS = re.compile(r"\[[^\]]*\]")
_SAL = re.compile(
    r"\b_(?:In|Out|Inout|Reserved|Ret|Outptr|Deref|Pre|Post|When|Success|Must_inspect|Check|Frees|Printf"
    r"|Null|Notnull|Maybenull|Use|IRQL|Kernel|Requires|At|Field|Struct|Interlocked|Acquires|Releases"
    r"|Function|Always|Guarded|Readable|Writable|Const)\w*_(?:\s*\((?:[^()]|\([^()]*\))*\))?"
    r"|\b__(?:in|out|inout|reserved|deref|ecount|bcount|opt)\w*\b(?:\s*\((?:[^()]|\([^()]*\))*\))?"
)
_NAME_GROUP = re.compile(r"^\s*(?:\w+\s+)*\*?\s*\w+\s*$")
_MACRO_WORDS = re.compile(r"\b(?:IN|OUT|OPTIONAL|CONST|const|volatile|struct|enum|union|unsigned|signed)\b")
_DEFAULT = re.compile(r"=.*$", re.S)
_FUNC_POINTER = re.compile(r"\(\s*(?:__\w+\s+|WINAPI\s+|CALLBACK\s+|NTAPI\s+)*\*\s*([A-Za-z_]\w*)\s*\)")
_IDENT = re.compile(r"[A-Za-z_]\w*")

# -- parameter lines ---------------------------------------------------------------------

_PNAME_PRE = re.compile(rf"^(?P<ann>{_ANNOTATION})\s+(?P<name>[A-Za-z_]\w*|\.\.\.)$", re.I)
_PNAME_POST = re.compile(rf"^(?P<name>[A-Za-z_]\w*|\.\.\.)\s+(?P<ann>{_ANNOTATION})$", re.I)
_BARE_NAME = re.compile(r"^[A-Za-z_]\w*$")
_TYPE_LINE = re.compile(r"^Type:\s*(?P<type>\S.*?)\s*$")

# -- flattened tables --------------------------------------------------------------------

_NUMBER = r"(?:0[xX][0-9A-Fa-f]+|-?\d+)[uUlL]*"
_VALUE = rf"{_NUMBER}(?:\s*(?:[-\u2010-\u2015\u2212]|\bto\b|\bthrough\b)\s*{_NUMBER}|\s+\({_NUMBER}\))?"
_CODE = (
    r"(?:HRESULT_FROM_(?:WIN32|NT|SETUPAPI)\(\s*[A-Z][A-Z0-9_]*\s*\)"
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_?(?:\\?\*|\[\\?\*[^\]]*\])"
    r"(?:\s+(?:error|status|success|warning|information)\s+(?:codes?|values?)|\s+codes?|\s+values?)?"
    r"|[A-Z][A-Z0-9_]*-prefixed(?:\s+(?:error\s+)?codes?)?|[A-Z][A-Z0-9]*_\[[A-Z_*]+\]"
    r"|(?:Other|Any other|All other)\s+(?:[\w/-]+\s+){0,4}?(?:codes?|values?|errors?)\b"
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
    r"|TRUE|FALSE|NULL|NOERROR|Nonzero|Non-zero|Zero|[<>]=?\s*(?:[Zz]ero|0))"
)
_ROW = re.compile(rf"^(?P<name>{_CODE})(?=$|[\t ])[\t ]*(?P<rest>.*)$")
_PROSE_WORD = re.compile(r"^[a-z]+\b")  # "TRUE if ...", "SEC_E_OK is returned ...": a sentence, not a row
_VALUE_LINE = re.compile(rf"^(?P<value>{_VALUE})(?=$|[\t ])[\t ]*(?P<rest>.*)$")  # `0x80090301 The ...`
_RETURN_HEADER = re.compile(
    r"^(?P<first>(?:return|error|status|result)\s+(?:code|value|status)s?(?:/value)?|error\s+codes?|codes?)"
    r"(?P<rest>(?:\t+[^\t]+)+|\s+(?:description|meaning))?$",
    re.I,
)
_PLAIN_HEADER = re.compile(
    r"^(?:value|flag|flags|constant|constant/value|name|bit|member|field|term|type)\s+(?:meaning|description)$", re.I
)
_HEADER_SPLIT = re.compile(r"^(?P<first>.*?)\s+(?P<second>description|meaning)$", re.I)
_RETURN_TABLE_HEAD = re.compile(r"^(?:return|error|status|result|codes?\b)", re.I)

# -- requirements ------------------------------------------------------------------------

_REQ_NAMES: dict[str, str | None] = {
    "minimum supported client": "target-min-winverclnt",
    "minimum supported server": "target-min-winversvr",
    "target platform": "target-platform",
    "header": "header",
    "include header": "include-header",
    "library": "lib",
    "dll": "dll",
    "irql": "irql",
    "ddi compliance rules": "ddi-compliance",
    "minimum kmdf version": "kmdf-ver",
    "minimum umdf version": "umdf-ver",
    "unicode and ansi names": "unicode-ansi",
    "redistributable": "redist",
    # rows the page shows and the spec does not keep
    "requirement": None, "api set": None, "minimum supported phone": None, "end of client support": None,
    "end of server support": None, "type library": None, "idl": None, "namespace": None, "assembly": None,
    "product": None,
}
_REQ_LINE = re.compile(
    r"^(?P<key>" + "|".join(re.escape(k) for k in sorted(_REQ_NAMES, key=len, reverse=True)) + r")"
    r"\s*:?(?:(?P<sep>[\t ]+)(?P<value>\S.*?))?\s*$",
    re.I,
)
_REQ_FIRST_WORDS = frozenset(key.split()[0] for key in _REQ_NAMES)
_SHORT_KEY_VALUES = {
    "header": re.compile(r"\.h\b", re.I),
    "include header": re.compile(r"\.h\b", re.I),
    "library": re.compile(r"\.lib\b", re.I),
    "dll": re.compile(r"\.(?:dll|sys|exe|drv)\b", re.I),
    "irql": re.compile(r"_LEVEL\b|\bIRQL\b|\bany\b|\bremarks\b", re.I),
    "requirement": re.compile(r"^value$", re.I),
    "idl": re.compile(r"\.idl\b", re.I),
}
_INCLUDE = re.compile(r"^(?P<header>.*?)\s*\(\s*include\s+(?P<include>[^)]*?)\s*\)\s*$", re.I)

# -- prose -------------------------------------------------------------------------------

_ITEM = re.compile(r"^(?:[-*\u2022\u00b7\u25e6\u25aa]\s+|\d{1,2}[.)]\s+)")
_NOTE_WORDS = frozenset({"note", "important", "warning", "caution", "tip"})
_NOTE = re.compile(r"^(?:Note|Important|Warning|Caution|Tip)\b\s*:?\s+\S")
_RETURNS_START = re.compile(
    r"^(?:Returns?\b"
    r"|If (?:the|this) (?:function|method|macro|routine|call|operation)\b"
    r"|If\b[^,.]*\b(?:succe\w*|complet\w*|fail\w*)\b[^,.]*,\s*(?:this|the) (?:function|method|routine|call)"
    r" (?:returns|fails|succeeds)\b"
    r"|If successful\b|(?:On|Upon) (?:success|failure)\b"
    r"|(?:When|Once|After|On) [^,.]{1,40}, (?:it |this function |the function )?(?:returns|will return)\b"
    r"|(?:The|This) (?:function|method|macro|routine) (?:returns|always returns|does not return|doesn't return"
    r"|has no return|(?:can|may|might|will) return)"
    r"|The return value\b|None\.?$|No return value|Nothing\.?$"
    r"|(?:TRUE|FALSE|NULL|Nonzero|Zero|S_OK|[A-Z][A-Z0-9]*_[A-Z0-9_]+) (?:if|when|on success|on failure)\b)"
)
_OTHER_REPORTS = re.compile(
    r"^(?:[A-Z]\w+ (?:returns|may return|can return|will return)"
    r"|[A-Z][A-Z0-9]*_[A-Z0-9_]+ (?:is|may be|can be|will be) returned)\b"
)
_VOID = re.compile(
    r"^(?:None\.?|Nothing\.?|No return value\.?)$|\b(?:does not|doesn't) return a value\b|has no return value"
)
_REMARK_OPENERS = re.compile(r"^(?:The caller|Callers?|You|For (?:more|all)|To |This function (?:is|can be))\b")
_RETURNISH = re.compile(r"\b(?:returns?|returned|return value|GetLastError|error codes?)\b", re.I)
_RETURNS_TAIL = re.compile(
    r"^(?:For (?:extended|more) (?:error )?information|To (?:get|retrieve) extended error information"
    r"|(?:Call|Use) GetLastError|If the (?:function|method|call) (?:fails|succeeds)|Otherwise,"
    r"|(?:The|This) (?:function|method) (?:can|may) also return|Other (?:error )?codes)"
)


@dataclass(slots=True)
class _Unit:
    """One piece of the page in reading order, before sections are placed."""

    kind: str  # heading proto pname table req type para item note code see
    text: str = ""
    name: str = ""  # heading: section id; pname: parameter; req: key
    annotation: str | None = None
    block: Block | None = None


# -- public entry points -----------------------------------------------------------------


def looks_like_learn_text(text: str) -> bool:
    """True when the text is a copied reference page: a `Name function (header.h)` title, no front matter.

    The title is the first line, or a later one behind the site's chrome (see `_find_title`). Only the
    first lines are read unless such a title-like line shows up, so this stays cheap on other pages.
    """
    first, found, _ = _find_title(_nonblank(_iter_lines(text.lstrip("\ufeff"))))
    if first is None or found is None:
        return False
    return found[1].group("kind").lower() in _KNOWN_KINDS


def read_learn_text(raw: bytes, file: str, text: str | None = None) -> PageParts:
    """Read one learn-text page into PageParts; NotAFunction for other page kinds, PageError when unreadable.

    `text` is the page already decoded, when the caller decoded it to tell the format.
    """
    text = decode_page(raw) if text is None else text
    lines = [line.rstrip() for line in text.split("\n")]
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise PageError("empty page: there is nothing to read")
    first = lines[start].strip()
    if first.startswith("---"):
        raise PageError("the page starts with YAML front matter: it is a markdown source, not a learn-text copy")
    _, found, unproven = _find_title(_nonblank(lines))
    if found is None:
        message = ("no title line: a learn-text page starts with 'Name function (header.h)', "
                   f"this one with {first[:80]!r}")
        if unproven is not None:
            message += (f"; the title-like line {unproven[1][:80]!r} (line {unproven[0] + 1}) is followed by no "
                        "Syntax, Parameters, Return value or Requirements, prototype or parameter line")
        raise PageError(message)
    at, title = found
    title_line = lines[at].strip()
    kind = title.group("kind").lower()
    if kind not in _FUNCTION_KINDS:
        raise NotAFunction(f"a {kind} page ({title_line}), not a function")
    api = title.group("name")  # the documented name: `IFoo::Bar` keeps its `::`
    parts = PageParts(format="learn-text", file=file, digest=digest_bytes(raw), api=api,
                      header=title.group("header"))
    head, meta_date = _head_chrome(lines[at + 1:])
    body, body_date = _strip_chrome(head)
    parts.date = meta_date or body_date
    scanner = _Scanner(body, _short_name(api))
    units = scanner.run()
    parts.prototype = scanner.prototype
    _place(parts, units, scanner.proto_params)
    return parts


def prototype_params(prototype: str, name: str | None = None) -> list[tuple[str, str | None]]:
    """The parameters a C declaration names, in order, as (name, bracket annotation or None).

    Only names are wanted (types are the builder's business), so this splits
    the text between the parentheses on top-level commas and takes the last
    identifier of each piece, after dropping annotations (`[in]`, `_In_opt_`,
    `IN`, `OPTIONAL`), array bounds and default values. `(void)` means none;
    a missing closing parenthesis is tolerated, as copies lose it.
    """
    start = _open_paren(prototype, name)
    if start < 0:
        return []
    inside, _ = _balanced(prototype, start)
    pieces = _split_top(inside)
    if len(pieces) == 1 and pieces[0].strip() in ("", "void", "VOID"):
        return []
    params = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if piece == "...":
            params.append(("...", None))
            continue
        annotation = _ANNOTATION_RE.search(piece)
        pointer = _FUNC_POINTER.search(piece)
        if pointer:
            params.append((pointer.group(1), annotation.group(0) if annotation else None))
            continue
        cleaned = _MACRO_WORDS.sub(" ", _SAL.sub(" ", _BRACKETS.sub(" ", _DEFAULT.sub("", piece))))
        idents = _IDENT.findall(cleaned)
        if idents:
            params.append((idents[-1], annotation.group(0) if annotation else None))
    return params


# -- helpers: title, chrome, prototype text ----------------------------------------------


def _short_name(api: str) -> str:
    """The name the prototype uses: `IFoo::Bar` (or `IFoo.Bar`) -> `Bar`; an overload's `(signature)` dropped."""
    return _OVERLOAD.sub("", api).rsplit("::", 1)[-1].rsplit(".", 1)[-1]


def _iter_lines(text: str) -> Iterator[str]:
    """The lines of `text`, split on demand: detection reads only the first few of a long page."""
    start, end = 0, len(text)
    while start <= end:
        stop = text.find("\n", start)
        if stop < 0:
            stop = end
        yield text[start:stop]
        start = stop + 1


def _nonblank(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(index, stripped text) of each line with text; NBSP and a stray BOM count as space."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped:
            if "\u00a0" in stripped or "\ufeff" in stripped:
                stripped = stripped.replace("\u00a0", " ").replace("\ufeff", "").strip()
                if not stripped:
                    continue
            yield index, stripped


def _find_title(
    numbered: Iterator[tuple[int, str]],
) -> tuple[str | None, tuple[int, re.Match[str]] | None, tuple[int, str] | None]:
    """(first line, (index, match) of the title, a title-like line that had no page after it).

    The first non-blank line is the title when it reads as one. Otherwise the
    copy may start with the site's chrome: the title is the first of the
    first `_TITLE_WINDOW` lines that reads as a title of a known kind and is
    followed, before the next such line and within `_STRUCTURE_REACH` lines,
    by a line of the page's structure (`_structure_line`). A title-like line
    deep in a body is never taken, nor one with no page after it. Lines are
    read only as far as needed.
    """
    head = next(numbered, None)
    if head is None:
        return None, None, None
    first_index, first = head
    if first.startswith("---"):
        return first, None, None
    match = _TITLE.match(first)
    if match:
        return first, (first_index, match), None
    seen = pending_at = 1
    pending: tuple[int, re.Match[str], str] | None = None  # the latest title-like line, awaiting its page
    unproven: tuple[int, str] | None = None
    for index, s in numbered:
        seen += 1
        if s[-1] == ")":
            match = _TITLE.match(s)
            if match and match.group("kind").lower() in _KNOWN_KINDS:
                if pending is not None and unproven is None:
                    unproven = (pending[0], pending[1].group(0))
                if seen > _TITLE_WINDOW:
                    pending = None  # what follows belongs to this title, too deep in the text to be one
                    break
                pending = (index, match, _short_name(match.group("name")))
                pending_at = seen
                continue
        if pending is not None:
            if _structure_line(s, pending[2]):
                return first, (pending[0], pending[1]), None
            if seen - pending_at >= _STRUCTURE_REACH:
                break
        elif seen >= _TITLE_WINDOW:
            break
    if pending is not None and unproven is None:
        unproven = (pending[0], pending[1].group(0))
    return first, None, unproven


def _structure_line(s: str, name: str) -> bool:
    """A line only a reference page's body has: a main section heading, the prototype of `name`,
    a parameter line (`[in] hContext`) or a requirement row."""
    if len(s) <= 20 and s.casefold().rstrip(":") in _STRUCTURE_HEADINGS:
        return True
    if name in s and _is_proto_line(s, name):
        return True
    if len(s) <= 80 and (_PNAME_PRE.match(s) or _PNAME_POST.match(s)):
        return True
    return _strong_req_line(s)


def _meta_date(s: str) -> str | None:
    """The ISO date in a metadata line, in any of the site's locales; None if it holds none."""
    match = _META_DATE.search(s)
    if not match:
        return None
    if match.group(5):
        return "-".join(match.group(5, 6, 7))
    a, sep, b, year = int(match.group(1)), match.group(2), int(match.group(3)), int(match.group(4))
    day, month = (a, b) if sep == "." or a > 12 else (b, a)  # en-us is month first; dotted locales day first
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _chrome_like(s: str) -> bool:
    """A short line that is not content: no sentence punctuation, no code, not a heading or a note."""
    if len(s) > 60 or s[-1] in _SENTENCE_END or "(" in s or "\t" in s or s[0] in "[#/{":
        return False
    folded = s.casefold().rstrip(":")
    if folded in _HEADINGS or folded in _NOTE_WORDS or s == "Copy" or folded in _LANG_LABELS:
        return False
    return not (_TYPE_LINE.match(s) or _strong_req_line(s) or _CODE_LINE.search(s))


def _head_chrome(lines: list[str]) -> tuple[list[str], str | None]:
    """Blank the article's metadata and "In this article" list after the title; return the page date.

    From the title to the first content line: chrome-like lines (`_chrome_like`,
    in whatever language) and the list of the page's headings. A run of two or
    more heading names with nothing between them, none named twice, is that
    list; so is a single one right after chrome-like lines when the body
    repeats it. The lines are
    dropped only when they hold a date or such a list, which is how the site
    lays out the metadata; otherwise they are left to `_strip_chrome`.
    """
    marked: list[int] = []
    date = None
    toc = False
    run: set[str] = set()  # the headings of the list being read; a list names each once
    numbered = list(_nonblank(lines[:200]))
    for k, (index, s) in enumerate(numbered):
        folded = s.casefold().rstrip(":")
        if folded in _HEADINGS:
            nxt = numbered[k + 1][1] if k + 1 < len(numbered) else ""
            if folded not in run and (run or nxt.casefold().rstrip(":") in _HEADINGS or (
                marked and any(line.strip() == s for line in lines[index + 1:])
            )):
                toc = True
                run.add(folded)
                marked.append(index)
                continue
            break
        run = set()
        if not _chrome_like(s):
            break
        date = date or _meta_date(s)
        marked.append(index)
    if not (date or toc):
        return lines, None
    kept = list(lines)
    for index in marked:
        kept[index] = ""
    return kept, date


def _strip_chrome(lines: list[str]) -> tuple[list[str], str | None]:
    """Drop the lines a copy adds around the content (dates, 'In this article'); return the page date."""
    date = None
    kept = []
    for line in lines:
        stripped = line.strip()
        if not stripped or len(stripped) > 40:  # every chrome line is short
            kept.append(line)
            continue
        dated = _DATE_LINE.match(stripped) if stripped[0].isdigit() or stripped[0] in "Ll" else None
        if dated:
            date = date or iso_date(dated.group(1))
            kept.append("")
        elif stripped.casefold() in _CHROME or stripped[0].isdigit() and _READ_TIME.match(stripped):
            kept.append("")
        else:
            kept.append(line)
    return kept, date


def _open_paren(text: str, name: str | None) -> int:
    """Index of the '(' that opens the parameter list.

    After `name` when the text has it; otherwise the first group, skipping a
    typedef's `(*PFN_NAME)` so that `VOID (*PFN_X)(int a)` gives `(int a)`.
    """
    if name:
        match = re.search(rf"(?<![\w]){re.escape(name)}\s*\(", text)
        if match:
            return match.end() - 1
    start = text.find("(")
    while start >= 0:
        inside, close = _balanced(text, start)
        if close < 0 or not _NAME_GROUP.match(inside) or not text[close + 1:].lstrip().startswith("("):
            return start
        start = text.index("(", close + 1)
    return start


def _balanced(text: str, start: int) -> tuple[str, int]:
    """Text inside the parentheses opening at `start`, and the index of the closing one (-1 if missing)."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1:index], index
    return text[start + 1:], -1


def _split_top(text: str) -> list[str]:
    pieces, depth, current = [], 0, []
    for char in text:
        if char in "([{<":
            depth += 1
        elif char in ")]}>":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _is_proto_line(line: str, name: str) -> bool:
    """Whether the line opens the declaration of `name`, not prose that mentions `name(`."""
    index = line.find(name)
    while index >= 0:
        end = index + len(name)
        before_ok = index == 0 or not (line[index - 1].isalnum() or line[index - 1] == "_")
        rest = line[end:].lstrip()
        if before_ok and rest.startswith("(") and _PROTO_PREFIX.match(line[:index]):
            open_at = end + (len(line[end:]) - len(rest))
            _, close = _balanced(line, open_at)
            if close >= 0:
                return line[close + 1:].strip() in ("", ";")
            return not rest.rstrip().endswith(".") and ". " not in rest
        index = line.find(name, end)
    return False


# -- the scanner: lines to units ---------------------------------------------------------


class _Scanner:
    """Cuts the body into units in one pass; knows just enough context to read each line."""

    def __init__(self, lines: list[str], name: str) -> None:
        self.lines = lines
        self.name = name
        self.units: list[_Unit] = []
        self.prototype: str | None = None
        self.proto_params: list[tuple[str, str | None]] = []
        self.state: str | None = None
        self.closed = False  # past the syntax and parameters: no prototype or parameter lines any more
        self.code_next = False

    def run(self) -> list[_Unit]:
        i, n = 0, len(self.lines)
        while i < n:
            stripped = self.lines[i].strip()
            i = self._step(i, stripped) if stripped else i + 1
        return self.units

    # each _step returns the index of the next line to read
    def _step(self, i: int, s: str) -> int:
        heading = self._heading(i, s)
        if heading:
            self.units.append(_Unit("heading", s, name=heading))
            self.state = heading
            self.closed = self.closed or heading in _CLOSING
            return i + 1
        if self.state == "see":
            if s.casefold() in _FOOTER:
                return len(self.lines)
            self.units.append(_Unit("see", s))
            return i + 1
        if self.state == "req":
            return self._lenient_req(i, s)
        if s == "Copy":
            self.code_next = True
            return i + 1
        if s.casefold() in _LANG_LABELS and self._next_text(i) == "Copy":
            return i + 1
        if self.prototype is None and not self.closed and (
            self.name in s and _is_proto_line(s, self.name) or self._after("syntax")
        ):
            self.code_next = False
            return self._prototype(i)
        if self.code_next:
            self.code_next = False
            return self._code(i)
        if self._block_start(i):
            end = self._req_block(i)
            if end:
                self.state = "req"  # the requirements table: what follows is requirements, then see also
                self.closed = True
                return end
        if self._is_table_header(i, s):
            return self._table(i, s)
        typed = _TYPE_LINE.match(s)
        if typed:
            self.units.append(_Unit("type", s, name=typed.group("type").strip("*` ")))
            return i + 1
        if not self.closed and self._param_line(s):
            return i + 1
        return self._prose(i, s)

    def _after(self, heading: str) -> bool:
        """True right after the given heading, before any other unit."""
        return bool(self.units) and self.units[-1].kind == "heading" and self.units[-1].name == heading

    def _next_text(self, i: int) -> str | None:
        for j in range(i + 1, len(self.lines)):
            if self.lines[j].strip():
                return self.lines[j].strip()
        return None

    def _block_start(self, i: int) -> bool:
        return i == 0 or not self.lines[i - 1].strip()

    def _heading(self, i: int, s: str) -> str | None:
        section = _HEADINGS.get(s.casefold().rstrip(":"))
        if section == "returns" and i + 1 < len(self.lines) and _is_row_start(self.lines[i + 1].strip()):
            return None  # "Return value" over a table's rows is the table's header
        return section

    def _prototype(self, i: int) -> int:
        """The declaration from the line naming the function to the one closing it, or to a blank line."""
        taken: list[str] = []
        j = i
        while j < len(self.lines) and self.lines[j].strip():
            taken.append(self.lines[j])
            j += 1
            if ")" not in taken[-1]:
                continue
            text = "\n".join(taken)
            start = _open_paren(text, self.name)
            if start >= 0 and _balanced(text, start)[1] >= 0:
                break
        self.prototype = "\n".join(taken)
        self.proto_params = prototype_params(self.prototype, self.name)
        self.units.append(_Unit("proto", self.prototype))
        return j

    def _code(self, i: int) -> int:
        """A code block after a `Copy` button line: it runs across blank lines while the text still reads as code."""
        j, end, n = i, i, len(self.lines)
        while j < n:
            if self.lines[j].strip():
                end = j + 1
                j += 1
                continue
            k = j
            while k < n and not self.lines[k].strip():
                k += 1
            following = self.lines[k].strip() if k < n else ""
            if not following or not _CODE_LINE.search(self.lines[k]) or _HEADINGS.get(following.casefold()) or (
                self.prototype is None and self.name in following and _is_proto_line(following, self.name)
            ):
                break
            j = k
        self.units.append(_Unit("code", block=Block("code", "\n".join(self.lines[i:end]) + "\n")))
        return end

    def _param_line(self, s: str) -> bool:
        if len(s) > 80:  # a parameter line is a name and at most an annotation
            return False
        match = _PNAME_PRE.match(s) or _PNAME_POST.match(s)
        names = {name for name, _ in self.proto_params}
        if match and (not names or match.group("name") in names):
            self.units.append(_Unit("pname", s, name=match.group("name"), annotation=match.group("ann")))
            return True
        if _BARE_NAME.match(s) and s in names:
            self.units.append(_Unit("pname", s, name=s))
            return True
        return False

    def _prose(self, i: int, s: str) -> int:
        """A paragraph, list item or note: one line each, as a browser copies them (it does not wrap lines)."""
        j = i + 1
        if s.casefold() in _NOTE_WORDS and j < len(self.lines) and self.lines[j].strip():
            # a rendered alert: its title on one line, the text on the next
            s = self.lines[j].strip()
            kind = "note"
            j += 1
        elif _NOTE.match(s):
            kind = "note"
        elif _ITEM.match(s):
            kind, s = "item", _ITEM.sub("", s, count=1)
        else:
            kind = "para"
        text = fold(s) if "  " in s or "\t" in s else s
        self.units.append(_Unit(kind, text, block=Block(kind, text)))  # type: ignore[arg-type]
        return j

    # -- tables

    def _is_table_header(self, i: int, s: str) -> bool:
        if len(s) > 60 and "\t" not in s:  # header cells are short
            return False
        if not (_RETURN_HEADER.match(s) or _PLAIN_HEADER.match(s) or _tab_header(s)):
            return False
        nxt = self._next_text(i)
        if nxt is None or _HEADINGS.get(nxt.casefold()):
            return False
        return _is_row_start(nxt) or ("\t" in s and "\t" in nxt and _tab_header(s))

    def _table(self, i: int, header_line: str) -> int:
        """A flattened table: the header line, then rows until a blank line not followed by another row."""
        header = _header_cells(header_line)
        width = max(2, len(header))
        tabbed = "\t" in header_line  # a copied table: any tabbed line is a row
        rows: list[list[str]] = [header]
        row: _Row | None = None
        j, n = i + 1, len(self.lines)
        while j < n:
            s = self.lines[j].strip()
            if not s:
                k = j
                while k < n and not self.lines[k].strip():
                    k += 1
                following = self.lines[k].strip() if k < n else ""
                if not following or _HEADINGS.get(following.casefold()) or not (
                    _is_row_start(following) or tabbed and "\t" in following
                ):
                    break
                j = k
                continue
            if _HEADINGS.get(s.casefold()) or _strong_req_line(s):
                break
            j += 1
            if row is not None and row.bare():
                value = _VALUE_LINE.match(s)
                if value:  # `NAME` then `0x80090301 Description`
                    row.value = value.group("value")
                    row.add(value.group("rest"), width)
                    continue
            start = _row_match(s, width)
            if start is None and tabbed and "\t" in s:
                start = (s.split("\t", 1)[0].strip(), "", s.split("\t", 1)[1], True)
            if start is None:
                if row is None:
                    j -= 1
                    break
                row.add(s, width)  # a description's next line
                continue
            name, value_text, rest, value_led = start
            if row is not None and row.bare() and not value_led:
                row.names.append(name)  # several codes in one cell, one per line
            else:
                if row is not None:
                    rows.append(row.cells(width))
                row = _Row([name])
            row.value = value_text
            row.add(rest, width)
        if row is not None:
            rows.append(row.cells(width))
        kind = "return" if _RETURN_TABLE_HEAD.match(header[0]) else ""
        self.units.append(_Unit("table", header_line, name=kind, block=Block("table", rows=rows, header=True)))
        return j

    # -- requirements

    def _req_block(self, i: int) -> int:
        """A block made only of requirement rows: emit them and return the next index, else 0."""
        head = self.lines[i].split(None, 1)
        if not head or head[0].casefold() not in _REQ_FIRST_WORDS:
            return 0
        j = i
        rows: list[tuple[str, str]] = []
        while j < len(self.lines) and self.lines[j].strip():
            parsed = _req_row(self.lines, j, strict=True)
            if parsed is None:
                return 0
            key, value, j = parsed
            rows.append((key, value))
        for key, value in rows:
            self.units.append(_Unit("req", value, name=key))
        return j if rows else 0

    def _lenient_req(self, i: int, s: str) -> int:
        """Under a Requirements heading every tabbed or keyed line is a row; other lines are see-also entries."""
        parsed = _req_row(self.lines, i, strict=False)
        if parsed is not None:
            key, value, j = parsed
            self.units.append(_Unit("req", value, name=key))
            return j
        if "\t" in s:
            return i + 1  # a row with a key this reader does not keep
        if s.casefold() in _FOOTER:
            return len(self.lines)
        self.units.append(_Unit("see", s))
        return i + 1


def _tab_header(s: str) -> bool:
    """A header row copied with tabs: two to four short cells that are not sentences."""
    if "\t" not in s:
        return False
    cells = [c.strip() for c in s.split("\t") if c.strip()]
    return 2 <= len(cells) <= 4 and all(len(c) <= 40 and not c.endswith(".") for c in cells)


def _header_cells(line: str) -> list[str]:
    if "\t" in line:
        return [fold(c) for c in line.split("\t") if c.strip()]
    split = _HEADER_SPLIT.match(line)
    if split:
        return [split.group("first"), split.group("second")]
    return [fold(line), "Description"]


def _row_match(s: str, width: int = 2) -> tuple[str, str, str, bool] | None:
    """(name, value, rest, led by a value) when the line starts a table row, else None.

    A value right after the name (`SEC_E_OK 0x00000000 The ...`) is the
    name's; a line that reads as a sentence ("TRUE if ...", "SEC_E_OK is
    returned ...") is not a row.
    """
    match = _ROW.match(s)
    if match:
        name, rest = fold(match.group("name")), match.group("rest")
        if _PROSE_WORD.match(rest):
            return None
        if rest and not (width > 2 and "\t" in rest):
            value = _VALUE_LINE.match(rest)
            if value:
                return name, value.group("value"), value.group("rest"), False
        return name, "", rest, False
    match = _VALUE_LINE.match(s)
    if match and not _PROSE_WORD.match(match.group("rest")):
        return match.group("value"), "", match.group("rest"), True
    return None


def _is_row_start(s: str) -> bool:
    return _row_match(s) is not None


@dataclass(slots=True)
class _Row:
    """One table row being read: its name lines, value, description lines and any further cells."""

    names: list[str]
    value: str = ""
    text: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)

    def bare(self) -> bool:
        """Only a name so far: a value, a description or another name may follow on the next line."""
        return not (self.value or self.text or self.more)

    def add(self, text: str, width: int) -> None:
        """Tab-separated text fills a wide table's columns; otherwise the description grows."""
        text = text.strip()
        if not text:
            return
        if width > 2 and "\t" in text and not self.text and not self.more:
            cells = [c.strip() for c in text.split("\t")]
            self.text.append(cells[0])
            self.more.extend(cells[1:])
            return
        self.text.append(fold(text))

    def cells(self, width: int) -> list[str]:
        name = "\n".join(self.names)
        description = "\n".join(self.text)
        if self.value and width > 2 and not self.more:
            cells = [name, self.value, description]  # a wide table gives the value its own column
        else:
            cells = [name + ("\n" + self.value if self.value else ""), description] + self.more
        if len(cells) > width:
            cells = cells[:width - 1] + [" ".join(cells[width - 1:])]
        return cells + [""] * (width - len(cells))


# -- requirement rows --------------------------------------------------------------------


def _req_row(lines: list[str], i: int, strict: bool) -> tuple[str, str, int] | None:
    """(key, value, next index) for a requirement row at line i; the value may be on the next line."""
    s = lines[i].strip()
    match = _REQ_LINE.match(s)
    if not match:
        return None
    key = match.group("key").casefold()
    value = match.group("value") or ""
    tabbed = bool(match.group("sep") and "\t" in match.group("sep"))
    j = i + 1
    if not value:
        if j < len(lines) and lines[j].strip() and not _REQ_LINE.match(lines[j].strip()):
            value, tabbed, j = lines[j].strip(), True, j + 1
        elif key != "requirement":
            return None
    if strict and key in _SHORT_KEY_VALUES and not tabbed and not _SHORT_KEY_VALUES[key].search(value):
        return None
    return key, fold(value), j


def _strong_req_line(s: str) -> bool:
    """A requirement row no table description would start with (multi-word keys, or tabbed)."""
    match = _REQ_LINE.match(s)
    return bool(match and match.group("value") and (" " in match.group("key") or "\t" in (match.group("sep") or "")))


# -- placing the sections ----------------------------------------------------------------


def _place(parts: PageParts, units: list[_Unit], proto: list[tuple[str, str | None]]) -> None:
    """Decide which units are description, parameters, returns, remarks, requirements and see also."""
    n = len(units)
    heading_at = _first_headings(units)
    req_at = _first(units, lambda u: u.kind == "req")
    see_at = _first(units, lambda u: u.kind == "see")
    closing = [heading_at.get(name) for name in ("returns", "remarks", "examples", "req", "see")]
    boundary = min([i for i in closing + [req_at, see_at] if i is not None] + [n])
    first_table = _first(units[:boundary], lambda u: u.kind == "table" and u.name == "return")
    params_hard = boundary if first_table is None else first_table
    marks = (heading_at.get("syntax"), heading_at.get("params"), _first(units, lambda u: u.kind == "proto"),
             _first(units, lambda u: u.kind == "pname"))
    opening = [i for i in marks if i is not None and i < params_hard]
    if opening:
        pre_end = min(opening)
        pnames = [i for i in range(pre_end, params_hard) if units[i].kind == "pname"]
        search_from = _search_from(units, pre_end, params_hard, pnames, len(proto))
    else:  # no syntax and no parameters: the description runs up to the returns part
        pnames = []
        summary_at = _first(units[:params_hard], lambda u: u.kind == "para")
        search_from = 0 if summary_at is None else summary_at + 1
        pre_end = params_hard

    returns_at: int | None
    if heading_at.get("returns") is not None and heading_at["returns"] == boundary:
        returns_at = boundary
    else:
        returns_at = _soft_returns(units, search_from, params_hard, parts.api)
        if returns_at is None:
            returns_at = first_table
        returns_at = _with_type_line(units, returns_at, pre_end if opening else search_from, pnames)
    if not opening and returns_at is not None:
        pre_end = min(pre_end, returns_at)
    params_end = returns_at if returns_at is not None else params_hard

    _description(parts, units[:pre_end])
    region = units[pre_end:params_end]
    parts.params = _params(region, [i - pre_end for i in pnames], proto)
    if pnames:
        parts.description.extend(_blocks_of(region[:pnames[0] - pre_end]))

    after = params_end
    if returns_at is not None:
        trust = "syntax" in heading_at or "params" in heading_at
        after = _returns_end(units, returns_at, trust)
        _returns(parts, units[returns_at:after])
    ends = [i for i in (req_at, heading_at.get("req"), heading_at.get("see"), see_at) if i is not None and i >= after]
    remarks_end = min(ends + [n])
    parts.remarks = _blocks_of(units[after:remarks_end])
    _requirements(parts, units)
    parts.see_also = _see_also(units)


def _first(units: list[_Unit], test: Callable[[_Unit], bool]) -> int | None:
    return next((i for i, unit in enumerate(units) if test(unit)), None)


def _first_headings(units: list[_Unit]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, unit in enumerate(units):
        if unit.kind == "heading":
            found.setdefault(unit.name, index)
    return found


def _search_from(units: list[_Unit], pre_end: int, end: int, pnames: list[int], count: int) -> int:
    """Where a returns statement may start: past each parameter's first unit (see the module docstring)."""
    if pnames:
        start = pnames[-1] + 1
        while start < end and units[start].kind == "heading":
            start += 1
        return min(start + 1, end)
    index = pre_end
    proto_at = _first(units[pre_end:end], lambda u: u.kind == "proto")
    if proto_at is not None:
        index = pre_end + proto_at + 1
    skipped = 0
    while index < end and skipped < count:
        if units[index].kind not in ("heading", "proto"):
            skipped += 1
        index += 1
    return index


def _soft_returns(units: list[_Unit], start: int, end: int, api: str) -> int | None:
    """The first unit in [start, end) that opens the returns part."""
    short = _short_name(api)
    own = (f"{short} returns", f"{short} does not return", f"The {short} function returns")
    for index in range(start, end):
        unit = units[index]
        if unit.kind == "table" and unit.name == "return":
            return index
        if unit.kind == "para" and (_RETURNS_START.match(unit.text) or unit.text.startswith(own)):
            return index
    return None


def _with_type_line(units: list[_Unit], returns_at: int | None, floor: int, pnames: list[int]) -> int | None:
    """A `Type:` line right before the returns statement belongs to it, unless it opens a parameter's docs."""
    if returns_at is None or returns_at - 1 < max(floor, 1) or units[returns_at - 1].kind != "type":
        return returns_at
    if (returns_at - 2) in pnames or units[returns_at - 2].kind in ("proto", "heading"):
        return returns_at
    return returns_at - 1


def _returns_end(units: list[_Unit], start: int, trust_headings: bool) -> int:
    """End of the returns part: the next heading when the page kept its headings, else by content.

    A page that kept "Syntax" or "Parameters" kept its headings, so whatever
    follows the returns up to the next heading is returns. A page that kept
    only some (the seed kept "Return value" and "See also") is read by
    content, unless the next heading is Remarks.
    """
    n = len(units)
    hard = n
    for index in range(start + 1, n):
        unit = units[index]
        if unit.kind in ("req", "see") or unit.kind == "heading" and unit.name != "returns":
            hard = index
            break
    if hard < n and units[hard].kind == "heading" and (trust_headings or units[hard].name == "remarks"):
        return hard
    last_table = None
    for index in range(start, hard):
        if units[index].kind == "table" and units[index].name == "return":
            last_table = index
    if last_table is not None:
        end = last_table + 1
        while end < hard and units[end].kind == "para" and _RETURNS_TAIL.match(units[end].text):
            end += 1
        return end
    end = start + 1
    while end < hard and units[end - 1].kind in ("heading", "type"):
        end += 1  # the first statement after the heading (or the Type line) is returns whatever it says
    if _VOID.search(units[end - 1].text):
        return end  # "This function does not return a value": nothing more to say
    while end < hard and (units[end].kind == "type" or units[end].kind in ("para", "item", "note") and _still_returns(
            units[end].text)):
        end += 1
    return end


def _still_returns(text: str) -> bool:
    """Whether a paragraph after a returns statement (and no table) still speaks of the result."""
    if _RETURNS_START.match(text) or _RETURNS_TAIL.match(text):
        return True
    if _OTHER_REPORTS.match(text):
        return True  # "SspiGetAsyncCallStatus returns SEC_E_OK ...", "SEC_E_OK is returned ..."
    if text.startswith(("If ", "Otherwise")) and bool(_RETURNISH.search(text)):
        return True
    # "Until the call is completed, status is SEC_I_ASYNC_CALL_PENDING.": a short line naming a code
    return len(text) < 160 and bool(CODE_NAME.search(text)) and not _REMARK_OPENERS.match(text)


def _blocks_of(units: list[_Unit]) -> list[Block]:
    """Content blocks of some units; an Examples heading is kept, as the markdown sources keep it."""
    blocks = []
    for unit in units:
        if unit.kind == "heading":
            if unit.name == "examples":
                blocks.append(Block("heading", unit.text))
        elif unit.kind == "type":
            blocks.append(Block("para", unit.text))
        elif unit.block is not None:
            blocks.append(unit.block)
    return blocks


def _description(parts: PageParts, units: list[_Unit]) -> None:
    parts.description = _blocks_of(units)
    parts.summary = next((u.text for u in units if u.kind == "para"), None)


def _params(units: list[_Unit], pnames: list[int], proto: list[tuple[str, str | None]]) -> list[ParamPart]:
    """Parameters in prototype order, each with its docs; page order when there is no prototype."""
    if not pnames:
        docs = [u for u in units if u.kind not in ("heading", "proto")]
        shared = _share_docs(docs, len(proto))
        return [ParamPart(name, annotation, blocks) for (name, annotation), blocks in zip(proto, shared)]
    documented: dict[str, ParamPart] = {}
    for k, at in enumerate(pnames):
        unit = units[at]
        stop = pnames[k + 1] if k + 1 < len(pnames) else len(units)
        documented.setdefault(unit.name, ParamPart(unit.name, unit.annotation, _blocks_of(units[at + 1:stop])))
    result = []
    for name, annotation in proto:
        part = documented.pop(name, None) or ParamPart(name, None, [])
        part.annotation = part.annotation or annotation
        result.append(part)
    result.extend(documented.values())
    return result


def _share_docs(docs: list[_Unit], count: int) -> list[list[Block]]:
    """Share the doc units among `count` unnamed parameters, or give up rather than guess.

    - as many units as parameters: one each (the common case);
    - one parameter: it gets everything;
    - a `Type:` line at the head of each parameter (exactly `count` of
      them, the first unit being one): each starts a parameter;
    - exactly `count` paragraphs, the first unit being one: each paragraph
      starts a parameter and keeps the tables, items and notes after it;
    - otherwise every parameter gets no docs: an empty doc reads as missing,
      a wrong one would read as true.
    """
    if count == 0:
        return []
    if len(docs) == count:
        return [_blocks_of([u]) for u in docs]
    if count == 1:
        return [_blocks_of(docs)]
    for kind in ("type", "para"):
        starts = [i for i, u in enumerate(docs) if u.kind == kind]
        if len(starts) == count and starts[0] == 0:
            bounds = starts + [len(docs)]
            return [_blocks_of(docs[bounds[k]:bounds[k + 1]]) for k in range(count)]
    return [[] for _ in range(count)]


def _returns(parts: PageParts, units: list[_Unit]) -> None:
    for unit in units:
        if unit.kind == "type":
            parts.return_type = parts.return_type or unit.name
        elif unit.kind != "heading" and unit.block is not None:
            parts.returns.append(unit.block)


def _requirements(parts: PageParts, units: list[_Unit]) -> None:
    for unit in units:
        if unit.kind != "req":
            continue
        key = _REQ_NAMES.get(unit.name)
        if not key or not unit.text:
            continue
        value = unit.text
        if key == "header":
            include = _INCLUDE.match(value)
            if include:
                value = include.group("header")
                parts.req.setdefault("include-header", include.group("include"))
        parts.req.setdefault(key, value)


def _see_also(units: list[_Unit]) -> list[str]:
    """Lines under a See also heading or, with the heading lost, after the requirements table."""
    return [u.text for u in units if u.kind == "see"]
