"""The code pages the model has installed, and how they map bytes to UTF-16 and back.

CP_ACP and CP_THREAD_ACP are 1252 (Windows Latin 1), CP_OEMCP is 437 (the
US OEM page) and CP_MACCP is 10000 (Mac Roman), as on a US-English system;
42 (Symbol), 65000 (UTF-7) and 65001 (UTF-8) are there too. Any other code
page is not installed. Every byte of these single-byte pages maps to a
character (1252's five undefined bytes map to the C1 controls of the same
value, as Windows' table does), so a single-byte string never holds an
invalid character; UTF-8 can.
"""

from __future__ import annotations

import unicodedata

CP_ACP, CP_OEMCP, CP_MACCP, CP_THREAD_ACP = 0, 1, 2, 3
CP_SYMBOL, CP_UTF7, CP_UTF8 = 42, 65000, 65001
ALIASES = {CP_ACP: 1252, CP_THREAD_ACP: 1252, CP_OEMCP: 437, CP_MACCP: 10000}
#: The system default character of the single-byte pages ("typically "?"").
DEFAULT_CHAR = 0x3F
REPLACEMENT = "\ufffd"

#: Code page 437's glyphs for its control bytes (MB_USEGLYPHCHARS: "glyph characters instead of control characters").
_GLYPHS_437 = dict(zip(list(range(1, 32)) + [0x7F], "☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼⌂"))


def _table(codec: str) -> str:
    return "".join(bytes([b]).decode(codec, errors="ignore") or chr(b) for b in range(256))


_TABLES = {1252: _table("cp1252"), 437: _table("cp437"), 10000: _table("mac_roman"),
           CP_SYMBOL: "".join(chr(b if b < 0x20 else 0xF000 + b) for b in range(256))}
_REVERSE = {cp: {ch: b for b, ch in enumerate(table)} for cp, table in _TABLES.items()}


def installed(code_page: int) -> int | None:
    """The code page a CodePage argument names, or None when the model does not have it."""
    number = ALIASES.get(code_page, code_page)
    return number if number in _TABLES or number in (CP_UTF7, CP_UTF8) else None


def decode(code_page: int, data: bytes, glyphs: bool = False) -> tuple[str, bool]:
    """The text of `data` and whether it held an invalid sequence (replaced with U+FFFD)."""
    if code_page == CP_UTF8:
        text = data.decode("utf-8", errors="replace")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return text, True
        return text, False
    if code_page == CP_UTF7:
        return data.decode("utf-7", errors="replace"), False
    table = _TABLES[code_page]
    if glyphs and code_page == 437:
        return "".join(_GLYPHS_437.get(b, table[b]) for b in data), False
    return "".join(table[b] for b in data), False


def units_to_text(units: list[int]) -> tuple[list[str], bool]:
    """UTF-16 units as characters (a surrogate pair is one); lone surrogates become U+FFFD and are reported."""
    out: list[str] = []
    invalid = False
    index = 0
    while index < len(units):
        unit = units[index]
        if 0xD800 <= unit < 0xDC00 and index + 1 < len(units) and 0xDC00 <= units[index + 1] < 0xE000:
            out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (units[index + 1] - 0xDC00)))
            index += 2
            continue
        if 0xD800 <= unit < 0xE000:
            invalid = True
            out.append(REPLACEMENT)
        else:
            out.append(chr(unit))
        index += 1
    return out, invalid


def _best_fit(code_page: int, char: str) -> int | None:
    """A byte that looks like `char` (its compatibility decomposition's base letter), as Windows' best fit maps."""
    base = unicodedata.normalize("NFKD", char)[:1]
    if base and base != char and not unicodedata.combining(base):
        return _REVERSE[code_page].get(base)
    return None


def encode_char(code_page: int, char: str, best_fit: bool) -> bytes | None:
    """The bytes of one character in a single-byte page, or None when the page cannot represent it."""
    if code_page == CP_SYMBOL and 0xF020 <= ord(char) <= 0xF0FF:
        return bytes([ord(char) - 0xF000])
    found = _REVERSE[code_page].get(char)
    if found is None and best_fit:
        found = _best_fit(code_page, char)
    return None if found is None else bytes([found])


#: UTF-7's directly encoded characters (RFC 2152's Set D, space, tab, CR, LF) and NUL, which Windows writes as is.
_UTF7_DIRECT = frozenset(b"\0\t\n\r '(),-./:?0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _utf7(units: list[int]) -> bytes:
    """UTF-7: direct characters as they are, "+" as "+-", every other run of units in base64 between "+" and "-"."""
    out = bytearray()
    index = 0
    while index < len(units):
        unit = units[index]
        if unit in _UTF7_DIRECT or unit == 0x2B:
            out += b"+-" if unit == 0x2B else bytes([unit])
            index += 1
            continue
        bits = count = 0
        out += b"+"
        while index < len(units) and units[index] not in _UTF7_DIRECT and units[index] != 0x2B:
            bits, count = (bits << 16) | units[index], count + 16
            while count >= 6:
                count -= 6
                out.append(_BASE64[(bits >> count) & 0x3F])
            index += 1
        if count:
            out.append(_BASE64[(bits << (6 - count)) & 0x3F])
        out += b"-"
    return bytes(out)


def encode_text(code_page: int, chars: list[str]) -> list[bytes]:
    """The bytes of UTF-8 (per character) or UTF-7 (one piece: base64 runs span characters)."""
    if code_page == CP_UTF8:
        return [char.encode("utf-8", errors="surrogatepass") for char in chars]
    raw = "".join(chars).encode("utf-16-le", errors="surrogatepass")
    return [_utf7([int.from_bytes(raw[i:i + 2], "little") for i in range(0, len(raw), 2)])]
