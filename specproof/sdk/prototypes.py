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
from typing import Callable, Iterator, Mapping

from .declarations import (BODY, CODE_TOKEN, DecorationLookup, Prototype, is_identifier, matching, parse_declaration,
                           top_level)
from .defines import is_decoration, leading_word
from .expr import Expand, NotEvaluable, evaluate, substitute, tokenize

__all__ = ["PREDEFINED", "Prototype", "function_candidates", "parse_prototypes"]  # Prototype: declarations.py


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

_AGGREGATE_WORDS = frozenset({"struct", "union", "enum", "class", "typedef", "interface", "namespace"})


def _is_linkage_block(statement: list[str]) -> bool:
    return len(statement) == 2 and statement[0] == "extern" and statement[1] in ('"C"', '"C++"')


def _is_function_body(statement: list[str]) -> bool:
    """Whether a "{" after ``statement`` opens a function body (not a struct or initialiser)."""
    if not statement or not (statement[-1] == ")" or is_identifier(statement[-1])):
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
            end = matching(tokens, index, "{", "}")
            if depth == 0 and _is_function_body(statement):
                yield statement  # an inline definition declares its function too
                statement = []
            else:
                statement.append(BODY)
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
    for statement in statements(CODE_TOKEN.findall(code)):
        parsed = parse_declaration(statement, decoration)
        if parsed is None:
            continue
        name, returns, params = parsed
        if name not in found:
            found[name] = Prototype(name=name, returns=returns, params=params, header=header)
    return found


