"""C declarations, read one way for every source: a header's statements and a page's syntax block.

Both the SDK headers (sdk/prototypes.py finds the statements) and the
reference pages (a syntax block, often copied without its closing `);`,
often with the docs' own `[in]` before a parameter) declare functions in C.
One tokenizer, one set of decorations (linkage, calling conventions, SAL
annotations with their arguments, however nested: `_When_(lpData == NULL,
_Out_opt_)`, `_Out_writes_bytes_to_opt_(*lpcbData, *lpcbData)`) and one
declarator grammar read them, so a page's parameter names and a header's
are found by the same rules. `declared_name` is the one way from a
documented name (`IFoo::Bar`, `BindProperty~r1`, `CFoo.Bar(int)`) to the
name a declaration uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

__all__ = ["Prototype", "declared_name", "expand_decorations", "join_type", "page_parameters",
           "parse_declaration", "parse_page_prototype"]


@dataclass(frozen=True)
class Prototype:
    """A function declaration: normalised return type, (type, name) params, declaring header."""

    name: str
    returns: str
    params: tuple[tuple[str, str | None], ...]
    header: str



# ---------------------------------------------------------------- tokens

CODE_TOKEN = re.compile(
    r"L?\"(?:\\.|[^\"\\\n])*\"|L?'(?:\\.|[^'\\\n])*'|[A-Za-z_]\w*|\.?\d[\w.]*|\.\.\.|::|->|##|\S"
)
BODY = "{}"  # stands for a skipped brace-enclosed body inside a statement


def matching(tokens: list[str], start: int, opening: str, closing: str) -> int:
    """Index just past the bracket closing the one at ``start``."""
    depth = 0
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token == opening:
            depth += 1
        elif token == closing:
            depth -= 1
            if depth == 0:
                return index + 1
    return len(tokens)


def top_level(tokens: list[str]) -> list[str]:
    """The tokens of ``tokens`` outside any parentheses."""
    outside: list[str] = []
    depth = 0
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            outside.append(token)
    return outside


# ---------------------------------------------------------------- decorations

# Always dropped: storage class, linkage, calling conventions, pointer
# qualifiers the docs never show, and the empty annotation macros every
# Windows SDK defines.
_DROP = frozenset({
    "extern", "static", "inline", "__inline", "__inline__", "__forceinline", "register", "auto",
    "__extension__", "restrict", "__restrict", "__restrict__", "__unaligned", "__ptr32", "__ptr64",
    "__stdcall", "_stdcall", "__cdecl", "_cdecl", "__fastcall", "_fastcall", "__thiscall", "__vectorcall",
    "__clrcall", "WINAPI", "WINAPIV", "APIENTRY", "CALLBACK", "PASCAL", "NTAPI", "SEC_ENTRY", "RPC_ENTRY",
    "STDAPICALLTYPE", "STDAPIVCALLTYPE", "STDMETHODCALLTYPE", "STDMETHODVCALLTYPE", "__RPC_API",
    "__RPC_USER", "__RPC_STUB", "__RPC_CALLEE", "__RPC_FAR", "IMAGEAPI", "WSAAPI", "FAR", "NEAR",
    "far", "near", "_far", "_near", "__far", "__near", "IN", "OUT", "OPTIONAL", "INOUT", "EXTERN_C",
    "DECLSPEC_IMPORT", "DECLSPEC_EXPORT", "NTSYSAPI", "NTSYSCALLAPI", "WINBASEAPI", "WINADVAPI",
    "WINUSERAPI", "WINGDIAPI", "KSECDDDECLSPEC", "FORCEINLINE", "__CRT_INLINE", "__mingw_ovr",
    "_CRTIMP", "__THROW", "__nothrow", "UNALIGNED",
})
# Dropped together with their parenthesised argument.
_DROP_WITH_ARGS = frozenset({
    "__declspec", "_declspec", "__attribute__", "__attribute", "__asm__", "__asm", "asm", "throw",
    "_Pragma", "__pragma",
})
# SAL annotations: _In_, _Out_writes_bytes_(n), _Success_(expr) ... and the
# older __in, __out_opt, __deref_out_ecount(n) ...
_SAL = re.compile(
    r"_[A-Z][A-Za-z0-9_]*_"
    r"|__(?:in|out|inout|deref|reserved|opt|ecount|bcount|xcount|nullterminated|nullnullterminated"
    r"|checkReturn|success|callback|format_string|typefix|override|notnull|maybenull|readonly|valid"
    r"|drv|control_entrypoint|kernel_entry|field|range|allocator|possibly_notnullterminated)(?:_\w*)?"
)
# Linkage and attribute macros recognised by their shape when no header in
# the index defines them.
_DECORATION_SHAPE = re.compile(
    r"__MINGW_\w+|_CRTIMP\w*|__CRT_\w+|_SECIMP|DECLSPEC_\w+|[A-Z][A-Z0-9_]*?(?:API|_API|DECLSPEC|_LINKAGE)"
)
# Return-type macros recognised when no header in the index defines them.
_RETURN_MACROS: Mapping[str, tuple[tuple[str, ...] | None, str]] = {
    "STDAPI": (None, "HRESULT"), "STDAPI_": (("t",), "t"), "STDAPIV": (None, "HRESULT"), "STDAPIV_": (("t",), "t"),
    "STDMETHODIMP": (None, "HRESULT"), "STDMETHODIMP_": (("t",), "t"),
    "WINOLEAPI": (None, "HRESULT"), "WINOLEAPI_": (("t",), "t"),
    "WINOLEAUTAPI": (None, "HRESULT"), "WINOLEAUTAPI_": (("t",), "t"),
}
# The SDK's spelling of a few words mingw-w64 spells its own way:
# minwindef.h has "#define BOOL WINBOOL" and _mingw.h "#define __LONG32 long".
_SPELLING: Mapping[str, str] = {"CONST": "const", "WINBOOL": "BOOL", "__LONG32": "long"}

DecorationLookup = Callable[[str], "tuple[tuple[str, ...] | None, str] | None"]


def is_identifier(token: str) -> bool:
    return token[0].isalpha() or token[0] == "_"


def _split_args(tokens: list[str]) -> list[list[str]]:
    """Comma-separated items of a token list, commas inside brackets ignored."""
    items: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        if token in ("(", "["):
            depth += 1
        elif token in (")", "]"):
            depth -= 1
        elif token == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(token)
    return [] if items == [[]] else items


def expand_decorations(tokens: list[str], decoration: DecorationLookup, depth: int = 0) -> list[str]:
    """``tokens`` with decorations expanded or dropped and SDK spellings applied."""
    out: list[str] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        index += 1
        if token[0] in "\"'" or token[:2] in ('L"', "L'") or token in ("#", "##"):
            continue  # extern "C", deprecation messages
        if not is_identifier(token):
            out.append(token)
            continue
        spelled = _SPELLING.get(token)
        if spelled is not None:
            out.append(spelled)
            continue
        has_args = index < count and tokens[index] == "("
        args_end = matching(tokens, index, "(", ")") if has_args else index
        if token in _DROP:
            continue
        if token in _DROP_WITH_ARGS:
            index = args_end
            continue
        macro = decoration(token) if depth < 12 else None
        if macro is None and token in _RETURN_MACROS:
            macro = _RETURN_MACROS[token]
        if macro is not None:
            params, body = macro
            if params is None:
                out.extend(expand_decorations(CODE_TOKEN.findall(body), decoration, depth + 1))
                continue
            if has_args:
                args = _split_args(tokens[index + 1 : args_end - 1])
                bound = dict(zip(params, args))
                replaced: list[str] = []
                for body_token in CODE_TOKEN.findall(body):
                    replaced.extend(bound.get(body_token, [body_token]))
                out.extend(expand_decorations(replaced, decoration, depth + 1))
                index = args_end
                continue
            out.append(token)
            continue
        if _SAL.fullmatch(token):
            index = args_end  # its arguments are its own, even `(*lpcbData, *lpcbData)` or `(p == NULL, ...)`
            continue
        if _DECORATION_SHAPE.fullmatch(token):
            if has_args and not (index + 1 < count and tokens[index + 1] in ("*", "^")):
                index = args_end  # `FOO_API (*name)(...)` is a declarator, not the macro's arguments
            continue
        out.append(token)
    return out


# ---------------------------------------------------------------- declarations

_TYPE_WORDS = frozenset({
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "const", "volatile",
    "struct", "union", "enum", "_Bool", "__int8", "__int16", "__int32", "__int64", "__int128", "wchar_t",
})
_QUALIFIERS = frozenset({"const", "volatile", "struct", "union", "enum"})
_NOT_NAMES = frozenset({"sizeof", "return", "if", "while", "for", "switch", "typedef", "defined", "__typeof__"})


def join_type(tokens: list[str]) -> str:
    """C tokens as one normalised type: single spaces, ``T*`` not ``T *``."""
    text = ""
    previous = ""
    for token in tokens:
        if text and not (
            token in ("*", ")", "]", "[", ",")
            or previous in ("(", "[")
            or (previous == ")" and token == "(")
        ):
            text += " "
        text += token
        previous = token
    return text


def _parameter(tokens: list[str]) -> tuple[str, str | None]:
    if tokens == ["..."]:
        return ("...", None)
    tokens = list(tokens[: tokens.index("=")] if "=" in tokens else tokens)  # C++ default argument
    pointers = 0
    while tokens and tokens[-1] == "]":  # T name[] / T name[N] -> T*
        start = len(tokens) - 1
        while start > 0 and tokens[start] != "[":
            start -= 1
        del tokens[start:]
        pointers += 1
    # a declarator in parentheses: T (*name)(args), T (&name)[N]
    if "(" in tokens:
        open_at = tokens.index("(")
        close_at = matching(tokens, open_at, "(", ")") - 1
        inner = tokens[open_at + 1 : close_at]
        if inner and inner[0] in ("*", "^", "&"):
            name_at = close_at - 1
            if is_identifier(tokens[name_at]):
                name = tokens[name_at]
                return (join_type(tokens[:name_at] + tokens[name_at + 1 :]), name)
            return (join_type(tokens), None)
    name: str | None = None
    if tokens and is_identifier(tokens[-1]) and tokens[-1] not in _TYPE_WORDS:
        before = [token for token in tokens[:-1] if token not in _QUALIFIERS]
        if before and not (len(tokens) >= 2 and tokens[-2] in ("struct", "union", "enum")):
            name = tokens[-1]
            tokens = tokens[:-1]
    return (join_type(tokens) + "*" * pointers, name)


def _parameters(tokens: list[str]) -> tuple[tuple[str, str | None], ...]:
    items = _split_args(tokens)
    if len(items) == 1 and items[0] in (["void"], ["VOID"]):
        return ()
    return tuple(_parameter(item) for item in items if item)


def parse_declaration(tokens: list[str], decoration: DecorationLookup) -> tuple[str, str, tuple] | None:
    """(name, return type, params) of a function declaration statement, else None."""
    if not tokens or tokens[0] == "typedef" or BODY in tokens:
        return None
    expanded = expand_decorations(tokens, decoration)
    if not expanded or expanded[0] == "typedef" or "=" in top_level(expanded):
        return None
    index = 0
    while index < len(expanded):
        if expanded[index] != "(":
            index += 1
            continue
        end = matching(expanded, index, "(", ")")
        name_at = index - 1
        inner = expanded[index + 1 : end - 1]
        candidate = (
            name_at >= 1
            and is_identifier(expanded[name_at])
            and expanded[name_at] not in _TYPE_WORDS
            and expanded[name_at] not in _NOT_NAMES
            and not (inner and inner[0] in ("*", "^"))
            and "(" not in expanded[:name_at]
            and (end == len(expanded) or expanded[end] != "(")
        )
        if candidate:
            trailing = expanded[end:]
            returns = expanded[:name_at]
            if all(is_identifier(token) for token in trailing) and any(
                is_identifier(token) for token in returns
            ):
                return (expanded[name_at], join_type(returns), _parameters(inner))
            return None
        index = end
    return None


_PAGE_DECORATIONS: Mapping[str, "tuple[tuple[str, ...] | None, str]"] = {
    word: (None, "") for word in (
        "WINAPI", "APIENTRY", "SEC_ENTRY", "NTAPI", "CALLBACK", "STDAPICALLTYPE", "WINBASEAPI", "WINADVAPI",
        "WINUSERAPI", "KSECDDDECLSPEC", "DECLSPEC_IMPORT", "NTSYSAPI", "NTSYSCALLAPI", "NTKERNELAPI", "NTHALAPI",
        "FLTAPI", "WSAAPI", "WINHTTPAPI", "WINSOCK_API_LINKAGE", "IMAGEAPI", "STDMETHODCALLTYPE",
    )
}


def parse_page_prototype(text: str, function: str | None = None) -> Prototype | None:
    """The declaration a reference page shows in its syntax block, as a Prototype.

    Pages copied as text often lose the closing `);`, so an unbalanced
    parameter list is closed before parsing. Only decorations every SDK
    spells the same way are known here; SAL annotations are recognised by
    their shape. `function`, when given, must be the declared name.
    """
    tokens, _ = _page_tokens(text)
    if not tokens:
        return None
    if tokens[-1] == ";":
        tokens.pop()
    parsed = parse_declaration(tokens, _PAGE_DECORATIONS.get)
    if parsed is None:
        return None
    name, returns, params = parsed
    if function is not None and name != function:
        return None
    return Prototype(name=name, returns=returns, params=params, header="")


def page_parameters(text: str, function: str | None = None) -> list[tuple[str, str | None]]:
    """The parameters a syntax block declares, in order: (name, the docs' bracket annotation as written, or None).

    More forgiving than `parse_page_prototype`, because a page's parameter
    docs are placed by these names even when the block is no complete
    declaration: the list is the one after `function` when the text names
    it, else the first that is not a `(*PFN_NAME)` declarator (a callback
    typedef's page). A parameter the block leaves unnamed (`HANDLE`) is
    known by the last word of its type, as a reader of the block would
    refer to it.
    """
    tokens, annotations = _page_tokens(text)
    start = _parameter_list(tokens, function)
    if start < 0:
        return []
    end = matching(tokens, start, "(", ")")
    found: list[tuple[str, str | None]] = []
    first = start + 1
    depth = 0
    for index in range(start + 1, end):
        token = tokens[index]
        if token in ("(", "[", "<"):  # `<` opens a C++ template's arguments: `std::map<K, V> m`
            depth += 1
        elif token in (")", "]", ">") and index < end - 1:
            depth = max(0, depth - 1)
        if (token == "," and depth == 0) or index == end - 1:
            piece = expand_decorations(tokens[first:index], _PAGE_DECORATIONS.get)
            if piece and not (piece in (["void"], ["VOID"]) and not found and index == end - 1):
                type_, name = _parameter(piece)
                if type_ == "...":
                    name = "..."
                elif name is None:
                    name = _type_word(tokens[first:index])
                if name is not None:
                    found.append((name, annotations.get(first)))
            first = index + 1
    return found


def _type_word(tokens: list[str]) -> str | None:
    """The word an unnamed parameter is known by: its type's last word as written (`WINBOOL`, `RECT`)."""
    words: list[str] = []
    depth = 0
    for token in tokens:
        if token in ("(", "["):
            depth += 1  # SAL arguments and array bounds are no part of the type's name
        elif token in (")", "]"):
            depth = max(0, depth - 1)
        elif depth == 0 and is_identifier(token) and token not in _QUALIFIERS and token not in _DROP \
                and not _SAL.fullmatch(token):
            words.append(token)
    return words[-1] if words else None


def _parameter_list(tokens: list[str], function: str | None) -> int:
    """Index of the `(` that opens the parameter list in a page's tokens, or -1."""
    if function:
        for index in range(1, len(tokens)):
            if tokens[index] == "(" and tokens[index - 1] == function:
                return index
    index = tokens.index("(") if "(" in tokens else -1
    while index >= 0:
        end = matching(tokens, index, "(", ")")
        inner = tokens[index + 1:end - 1]
        declarator = (inner and inner[0] in ("*", "^") and all(is_identifier(t) or t in ("*", "^") for t in inner)
                      and end < len(tokens) and tokens[end] == "(")
        if not declarator:
            return index
        index = end
    return -1


def _page_tokens(text: str) -> tuple[list[str], dict[int, str]]:
    """A syntax block's tokens, closed if its copy lost the `)`s, and the docs' own annotations taken out.

    Syntax blocks on driver and C++ pages write the direction in brackets
    where a header has a SAL annotation (`[in] const DEBUG_TYPED_DATA *Typed`);
    it is no part of the type. Only a bracket group right after `(` or `,`
    holding words alone (and `,` or `/` between them) is one; array bounds
    follow a name. The annotations are returned by the index of the token
    that starts their parameter, as the page writes them (`[in, optional]`).
    """
    matches = list(CODE_TOKEN.finditer(text))
    out: list[str] = []
    annotations: dict[int, str] = {}
    index = 0
    while index < len(matches):
        token = matches[index].group()
        if token == "[" and out and out[-1] in ("(", ","):
            end = index + 1
            while end < len(matches) and matches[end].group() != "]" and (
                    matches[end].group() in (",", "/") or is_identifier(matches[end].group())):
                end += 1
            if end < len(matches) and matches[end].group() == "]" and end > index + 1:
                annotations[len(out)] = text[matches[index].start():matches[end].end()]
                index = end + 1
                continue
        out.append(token)
        index += 1
    depth = sum(1 if t == "(" else -1 if t == ")" else 0 for t in out)
    out.extend(")" * max(depth, 0))
    return out, annotations


_MEMBER = re.compile(r"::|\.")


def declared_name(api: str) -> str:
    """The name a declaration uses for a documented name.

    `IDebugControl::Output` and `IFoo.Bar` -> `Output`, `Bar` (a member is
    declared by its own name); `CFoo.Bar(int)` -> `Bar` (an overload's
    signature is no part of it); `BindProperty~r1` -> `BindProperty` (the
    docs' suffix for a second page of one name).
    """
    return _MEMBER.split(api.split("(", 1)[0])[-1].split("~", 1)[0]
