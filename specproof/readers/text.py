"""Text normalisation shared by every reader.

Real pages carry CRLF, NBSP and U+202F, private-use glyphs and stray BOMs;
the spec must not depend on which of those a page happened to use, or two
copies of one page would give different digests of the same sentence.
"""

from __future__ import annotations

import hashlib
import re

from .parts import PageError

_SPACES = (("\u00a0", " "), ("\u202f", " "), ("\u2007", " "), ("\u2009", " "), ("\ufeff", ""), ("\u200b", ""))
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


_CONTROL_BYTES = bytes(range(0x09)) + bytes(range(0x0E, 0x20))
_OTHER_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)


def _control_count(raw: bytes, text: str) -> int:
    """How many control characters the first 8 KiB characters of the page hold.

    An ASCII page's characters are its bytes, and bytes.translate counts them
    in one pass where the regular expression takes many times longer.
    """
    if raw.isascii():
        return len(raw[:8192].translate(None, _OTHER_BYTES))
    return len(_CONTROL.findall(text[:8192]))


def decode_page(raw: bytes) -> str:
    """Bytes of a page to normalised text; raises PageError for input that is not a text page."""
    if not raw or raw.isspace():
        raise PageError("empty file: there is nothing to read")
    if b"\x00" in raw[:8192]:
        raise PageError("binary data (NUL bytes): not a text page")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PageError(f"not UTF-8 text (byte {exc.start}: {exc.reason}); pages are read as UTF-8") from exc
    if _control_count(raw, text) > 8:
        raise PageError("binary data (control characters): not a text page")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():  # the characters below are all outside ASCII
        return text
    for odd, plain in _SPACES:  # str.replace is many times faster than str.translate on long text
        if odd in text:
            text = text.replace(odd, plain)
    return _PRIVATE_USE.sub("", text) if _PRIVATE_USE.search(text) else text


def fold(text: str) -> str:
    """Collapse all runs of white space to one space and strip the ends."""
    return " ".join(text.split())


def digest_bytes(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def digest_text(text: str) -> str:
    """Digest of a sentence's normalised form, so reflowing or re-marking it changes nothing."""
    return "sha256:" + hashlib.sha256(fold(text).casefold().encode("utf-8")).hexdigest()[:16]


_MONTHS_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")


def iso_date(value: str | None) -> str | None:
    """`06/20/2024` or `11/4/2019` (ms.date is month/day/year) to ISO; None if unrecognised."""
    if not value:
        return None
    m = _MONTHS_DATE.match(value)
    if m:
        month, day, year = (int(g) for g in m.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
        return None
    m = _ISO_DATE.match(value)
    return "-".join(m.groups()) if m else None
