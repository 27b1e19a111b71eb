"""Evaluating C integer constant expressions from header text.

Return codes in the SDK are rarely bare numbers: they are wrapped in casts
(``((NTSTATUS)0xC0000008L)``), in typedef macros
(``_HRESULT_TYPEDEF_(0x80090301L)``), spelled as other names, or built with
``MAKE_HRESULT`` and ``HRESULT_FROM_WIN32``. This module evaluates the
integer subset of C the preprocessor understands (plus casts) and raises
:class:`NotEvaluable` for anything else, so that a value is either the one
the compiler would compute or no value at all.

The evaluator knows nothing about headers. Names go to a ``lookup``
callback; a call ``NAME(args)`` goes first to the SDK macros implemented
here (:data:`BUILTIN_CALLS`; ``__HRESULT_FROM_WIN32`` is an inline function
in winerror.h, so it cannot be expanded from text), then to an ``expand``
callback that returns the macro's replacement tokens, then to the typedef
wrappers every SDK defines the same way (:data:`KNOWN_WRAPPERS`).

Arithmetic uses Python integers; the result is folded to the unsigned form
the docs print (see :func:`to_unsigned`). Casts to 8- and 16-bit unsigned
types truncate; casts to floating types are not evaluable; other casts are
transparent, which is exact for the 32-bit codes this is used for.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

__all__ = [
    "BUILTIN_CALLS", "CAST_MASKS", "FLOATING_TYPES", "KNOWN_WRAPPERS", "NotEvaluable",
    "evaluate", "parse_int_literal", "substitute", "to_unsigned", "tokenize",
]


class NotEvaluable(ValueError):
    """The text is not an integer constant expression this module can compute."""


_SUFFIX = r"(?:[uU]?i64|[uU]?i32|[uUlL]*)"
_TOKEN_ALTERNATIVES = (
    r"(?:0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)" + _SUFFIX + r"(?![\w.])"
    r"|'(?:\\.|[^'\\])'"
    r"|[A-Za-z_]\w*(?!\w)"
    r"|\.\.\.|##|<<|>>|<=|>=|==|!=|&&|\|\||[-+~!*/%<>&|^?:(),#]"
)
_TOKENS = re.compile(r"(?:\s*(?:" + _TOKEN_ALTERNATIVES + r"))*\s*")
_TOKEN_TEXT = re.compile(_TOKEN_ALTERNATIVES)
_INT_LITERAL = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)" + _SUFFIX)

_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "v": 11}

# Typedef wrappers whose body is their argument, for include dirs that use
# them without defining them.
KNOWN_WRAPPERS = frozenset({
    "_HRESULT_TYPEDEF_", "_NDIS_ERROR_TYPEDEF_", "__MSABI_LONG", "_SCODE_TYPEDEF_", "__IPHLP_ERROR_TYPEDEF_",
})

# Casts that change a value: only narrow unsigned types can (the rest are
# 32 or 64 bits wide and the result is folded to unsigned anyway).
CAST_MASKS = {
    "BYTE": 0xFF, "UCHAR": 0xFF, "UINT8": 0xFF, "BOOLEAN": 0xFF, "unsigned char": 0xFF,
    "WORD": 0xFFFF, "USHORT": 0xFFFF, "UINT16": 0xFFFF, "WCHAR": 0xFFFF, "unsigned short": 0xFFFF,
    "ATOM": 0xFFFF, "LANGID": 0xFFFF,
}
FLOATING_TYPES = frozenset({"float", "double", "FLOAT", "DOUBLE", "D3DVALUE"})

_BINARY_PRECEDENCE = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}
_UNARY = frozenset({"-", "+", "~", "!"})

Lookup = Callable[[str], int]
Expand = Callable[[str, "list[list[str]]"], "list[str] | None"]
Defined = Callable[[str], bool]


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def _hresult_from_win32(args: list[int]) -> int:
    # winerror.h: x <= 0 ? x : ((x & 0x0000FFFF) | (FACILITY_WIN32 << 16) | 0x80000000)
    (code,) = args
    signed = _signed32(code)
    return signed if signed <= 0 else (signed & 0xFFFF) | 0x80070000


def _hresult_from_nt(args: list[int]) -> int:
    (status,) = args
    return status | 0x10000000  # FACILITY_NT_BIT


def _make_hresult(args: list[int]) -> int:
    # winerror.h: ((HRESULT) (((unsigned long)(sev)<<31) | ((unsigned long)(fac)<<16) | ((unsigned long)(code))))
    severity, facility, code = (arg & 0xFFFFFFFF for arg in args)
    return ((severity << 31) | (facility << 16) | code) & 0xFFFFFFFF


def _winapi_family_partition(args: list[int]) -> int:
    # winapifamily.h with WINAPI_FAMILY = WINAPI_FAMILY_DESKTOP_APP (0x3),
    # the family a desktop build sees.
    (partition,) = args
    return int((3 & partition) == partition)


BUILTIN_CALLS: dict[str, tuple[int, Callable[[list[int]], int]]] = {
    "HRESULT_FROM_WIN32": (1, _hresult_from_win32),
    "__HRESULT_FROM_WIN32": (1, _hresult_from_win32),
    "HRESULT_FROM_NT": (1, _hresult_from_nt),
    "MAKE_HRESULT": (3, _make_hresult),
    "MAKE_SCODE": (3, _make_hresult),
    "WINAPI_FAMILY_PARTITION": (1, _winapi_family_partition),
}


def sign_extend(value: int) -> int:
    """A value folded to 32 bits as a 64-bit pointer or handle holds it: a negative LONG cast to a pointer
    (`(HANDLE)-1`, `(HKEY)(ULONG_PTR)((LONG)0x80000001)`) fills the upper half with ones."""
    if 0x8000_0000 <= value <= 0xFFFF_FFFF:
        return value | 0xFFFF_FFFF_0000_0000
    return value


def to_unsigned(value: int) -> int | None:
    """Fold a computed value to the unsigned form SDK docs print.

    Values that fit in 32 bits (signed or unsigned) come back as unsigned
    32-bit; wider ones as unsigned 64-bit; anything wider than that is not a
    value C could hold, so None.
    """
    if -0x8000_0000 <= value <= 0xFFFF_FFFF:
        return value & 0xFFFF_FFFF
    if -0x8000_0000_0000_0000 <= value <= 0xFFFF_FFFF_FFFF_FFFF:
        return value & 0xFFFF_FFFF_FFFF_FFFF
    return None


def parse_int_literal(text: str) -> int | None:
    """The value of a bare integer literal such as ``0x80090301L``, else None."""
    match = _INT_LITERAL.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    if digits[:2] in ("0x", "0X"):
        return int(digits[2:], 16)
    if digits[:2] in ("0b", "0B"):
        return int(digits[2:], 2)
    if len(digits) > 1 and digits[0] == "0":
        if not all(ch in "01234567" for ch in digits):
            return None
        return int(digits, 8)
    return int(digits)


def _char_value(literal: str) -> int:
    body = literal[1:-1]
    if body[0] != "\\":
        return ord(body)
    if body[1] in _ESCAPES:
        return _ESCAPES[body[1]]
    raise NotEvaluable(literal)


def tokenize(text: str) -> list[str]:
    """Split expression text into tokens; anything unexpected is not evaluable."""
    if not _TOKENS.fullmatch(text):
        raise NotEvaluable(text)
    return _TOKEN_TEXT.findall(text)


def substitute(params: Sequence[str], body: Sequence[str], args: list[list[str]]) -> list[str]:
    """The replacement tokens of a function-like macro call, with ``##`` pasting.

    Stringizing (``#x``) and variadic macros make no integers; they are not
    evaluable.
    """
    if len(args) != len(params) and not (not params and args == [[]]):
        raise NotEvaluable("wrong number of macro arguments")
    if "..." in params:
        raise NotEvaluable("variadic macro")
    bound = dict(zip(params, args))
    out: list[str] = []
    for token in body:
        if token == "#":
            raise NotEvaluable("stringizing")
        out.extend(bound.get(token, (token,)))
    while "##" in out:
        at = out.index("##")
        if at == 0 or at == len(out) - 1:
            raise NotEvaluable("misplaced ##")
        pasted = tokenize(out[at - 1] + out[at + 1])
        if len(pasted) != 1:
            raise NotEvaluable("## does not make one token")
        out[at - 1 : at + 2] = pasted
    return out


class _Parser:
    """Recursive descent over tokens; ``skip`` > 0 parses without evaluating (short circuits)."""

    def __init__(
        self, tokens: list[str], lookup: Lookup, expand: Expand | None, defined: Defined | None,
        expanding: set[str],
    ) -> None:
        self.tokens = [*tokens, ""]
        self.pos = 0
        self.lookup = lookup
        self.expand = expand
        self.defined = defined
        self.expanding = expanding
        self.skip = 0

    # self.tokens ends with "" so that looking one token ahead never fails.

    def peek(self) -> str:
        return self.tokens[self.pos]

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos]
        if not token or (expected is not None and token != expected):
            raise NotEvaluable(f"expected {expected or 'a token'}, got {token!r}")
        self.pos += 1
        return token

    def parse(self) -> int:
        value = self.conditional()
        if self.tokens[self.pos]:
            raise NotEvaluable(f"trailing {self.tokens[self.pos]!r}")
        return value

    def skipped(self, parse: Callable[[], int], skip: bool) -> int:
        if skip:
            self.skip += 1
        try:
            return parse()
        finally:
            if skip:
                self.skip -= 1

    def conditional(self) -> int:
        condition = self.binary(1)
        if self.tokens[self.pos] != "?":
            return condition
        self.take("?")
        when_true = self.skipped(self.conditional, not condition)
        self.take(":")
        when_false = self.skipped(self.conditional, bool(condition))
        return when_true if condition else when_false

    def binary(self, min_precedence: int) -> int:
        left = self.unary()
        tokens = self.tokens
        while True:
            op = tokens[self.pos]
            precedence = _BINARY_PRECEDENCE.get(op)
            if precedence is None or precedence < min_precedence:
                return left
            self.take()
            decided = (op == "&&" and not left) or (op == "||" and bool(left))
            right = self.skipped(lambda: self.binary(precedence + 1), decided)
            left = self.apply(op, left, right) if not self.skip else 0

    @staticmethod
    def apply(op: str, left: int, right: int) -> int:
        if op in ("/", "%"):
            if right == 0:
                raise NotEvaluable("division by zero")
            quotient = abs(left) // abs(right) * (1 if (left < 0) == (right < 0) else -1)
            return quotient if op == "/" else left - quotient * right
        if op in ("<<", ">>"):
            if right < 0 or right > 127:
                raise NotEvaluable("shift out of range")
            return left << right if op == "<<" else left >> right
        if op == "||":
            return int(bool(left) or bool(right))
        if op == "&&":
            return int(bool(left) and bool(right))
        if op == "|":
            return left | right
        if op == "^":
            return left ^ right
        if op == "&":
            return left & right
        if op == "==":
            return int(left == right)
        if op == "!=":
            return int(left != right)
        if op == "<":
            return int(left < right)
        if op == ">":
            return int(left > right)
        if op == "<=":
            return int(left <= right)
        if op == ">=":
            return int(left >= right)
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        return left * right

    def unary(self) -> int:
        token = self.tokens[self.pos]
        if token in _UNARY:
            self.take()
            value = self.unary()
            if token == "-":
                return -value
            if token == "~":
                return ~value
            if token == "!":
                return int(not value)
            return value
        if token == "(":
            cast = self.cast_type()
            if cast is not None:
                if FLOATING_TYPES.intersection(cast.split()):
                    raise NotEvaluable(f"cast to {cast}")
                value = self.unary()
                mask = CAST_MASKS.get(cast)
                return value & mask if mask is not None else value
        return self.primary()

    def cast_type(self) -> str | None:
        """If a cast starts here, consume it and return the type's spelling."""
        words: list[str] = []
        tokens = self.tokens
        index = self.pos + 1
        while True:
            token = tokens[index]
            if token == ")":
                break
            if token and (token == "*" or token[0].isalpha() or token[0] == "_"):
                words.append(token)
                index += 1
                continue
            return None
        if not words or words[0] == "*":
            return None
        following = tokens[index + 1]
        if not following or not (following in _UNARY or following == "(" or following[0].isalnum()
                                 or following[0] in "_'"):
            return None
        if len(words) == 1 and (words[0] == "defined" or self.is_value(words[0])):
            return None  # "(NAME) - 1" with NAME a value is arithmetic, not a cast
        self.pos = index + 1
        return " ".join(words)

    def is_value(self, name: str) -> bool:
        try:
            self.lookup(name)
        except NotEvaluable:
            return False
        return True

    def arguments(self) -> list[list[str]]:
        self.take("(")
        args: list[list[str]] = [[]]
        depth = 0
        while True:
            token = self.take()
            if token == "(":
                depth += 1
            elif token == ")":
                if depth == 0:
                    break
                depth -= 1
            elif token == "," and depth == 0:
                args.append([])
                continue
            args[-1].append(token)
        return [] if args == [[]] else args

    def sub(self, tokens: list[str]) -> int:
        parser = _Parser(tokens, self.lookup, self.expand, self.defined, self.expanding)
        parser.skip = self.skip
        return parser.parse()

    def primary(self) -> int:
        token = self.take()
        if token == "(":
            value = self.conditional()
            self.take(")")
            return value
        if token[0].isdigit():
            value = parse_int_literal(token)
            if value is None:
                raise NotEvaluable(token)
            return value
        if token[0] == "'":
            return _char_value(token)
        if not (token[0].isalpha() or token[0] == "_"):
            raise NotEvaluable(f"unexpected {token!r}")
        if token == "defined" and self.defined is not None:
            parenthesised = self.peek() == "("
            if parenthesised:
                self.take("(")
            name = self.take()
            if parenthesised:
                self.take(")")
            return int(self.defined(name))
        if self.peek() == "(":
            return self.call(token)
        return 0 if self.skip else self.lookup(token)

    def call(self, name: str) -> int:
        if name == "sizeof":
            raise NotEvaluable("sizeof")
        args = self.arguments()
        if self.skip:
            return 0
        builtin = BUILTIN_CALLS.get(name)
        if builtin is not None:
            arity, function = builtin
            if len(args) != arity:
                raise NotEvaluable(f"{name} takes {arity} arguments")
            return function([self.sub(arg) for arg in args])
        if name in self.expanding:
            raise NotEvaluable(f"{name} expands to itself")
        replacement = self.expand(name, args) if self.expand is not None else None
        if replacement is not None:
            self.expanding.add(name)
            try:
                return self.sub(replacement)
            finally:
                self.expanding.discard(name)
        if name in KNOWN_WRAPPERS and len(args) == 1:
            return self.sub(args[0])
        raise NotEvaluable(f"unknown macro {name}()")


def evaluate(
    text: str | Iterable[str],
    lookup: Lookup,
    expand: Expand | None = None,
    defined: Defined | None = None,
) -> int:
    """Evaluate ``text`` (or its tokens); raises NotEvaluable.

    ``lookup(name)`` gives the value of an identifier or raises
    NotEvaluable; ``expand(name, args)`` gives the replacement tokens of a
    function-like macro call or None if there is no such macro;
    ``defined`` enables the ``defined`` operator of ``#if`` lines.
    """
    tokens = tokenize(text) if isinstance(text, str) else list(text)
    if not tokens:
        raise NotEvaluable("empty")
    return _Parser(tokens, lookup, expand, defined, set()).parse()
