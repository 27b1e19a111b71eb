"""The ``#define`` index: collecting definitions and resolving names to values.

Collecting (:class:`DefineCollector`) runs once over every header and keeps
only what can matter later, sorted into three kinds:

* values: object-like macros whose body may be an integer expression. Bare
  literals are evaluated on the spot (most return codes are), the rest are
  kept as text and evaluated on demand, because an alias such as
  ``#define X Y`` can only be resolved once it is known which header's ``Y``
  is meant.
* macros: function-like macros whose body may be an integer expression
  (``_HRESULT_TYPEDEF_(_sc) ((HRESULT)_sc)``,
  ``MAKE_DDHRESULT(code) MAKE_HRESULT(1, _FACDD, code)``), expanded when a
  value uses them, so no SDK's private typedef macro needs hard-coding.
* decorations: macros that expand to nothing or to linkage and calling
  convention (``WINBASEAPI``, ``_In_``, ``STDAPI_(type)``). The prototype
  parser expands them to find the real return type and strip the rest.

Resolving (:class:`DefineTable`) picks among conflicting definitions by
header priority. The same name often has different values in different
headers: ``SEC_E_INVALID_HANDLE`` is ``0x80090301`` in winerror.h but
``0x1301`` in issper16.h, the 16-bit SSPI header. The header a function is
declared in is the best witness of what its docs mean, so it comes first;
winerror.h and ntstatus.h are the canonical homes of HRESULT/Win32 and
NTSTATUS codes, so they come next; every other header follows in a fixed
order that puts 16-bit compatibility headers (stem ending in "16") last.
Within that order the first definition that evaluates wins: a name that one
header defines as a string and another as a number has the number.
Two definitions of one name in one header (``#ifdef`` branches) count in
file order.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

from .expr import (
    BUILTIN_CALLS, KNOWN_WRAPPERS, NotEvaluable, evaluate, parse_int_literal, substitute, to_unsigned, tokenize,
)

__all__ = [
    "LINKAGE_WORDS", "Decoration", "DefineCollector", "DefineTable", "MacroEntry", "ValueEntry",
    "is_decoration", "leading_word", "literal_value", "order_entries",
]

# (header id, body): int when already evaluated, else the expression text.
ValueEntry = tuple[int, "int | str"]
# (header id, parameter names, body text)
MacroEntry = tuple[int, "tuple[str, ...]", str]
# (header id, parameter names or None for object-like, body text)
Decoration = tuple[int, "tuple[str, ...] | None", str]

E = TypeVar("E", bound=tuple)

# name, "(" if function-like, its parameters, body. Not anchored at line
# start: with comments and strings gone "#define" occurs nowhere else, and a
# pattern that starts with a literal is several times faster over 60 MB.
_DEFINE = re.compile(r"#[ \t]*define[ \t]+([A-Za-z_]\w*)(?:(\()([^)\n]*)\))?([^\n]*)")
_PLAUSIBLE_EXPRESSION = re.compile(r"[\w\s()|&^~!<>=+\-*/%?:,'#]+")
_LITERAL_BODY = re.compile(r"(\(\s*)*(-\s*)?((?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)(\s*\))*")
_WORDS_ONLY = re.compile(r"[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*")
_WORDS_AND_PARENS = re.compile(r"[\w\s()]*[A-Za-z_][\w\s()]*")
_WORD = re.compile(r"[A-Za-z_]\w*")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")

# Words that only ever appear in declarations as linkage or calling
# convention: a macro whose body has one of them is a decoration.
LINKAGE_WORDS = frozenset({
    "EXTERN_C", "extern", "__declspec", "__attribute__", "DECLSPEC_IMPORT", "DECLSPEC_EXPORT",
    "__stdcall", "_stdcall", "__cdecl", "_cdecl", "__fastcall", "WINAPI", "NTAPI", "APIENTRY",
    "STDAPICALLTYPE", "STDAPIVCALLTYPE", "STDMETHODCALLTYPE",
})
_LINKAGE_WORD = re.compile(r"\b(?:" + "|".join(sorted(LINKAGE_WORDS)) + r")\b")


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def literal_value(body: str) -> int | None:
    """The value of ``body`` if it is a literal, maybe negated and parenthesised."""
    match = _LITERAL_BODY.fullmatch(body)
    if match is None or not _balanced(body):
        return None
    value = parse_int_literal(match.group(3))
    if value is None:
        return None
    return -value if match.group(2) else value


def leading_word(body: str) -> str | None:
    """The first identifier of a body made of identifiers and parentheses only, else None."""
    if not _WORDS_AND_PARENS.fullmatch(body):
        return None
    match = _WORD.match(body.lstrip())
    return match.group(0) if match is not None else None


def is_decoration(body: str) -> bool:
    """Whether a macro body is a decoration: empty, or linkage without a pointer.

    The pointer check keeps macros that spell a whole function-pointer type
    (``int (WINAPI *)(void)``) out: expanding those would rewrite a type.
    """
    return not body or (_LINKAGE_WORD.search(body) is not None and "*" not in body)


def order_entries(entries: Sequence[E], prefer: tuple[int, ...], rank: Callable[[int], int]) -> list[E]:
    """Entries (header id first) in resolution order: ``prefer`` first, in order, then by rank."""
    if len(entries) == 1:
        return list(entries)
    position: dict[int, int] = {}
    for index, header_id in enumerate(prefer):
        position.setdefault(header_id, index)
    last = len(position)
    # sorted() is stable, so two definitions in one header keep file order
    return sorted(
        entries,
        key=lambda entry: (position[entry[0]], 0) if entry[0] in position else (last, rank(entry[0])),
    )


class DefineCollector:
    """Accumulates the three kinds of definitions over headers given in id order."""

    def __init__(self) -> None:
        self.values: dict[str, list[ValueEntry]] = {}
        self.macros: dict[str, list[MacroEntry]] = {}
        self.decorations: dict[str, list[Decoration]] = {}
        self._alias_bodies: list[tuple[str, int, str]] = []

    def add(self, header_id: int, text: str) -> None:
        """Collect the definitions of one header (spliced, without comments).

        This runs for every ``#define`` in the SDK (over 200,000), so the
        common cases (a literal, an alias) are decided with string methods
        before any regular expression.
        """
        values = self.values
        decorations = self.decorations
        for name, paren, params, body in _DEFINE.findall(text):
            body = body.strip()
            if paren:
                self._add_function_like(header_id, name, params, body)
                continue
            if not body:
                decorations.setdefault(name, []).append((header_id, None, ""))
                continue
            first = body[0]
            if first.isdigit() or first in "(-":
                try:
                    literal: int | None = int(body.rstrip("uUlL"), 0)
                except ValueError:
                    literal = literal_value(body)
                if literal is not None:
                    values.setdefault(name, []).append((header_id, literal))
                    continue
            if _WORDS_ONLY.fullmatch(body):
                words = body.split()
                if LINKAGE_WORDS.isdisjoint(words):
                    body = " ".join(words)
                    values.setdefault(name, []).append((header_id, body))
                    self._alias_bodies.append((name, header_id, body))
                else:
                    decorations.setdefault(name, []).append((header_id, None, body))
                continue
            if _LINKAGE_WORD.search(body):
                if is_decoration(body):
                    decorations.setdefault(name, []).append((header_id, None, body))
                continue
            if _PLAUSIBLE_EXPRESSION.fullmatch(body):
                body = " ".join(body.split())
                values.setdefault(name, []).append((header_id, body))
                if _WORDS_AND_PARENS.fullmatch(body):
                    self._alias_bodies.append((name, header_id, body))

    def _add_function_like(self, header_id: int, name: str, params: str, body: str) -> None:
        if "->" in body:
            return  # COM call macros, most of the function-like macros there are
        names = tuple(part.strip() for part in params.split(",") if part.strip())
        if is_decoration(body):
            self.decorations.setdefault(name, []).append((header_id, names, body))
        elif _PLAUSIBLE_EXPRESSION.fullmatch(body):
            self.macros.setdefault(name, []).append((header_id, names, " ".join(body.split())))

    def finish(self) -> None:
        """Complete the index once every header is in.

        Decorations are closed over aliases: ``#define WINOLEAPI STDAPI``,
        ``#define __RPC_USER __RPC_API`` or ``#define BOOLAPI
        INTERNETAPI_(WINBOOL)`` name no linkage keyword themselves; they are
        decorations because what they start with is one, which is only known
        after all headers are read. (Only the first word counts:
        ``#define LPFOO FOO FAR`` is a type, not a decoration.)

        Value bodies that call a macro no header defines (``__MINGW_NAME_AW``,
        GUID builders) can never evaluate; dropping them keeps the cache and
        the reverse lookup small.
        """
        known = set(self.decorations) | LINKAGE_WORDS
        pending = self._alias_bodies
        changed = True
        while changed:
            changed = False
            remaining = []
            for name, header_id, body in pending:
                if leading_word(body) in known:
                    self.decorations.setdefault(name, []).append((header_id, None, body))
                    known.add(name)
                    changed = True
                else:
                    remaining.append((name, header_id, body))
            pending = remaining
        for entries in self.decorations.values():
            entries.sort(key=lambda entry: entry[0])

        callable_names = set(self.macros) | set(BUILTIN_CALLS) | KNOWN_WRAPPERS | {"defined"}
        for name in list(self.values):
            kept = [entry for entry in self.values[name] if self._may_evaluate(entry[1], callable_names)]
            if kept:
                self.values[name] = kept
            else:
                del self.values[name]

    def _may_evaluate(self, body: int | str, callable_names: set[str]) -> bool:
        if isinstance(body, int):
            return True
        if "(" not in body:
            return "," not in body and (not _WORD.fullmatch(body) or body in self.values)
        return all(called in callable_names for called in _CALL.findall(body))


class DefineTable:
    """Resolves names to values with header priority; see the module docstring.

    ``rank`` orders header ids when no preference applies (winerror.h and
    ntstatus.h first, then the index order). Results are memoised per
    (name, preferred headers), which is what makes repeated lookups from
    thousands of specs cheap.
    """

    def __init__(
        self,
        values: Mapping[str, tuple[ValueEntry, ...]],
        macros: Mapping[str, tuple[MacroEntry, ...]],
        rank: Callable[[int], int],
    ) -> None:
        self._values = values
        self._macros = macros
        self._rank = rank
        self._memo: dict[tuple[str, tuple[int, ...]], int | None] = {}
        self._macro_tokens: dict[str, list[str]] = {}

    def names(self) -> Iterable[str]:
        return self._values.keys()

    def defines(self, name: str) -> bool:
        """Whether any header gives ``name`` a possibly numeric value."""
        return name in self._values

    def first_header(self, name: str) -> int | None:
        """The header whose definition of ``name`` is consulted first when nothing is preferred."""
        entries = self._values.get(name)
        return order_entries(entries, (), self._rank)[0][0] if entries else None

    def resolve(self, name: str, prefer: tuple[int, ...] = ()) -> int | None:
        """The unsigned value of ``name`` preferring the headers in ``prefer``, else None."""
        key = (name, prefer)
        if key in self._memo:
            return self._memo[key]
        try:
            result = to_unsigned(self._raw(name, prefer, set()))
        except (NotEvaluable, RecursionError):
            result = None
        self._memo[key] = result
        return result

    def evaluate(self, text: str, prefer: tuple[int, ...] = ()) -> int | None:
        """The unsigned value of an expression such as ``HRESULT_FROM_WIN32(ERROR_X)``."""
        active: set[str] = set()
        try:
            return to_unsigned(
                evaluate(text, lambda ident: self._raw(ident, prefer, active), self.expander(prefer))
            )
        except (NotEvaluable, RecursionError):
            return None

    def raw(self, name: str, prefer: tuple[int, ...]) -> int:
        """The value before folding to unsigned (as ``#if`` arithmetic needs); raises NotEvaluable."""
        return self._raw(name, prefer, set())

    def expander(self, prefer: tuple[int, ...]) -> Callable[[str, list[list[str]]], list[str] | None]:
        """The ``expand`` callback of :func:`evaluate` for function-like macros of the headers."""

        def expand(name: str, args: list[list[str]]) -> list[str] | None:
            entries = self._macros.get(name)
            if not entries:
                return None
            _, params, body = order_entries(entries, prefer, self._rank)[0]
            key = f"{name}\0{body}"
            tokens = self._macro_tokens.get(key)
            if tokens is None:
                tokens = self._macro_tokens[key] = tokenize(body)
            return substitute(params, tokens, args)

        return expand

    def _raw(self, name: str, prefer: tuple[int, ...], active: set[str]) -> int:
        entries = self._values.get(name)
        if not entries:
            raise NotEvaluable(f"{name} is not defined")
        if name in active:
            raise NotEvaluable(f"{name} refers to itself")
        active.add(name)
        try:
            for header_id, body in order_entries(entries, prefer, self._rank):
                if isinstance(body, int):
                    return body
                inner = prefer if prefer[:1] == (header_id,) else (header_id, *prefer)
                if body.isidentifier():  # an alias, the most common non-literal body
                    try:
                        return self._raw(body, inner, active)
                    except NotEvaluable:
                        continue

                def lookup(ident: str, inner: tuple[int, ...] = inner) -> int:
                    return self._raw(ident, inner, active)

                try:
                    return evaluate(body, lookup, self.expander(inner))
                except NotEvaluable:
                    continue
            raise NotEvaluable(f"no definition of {name} evaluates")
        finally:
            active.discard(name)
