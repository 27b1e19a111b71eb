"""Finding function declarations in a header and normalising their types.

Doc pages often omit or garble parameter types; the header is the ground
truth. A header is read the way a C compiler targeting 64-bit desktop
Windows would see it, with a few simplifications that keep it
self-contained:

* conditionals are evaluated with the header's own ``#define``s, a fixed
  target (:data:`PREDEFINED`) and the value index for names defined
  elsewhere. A condition that cannot be decided (an unknown function-like
  macro) takes its first branch, so an ``#if X ... #else ... #endif`` in the
  middle of a parameter list still yields one parameter list, never both.
* only macros that are *decorations* (expanding to nothing or to linkage
  and calling convention, e.g. ``WINBASEAPI``, ``_In_``, ``STDAPI_(type)``)
  are expanded; type names stay as the SDK spells them (``PCtxtHandle``),
  because that is how the docs spell them too.
* a function the target configuration compiles out (sspi.h declares the
  ``Sspi*Async`` functions only for kernel mode) is looked for again in a
  view where every configuration conditional takes its first branch.
* only top-level statements are considered: ``typedef``s (function-pointer
  types), struct and interface members, initialisers and the bodies of
  inline functions are skipped, so ``DELETE_SECURITY_CONTEXT_FN
  DeleteSecurityContext;`` inside a dispatch table or a call inside an
  inline body is never taken for a declaration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from .defines import is_decoration, leading_word
from .expr import Expand, NotEvaluable, evaluate, substitute, tokenize

__all__ = ["PREDEFINED", "Prototype", "function_candidates", "parse_prototypes"]


@dataclass(frozen=True)
class Prototype:
    """A function declaration: normalised return type, (type, name) params, declaring header."""

    name: str
    returns: str
    params: tuple[tuple[str, str | None], ...]
    header: str


# The compilation target the headers are read for: mingw-w64 gcc, C (not
# C++), x86-64, desktop family, Windows 10.
PREDEFINED: Mapping[str, int] = {
    "_WIN32": 1, "WIN32": 1, "_WIN64": 1, "__MINGW32__": 1, "__MINGW64__": 1,
    "__x86_64__": 1, "__x86_64": 1, "_M_AMD64": 100, "_M_X64": 100, "_AMD64_": 1,
    "__GNUC__": 13, "__GNUC_MINOR__": 0, "__STDC__": 1, "__STDC_VERSION__": 201710,
    "_WIN32_WINNT": 0x0A00, "WINVER": 0x0A00, "_WIN32_IE": 0x0A00, "NTDDI_VERSION": 0x0A00000C,
    "WINAPI_FAMILY": 3,
}

# ---------------------------------------------------------------- candidates

# Matched on reversed text: "name(" preceded by a word (not a keyword such
# as "return"), "*" or ")" (as in "STDAPI_(BOOL) name(") is the shape of a
# declarator; reversing turns the pattern into one that starts with a
# literal "(", which the regex engine finds several times faster.
_NOT_A_TYPE = frozenset({
    "return", "sizeof", "if", "while", "switch", "case", "else", "do", "defined", "goto",
    "__asm__", "__asm", "asm", "typeof", "__typeof__",
})
_REVERSED_DECLARATOR = re.compile(
    r"\([ \t\n]*(\w+)[ \t\n*]+(?!(?:" + "|".join(sorted(word[::-1] for word in _NOT_A_TYPE)) + r")\b)[\w*)]"
)


def function_candidates(text: str) -> set[str]:
    """Names that may be declared as functions in ``text`` (a superset, cheap to compute)."""
    return {name[::-1] for name in set(_REVERSED_DECLARATOR.findall(text[::-1])) if not name[-1].isdigit()}


# ---------------------------------------------------------------- preprocessing

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# Names about the language and compiler rather than the configuration: even
# the first-branch view decides these, so it reads C, not C++ classes.
_LANGUAGE_NAMES = frozenset(PREDEFINED) | {"defined", "__cplusplus", "_MSC_VER", "__clang__", "__STDC__"}
_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*(\w*)[ \t]*(.*)")
_MACRO_HEAD = re.compile(r"([A-Za-z_]\w*)(\([^)]*\))?[ \t]*(.*)")

LocalMacros = dict[str, tuple["tuple[str, ...] | None", str]]


class _Conditions:
    """The ``#if`` machinery for one header; see the module docstring."""

    def __init__(
        self,
        global_value: Callable[[str], int],
        globally_defined: Callable[[str], bool],
        expand: Expand,
        decide: bool = True,
    ) -> None:
        self.decide = decide
        self.macros: LocalMacros = {}
        self.undefined: set[str] = set()
        self.global_value = global_value
        self.globally_defined = globally_defined
        self.global_expand = expand
        self._evaluating: set[str] = set()

    def defined(self, name: str) -> bool:
        return name in self.macros or (name in PREDEFINED and name not in self.undefined)

    def lookup(self, name: str) -> int:
        if name in self.macros:
            params, body = self.macros[name]
            if params is not None or name in self._evaluating:
                raise NotEvaluable(name)
            self._evaluating.add(name)
            try:
                return evaluate(body, self.lookup, self.expand, self.defined)
            finally:
                self._evaluating.discard(name)
        if name in self.undefined:
            return 0
        if name in PREDEFINED:
            return PREDEFINED[name]
        if self.globally_defined(name):
            return self.global_value(name)
        return 0  # the preprocessor's rule for an identifier nobody defines

    def expand(self, name: str, args: list[list[str]]) -> list[str] | None:
        if name in self.macros:
            params, body = self.macros[name]
            if params is None:
                raise NotEvaluable(f"{name} is not function-like")
            return substitute(params, tokenize(body), args)
        if name in self.undefined:
            return None
        return self.global_expand(name, args)

    def holds(self, expression: str) -> bool:
        if not self.decide and not _LANGUAGE_NAMES.issuperset(_IDENTIFIER.findall(expression)):
            return True
        try:
            return bool(evaluate(expression, self.lookup, self.expand, self.defined))
        except (NotEvaluable, RecursionError):
            return True  # undecidable: take the first branch

    def define(self, rest: str) -> None:
        match = _MACRO_HEAD.match(rest)
        if match is None:
            return
        name, params, body = match.groups()
        param_names = None if params is None else tuple(p.strip() for p in params[1:-1].split(",") if p.strip())
        self.macros[name] = (param_names, body.strip())
        self.undefined.discard(name)

    def undefine(self, rest: str) -> None:
        name = rest.split()[0] if rest.split() else ""
        self.macros.pop(name, None)
        self.undefined.add(name)


def active_code(text: str, conditions: _Conditions) -> str:
    """The non-directive lines of ``text`` that the target compiles."""
    kept: list[str] = []
    # per nesting level: [enclosing level active, a branch was taken, this branch active]
    stack: list[list[bool]] = []
    active = True
    for line in text.split("\n"):
        stripped = line.lstrip()
        if not stripped.startswith("#"):
            if active and stripped:
                kept.append(line)
            continue
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        directive, rest = match.groups()
        rest = rest.strip()
        if directive in ("if", "ifdef", "ifndef"):
            if not active:
                stack.append([False, True, False])
            else:
                if directive != "if":
                    name = rest.split()[0] if rest.split() else "_"
                    rest = f"defined({name})" if directive == "ifdef" else f"!defined({name})"
                holds = conditions.holds(rest)
                stack.append([True, holds, holds])
        elif directive == "elif" and stack:
            level = stack[-1]
            if level[0] and not level[1]:
                level[2] = conditions.holds(rest)
                level[1] = level[2]
            else:
                level[2] = False
        elif directive == "else" and stack:
            level = stack[-1]
            level[2] = level[0] and not level[1]
            level[1] = True
        elif directive == "endif" and stack:
            stack.pop()
        elif active and directive == "define":
            conditions.define(rest)
        elif active and directive == "undef":
            conditions.undefine(rest)
        active = stack[-1][2] if stack else True
    return "\n".join(kept)


# ---------------------------------------------------------------- statements

_CODE_TOKEN = re.compile(
    r"L?\"(?:\\.|[^\"\\\n])*\"|L?'(?:\\.|[^'\\\n])*'|[A-Za-z_]\w*|\.?\d[\w.]*|\.\.\.|::|->|##|\S"
)
_BODY = "{}"  # stands for a skipped brace-enclosed body inside a statement
_AGGREGATE_WORDS = frozenset({"struct", "union", "enum", "class", "typedef", "interface", "namespace"})


def _matching(tokens: list[str], start: int, opening: str, closing: str) -> int:
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


def _is_linkage_block(statement: list[str]) -> bool:
    return len(statement) == 2 and statement[0] == "extern" and statement[1] in ('"C"', '"C++"')


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


def _is_function_body(statement: list[str]) -> bool:
    """Whether a "{" after ``statement`` opens a function body (not a struct or initialiser)."""
    if not statement or not (statement[-1] == ")" or _is_identifier(statement[-1])):
        return False
    outside = top_level(statement)
    return ")" in statement and "=" not in outside and not _AGGREGATE_WORDS.intersection(outside)


def statements(tokens: list[str]) -> Iterator[list[str]]:
    """Top-level statements; bodies are skipped, ``extern "C" { }`` is see-through."""
    statement: list[str] = []
    index = 0
    depth = 0  # parentheses
    while index < len(tokens):
        token = tokens[index]
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(0, depth - 1)
        elif token == ";" and depth == 0:
            yield statement
            statement = []
            index += 1
            continue
        elif token == "{":
            if depth == 0 and _is_linkage_block(statement):
                statement = []
                index += 1
                continue
            end = _matching(tokens, index, "{", "}")
            if depth == 0 and _is_function_body(statement):
                yield statement  # an inline definition declares its function too
                statement = []
            else:
                statement.append(_BODY)
            index = end
            continue
        elif token == "}":
            statement = []  # end of an extern "C" block (or a stray brace)
            depth = 0
            index += 1
            continue
        statement.append(token)
        index += 1
    # an unterminated last statement is not a declaration


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


def _is_identifier(token: str) -> bool:
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
        if not _is_identifier(token):
            out.append(token)
            continue
        spelled = _SPELLING.get(token)
        if spelled is not None:
            out.append(spelled)
            continue
        has_args = index < count and tokens[index] == "("
        args_end = _matching(tokens, index, "(", ")") if has_args else index
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
                out.extend(expand_decorations(_CODE_TOKEN.findall(body), decoration, depth + 1))
                continue
            if has_args:
                args = _split_args(tokens[index + 1 : args_end - 1])
                bound = dict(zip(params, args))
                replaced: list[str] = []
                for body_token in _CODE_TOKEN.findall(body):
                    replaced.extend(bound.get(body_token, [body_token]))
                out.extend(expand_decorations(replaced, decoration, depth + 1))
                index = args_end
                continue
            out.append(token)
            continue
        if _SAL.fullmatch(token) or _DECORATION_SHAPE.fullmatch(token):
            if has_args and not (index + 1 < count and tokens[index + 1] in ("*", "^")):
                index = args_end
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
    # function pointer: T (*name)(args)
    if "(" in tokens:
        open_at = tokens.index("(")
        close_at = _matching(tokens, open_at, "(", ")") - 1
        inner = tokens[open_at + 1 : close_at]
        if inner and inner[0] in ("*", "^"):
            name_at = close_at - 1
            if _is_identifier(tokens[name_at]):
                name = tokens[name_at]
                return (join_type(tokens[:name_at] + tokens[name_at + 1 :]), name)
            return (join_type(tokens), None)
    name: str | None = None
    if tokens and _is_identifier(tokens[-1]) and tokens[-1] not in _TYPE_WORDS:
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
    if not tokens or tokens[0] == "typedef" or _BODY in tokens:
        return None
    expanded = expand_decorations(tokens, decoration)
    if not expanded or expanded[0] == "typedef" or "=" in top_level(expanded):
        return None
    index = 0
    while index < len(expanded):
        if expanded[index] != "(":
            index += 1
            continue
        end = _matching(expanded, index, "(", ")")
        name_at = index - 1
        inner = expanded[index + 1 : end - 1]
        candidate = (
            name_at >= 1
            and _is_identifier(expanded[name_at])
            and expanded[name_at] not in _TYPE_WORDS
            and expanded[name_at] not in _NOT_NAMES
            and not (inner and inner[0] in ("*", "^"))
            and "(" not in expanded[:name_at]
            and (end == len(expanded) or expanded[end] != "(")
        )
        if candidate:
            trailing = expanded[end:]
            returns = expanded[:name_at]
            if all(_is_identifier(token) for token in trailing) and any(
                _is_identifier(token) for token in returns
            ):
                return (expanded[name_at], join_type(returns), _parameters(inner))
            return None
        index = end
    return None


def parse_prototypes(
    text: str,
    header: str,
    global_value: Callable[[str], int],
    globally_defined: Callable[[str], bool],
    expand: Expand,
    global_decoration: DecorationLookup,
    decide: bool = True,
) -> dict[str, Prototype]:
    """Every function declared in one header (spliced, without comments); first declaration wins.

    ``global_value``/``globally_defined``/``expand`` answer for names and
    macros the header uses in ``#if`` but does not define; ``global_decoration`` gives the
    decoration macros of other headers (the header's own definitions win).

    With ``decide=False`` every conditional about the configuration takes
    its first branch instead of being evaluated (conditions about the
    language and compiler, and constant ones like ``#if 0``, still count). That view finds declarations the target
    configuration compiles out, such as sspi.h's ``Sspi*Async`` functions,
    which mingw-w64 declares only under ``#if ISSP_MODE == 0`` (kernel
    mode), while still giving each of them one consistent parameter list.
    """
    conditions = _Conditions(global_value, globally_defined, expand, decide)
    code = active_code(text, conditions)
    local = conditions.macros

    resolving: set[str] = set()

    def decoration(name: str) -> tuple[tuple[str, ...] | None, str] | None:
        if name not in local:
            return global_decoration(name)
        params, body = local[name]
        if is_decoration(body):
            return (params, body)
        if name in resolving:
            return None
        # "#define BOOLAPI INTERNETAPI_(WINBOOL)": a decoration by what it starts with
        resolving.add(name)
        try:
            first = leading_word(body)
            if first is not None and first not in (params or ()) and decoration(first) is not None:
                return (params, body)
        finally:
            resolving.discard(name)
        return None

    found: dict[str, Prototype] = {}
    for statement in statements(_CODE_TOKEN.findall(code)):
        parsed = parse_declaration(statement, decoration)
        if parsed is None:
            continue
        name, returns, params = parsed
        if name not in found:
            found[name] = Prototype(name=name, returns=returns, params=params, header=header)
    return found


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
    tokens = _doc_annotations_dropped(_CODE_TOKEN.findall(text))
    if not tokens:
        return None
    depth = sum(1 if t == "(" else -1 if t == ")" else 0 for t in tokens)
    tokens.extend(")" * max(depth, 0))
    if tokens[-1] == ";":
        tokens.pop()
    parsed = parse_declaration(tokens, _PAGE_DECORATIONS.get)
    if parsed is None:
        return None
    name, returns, params = parsed
    if function is not None and name != function:
        return None
    return Prototype(name=name, returns=returns, params=params, header="")


def _doc_annotations_dropped(tokens: list[str]) -> list[str]:
    """Tokens without the docs' own `[in]`, `[in, out]`, `[out, optional]` before a parameter.

    Syntax blocks on driver and C++ pages write the direction in brackets
    where a header has a SAL annotation (`[in] const DEBUG_TYPED_DATA *Typed`);
    it is no part of the type. Only a bracket group right after `(` or `,`
    holding words alone is one; array bounds follow a name.
    """
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "[" and out and out[-1] in ("(", ","):
            end = index + 1
            while end < len(tokens) and tokens[end] != "]" and (tokens[end] == "," or _is_identifier(tokens[end])):
                end += 1
            if end < len(tokens) and tokens[end] == "]" and end > index + 1:
                index = end + 1
                continue
        out.append(token)
        index += 1
    return out
