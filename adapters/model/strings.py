"""Code page conversions, as the stringapiset pages describe them: MultiByteToWideChar and WideCharToMultiByte.

Both take a source length in units (-1: the string is NUL-terminated, and
the NUL is converted and counted) and a destination size (0: return the
size needed and write nothing). They fail by returning 0 with one of the
four last errors the pages list, and run in the caller's process: a bad
source or destination pointer faults, as it would in the real function.
The code pages themselves are in `codepages.py`.
"""

from __future__ import annotations

import unicodedata

from .codepages import (CP_SYMBOL, CP_UTF7, CP_UTF8, DEFAULT_CHAR, decode, encode_char, encode_text, installed,
                        units_to_text)
from .core import export
from .kernel32 import ERROR_INVALID_PARAMETER, KERNEL32, Kernel32Functions
from .structures import signed32

# winnls.h
MB_PRECOMPOSED = 0x00000001
MB_COMPOSITE = 0x00000002
MB_USEGLYPHCHARS = 0x00000004
MB_ERR_INVALID_CHARS = 0x00000008
WC_DISCARDNS = 0x00000010
WC_SEPCHARS = 0x00000020
WC_DEFAULTCHAR = 0x00000040
WC_ERR_INVALID_CHARS = 0x00000080
WC_COMPOSITECHECK = 0x00000200
WC_NO_BEST_FIT_CHARS = 0x00000400
# winerror.h
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_INVALID_FLAGS = 1004
ERROR_NO_UNICODE_TRANSLATION = 1113

MB_FLAGS = MB_PRECOMPOSED | MB_COMPOSITE | MB_USEGLYPHCHARS | MB_ERR_INVALID_CHARS
WC_FLAGS = WC_DISCARDNS | WC_SEPCHARS | WC_DEFAULTCHAR | WC_COMPOSITECHECK | WC_NO_BEST_FIT_CHARS


class StringFunctions(Kernel32Functions):
    """The stringapiset exports; methods are named exactly like the functions they model."""

    def _string_fail(self, code: int, text: str) -> int:
        self.diag(text)
        self.set_last_error(code)
        return 0

    def _code_page(self, CodePage: int, source: int, length: int, destination: int, size: int) -> int | None:
        """The installed code page both functions convert with, once the parameter rules both pages share
        hold; None (the failure set) when they do not."""
        problem = self._buffers_problem(source, length, destination, size)
        if problem:
            self._string_fail(*problem)
            return None
        page = installed(CodePage & 0xFFFFFFFF)
        if page is None:
            self._string_fail(ERROR_INVALID_PARAMETER, f"code page {CodePage & 0xFFFFFFFF} is not installed")
        return page

    def _buffers_problem(self, source: int, length: int, destination: int, size: int) -> tuple[int, str] | None:
        """The parameter rules both pages share, as (last error, why), or None when they hold."""
        if not source:
            return ERROR_INVALID_PARAMETER, "the source string is NULL"
        if length == 0:  # "if cbMultiByte is 0, the function fails" / "If cchWideChar is set to 0, the function fails"
            return ERROR_INVALID_PARAMETER, "the source length is 0"
        if size < 0:
            return ERROR_INVALID_PARAMETER, f"the destination size {size} is negative"
        if not destination and size:
            # "ERROR_INSUFFICIENT_BUFFER. A supplied buffer size was not large enough, or it was incorrectly set
            # to NULL." (Windows and Wine give ERROR_INVALID_PARAMETER here.)
            return ERROR_INSUFFICIENT_BUFFER, "the destination is NULL but its size is not 0"
        if source == destination:  # "The lpMultiByteStr and lpWideCharStr pointers must not be the same."
            return ERROR_INVALID_PARAMETER, "the source and destination pointers are the same"
        return None

    @export(*KERNEL32)
    def MultiByteToWideChar(self, CodePage: int, dwFlags: int, lpMultiByteStr: int, cbMultiByte: int,
                            lpWideCharStr: int, cchWideChar: int) -> int:
        flags, length, size = dwFlags & 0xFFFFFFFF, signed32(cbMultiByte), signed32(cchWideChar)
        page = self._code_page(CodePage, lpMultiByteStr, length, lpWideCharStr, size)
        if page is None:
            return 0
        if page in (CP_UTF7, CP_SYMBOL) and flags:  # "For the code pages listed below, dwFlags must be set to 0"
            return self._string_fail(ERROR_INVALID_FLAGS, f"code page {page} takes no flags")
        if page == CP_UTF8 and flags & ~MB_ERR_INVALID_CHARS:  # "either 0 or MB_ERR_INVALID_CHARS"
            return self._string_fail(ERROR_INVALID_FLAGS, "UTF-8 takes only MB_ERR_INVALID_CHARS")
        if flags & ~MB_FLAGS or flags & (MB_PRECOMPOSED | MB_COMPOSITE) == MB_PRECOMPOSED | MB_COMPOSITE:
            return self._string_fail(ERROR_INVALID_FLAGS, f"dwFlags 0x{flags:X}: unknown flags, or MB_PRECOMPOSED "
                                                          f"with MB_COMPOSITE")
        if length < 0:  # "the function processes the entire input string, including the terminating null character"
            data = self.memory.read_terminated(lpMultiByteStr) + b"\0"
        else:
            data = self.memory.read(lpMultiByteStr, length)
        text, invalid = decode(page, data, glyphs=bool(flags & MB_USEGLYPHCHARS))
        if invalid and flags & MB_ERR_INVALID_CHARS:  # "Fail if an invalid input character is encountered."
            return self._string_fail(ERROR_NO_UNICODE_TRANSLATION, "the string holds an invalid sequence")
        if flags & MB_COMPOSITE:  # "Always use decomposed characters"
            text = unicodedata.normalize("NFD", text)
        units = text.encode("utf-16-le", errors="surrogatepass")
        count = len(units) // 2
        if size == 0:  # "the function returns the required buffer size, in characters"
            return count
        if count > size:
            self.memory.write(lpWideCharStr, units[:2 * size])
            return self._string_fail(ERROR_INSUFFICIENT_BUFFER, f"{count} characters do not fit in {size}")
        self.memory.write(lpWideCharStr, units)
        return count

    @export(*KERNEL32)
    def WideCharToMultiByte(self, CodePage: int, dwFlags: int, lpWideCharStr: int, cchWideChar: int,
                            lpMultiByteStr: int, cbMultiByte: int, lpDefaultChar: int, lpUsedDefaultChar: int) -> int:
        flags, length, size = dwFlags & 0xFFFFFFFF, signed32(cchWideChar), signed32(cbMultiByte)
        page = self._code_page(CodePage, lpWideCharStr, length, lpMultiByteStr, size)
        if page is None:
            return 0
        if page in (CP_UTF7, CP_UTF8) and (lpDefaultChar or lpUsedDefaultChar):
            # "For the CP_UTF7 and CP_UTF8 settings for CodePage, this parameter must be set to NULL. Otherwise,
            # the function fails with ERROR_INVALID_PARAMETER."
            return self._string_fail(ERROR_INVALID_PARAMETER, "UTF-7 and UTF-8 take no default character")
        if (page in (CP_UTF7, CP_SYMBOL) and flags) or (page == CP_UTF8 and flags & ~WC_ERR_INVALID_CHARS) or \
                (page not in (CP_UTF7, CP_UTF8, CP_SYMBOL) and flags & ~WC_FLAGS):
            # "dwFlags must be 0" / "either 0 or WC_ERR_INVALID_CHARS" / "It cannot be used with other code page values"
            return self._string_fail(ERROR_INVALID_FLAGS, f"dwFlags 0x{flags:X} is not valid for code page {page}")
        if length < 0:
            raw = self.memory.read_terminated(lpWideCharStr, width=2) + b"\0\0"
        else:
            raw = self.memory.read(lpWideCharStr, 2 * length)
        chars, invalid = units_to_text([int.from_bytes(raw[i:i + 2], "little") for i in range(0, len(raw), 2)])
        if invalid and flags & WC_ERR_INVALID_CHARS:
            # "Fail (by returning 0 and setting the last-error code to ERROR_NO_UNICODE_TRANSLATION) if an invalid
            # input character is encountered."
            return self._string_fail(ERROR_NO_UNICODE_TRANSLATION, "the string holds a lone surrogate")
        if page in (CP_UTF7, CP_UTF8):
            pieces = encode_text(page, chars)
            defaulted = [False] * len(pieces)
        else:
            default = self.memory.read(lpDefaultChar, 1) if lpDefaultChar else bytes([DEFAULT_CHAR])
            pieces, defaulted = self._single_byte(page, flags, chars, default)
        total = sum(len(piece) for piece in pieces)
        written, used, fits = bytearray(), False, True
        for piece, replaced in zip(pieces, defaulted):
            if size and len(written) + len(piece) > size:
                fits = False
                break
            written += piece
            used = used or replaced
        if lpUsedDefaultChar:  # "The flag is set to TRUE if one or more characters ... cannot be represented"
            self.memory.write_u32(lpUsedDefaultChar, int(used))
        if size == 0:  # "the function returns the required buffer size, in bytes"
            return total
        if not fits:
            if page != CP_SYMBOL:  # "if CodePage is set to CP_SYMBOL ... the function writes no characters"
                self.memory.write(lpMultiByteStr, bytes(written) if page != CP_UTF7 else pieces[0][:size])
            return self._string_fail(ERROR_INSUFFICIENT_BUFFER, f"{total} bytes do not fit in {size}")
        self.memory.write(lpMultiByteStr, bytes(written))
        return total

    @staticmethod
    def _single_byte(page: int, flags: int, chars: list[str], default: bytes) -> tuple[list[bytes], list[bool]]:
        """Each character's byte in a single-byte page, and whether it took the default character."""
        if flags & WC_COMPOSITECHECK:  # "Translate these characters to precomposed characters"
            chars = list(unicodedata.normalize("NFC", "".join(chars)))
        pieces: list[bytes] = []
        defaulted: list[bool] = []
        for char in chars:
            found = encode_char(page, char, best_fit=not flags & WC_NO_BEST_FIT_CHARS)
            if found is None and flags & WC_COMPOSITECHECK and flags & WC_DISCARDNS and unicodedata.combining(char):
                continue  # "Discard nonspacing characters during conversion."
            pieces.append(found if found is not None else default)
            defaulted.append(found is None)
        return pieces, defaulted
