"""The model's code page conversions, against the stringapiset pages' words (adapters/model/strings.py,
codepages.py)."""

from __future__ import annotations

from specproof.adapter.contract import CallResult
from specproof_adapters.model import ModelAdapter

from modelcalls import call, data, failed

ERROR_INVALID_PARAMETER, ERROR_INSUFFICIENT_BUFFER, ERROR_INVALID_FLAGS = 87, 122, 1004
ERROR_NO_UNICODE_TRANSLATION = 1113
CP_ACP, CP_OEMCP, CP_SYMBOL, CP_UTF7, CP_UTF8 = 0, 1, 42, 65000, 65001
MB_PRECOMPOSED, MB_COMPOSITE, MB_USEGLYPHCHARS, MB_ERR_INVALID_CHARS = 0x1, 0x2, 0x4, 0x8
WC_ERR_INVALID_CHARS, WC_NO_BEST_FIT_CHARS = 0x80, 0x400
WHOLE = 0xFFFFFFFF  # -1: the string is NUL-terminated


def to_wide(model: ModelAdapter, page: int, raw: bytes, flags: int = 0) -> tuple[CallResult, str]:
    out = model.alloc(2 * 64)
    result = call(model, "MultiByteToWideChar", page, flags, data(model, raw), len(raw), out, 64)
    return result, model.read(out, 2 * (result.value or 0)).decode("utf-16-le", errors="surrogatepass")


def to_bytes(model: ModelAdapter, page: int, text: str, flags: int = 0, default: int = 0,
             used: int = 0) -> tuple[CallResult, bytes]:
    out = model.alloc(64)
    units = text.encode("utf-16-le", errors="surrogatepass")
    result = call(model, "WideCharToMultiByte", page, flags, data(model, units), len(units) // 2, out, 64, default,
                  used)
    return result, model.read(out, result.value or 0)


def test_the_size_needed_and_the_terminating_null(model):
    source = data(model, b"caf\xe9\0")
    needed = call(model, "MultiByteToWideChar", CP_ACP, 0, source, WHOLE, 0, 0)
    assert (needed.value, needed.last_error) == (5, None), "cchWideChar 0: the required size, with the NUL"
    out = model.alloc(10)
    assert call(model, "MultiByteToWideChar", CP_ACP, 0, source, WHOLE, out, 5).value == 5
    assert model.read(out, 10) == "café\0".encode("utf-16-le"), "-1: the result has a terminating null character"
    fresh = model.alloc(10)
    assert call(model, "MultiByteToWideChar", CP_ACP, 0, source, 4, fresh, 5).value == 4
    assert model.read(fresh + 8, 2) == b"\0\0" and model.read(fresh, 8) == "café".encode("utf-16-le"), \
        "a positive size without the NUL is not null-terminated"
    small = call(model, "MultiByteToWideChar", CP_ACP, 0, source, WHOLE, out, 4)
    assert failed(small, ERROR_INSUFFICIENT_BUFFER)
    wide = data(model, "café\0".encode("utf-16-le"))
    assert call(model, "WideCharToMultiByte", CP_ACP, 0, wide, WHOLE, 0, 0, 0, 0).value == 5
    assert failed(call(model, "WideCharToMultiByte", CP_ACP, 0, wide, WHOLE, out, 3, 0, 0), ERROR_INSUFFICIENT_BUFFER)


def test_parameters_the_pages_rule_out(model):
    source, out = data(model, b"abc\0"), model.alloc(16)
    assert failed(call(model, "MultiByteToWideChar", CP_ACP, 0, source, 0, out, 8), ERROR_INVALID_PARAMETER), \
        "if cbMultiByte is 0, the function fails"
    assert failed(call(model, "MultiByteToWideChar", CP_ACP, 0, 0, WHOLE, out, 8), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "MultiByteToWideChar", CP_ACP, 0, source, WHOLE, source, 8), ERROR_INVALID_PARAMETER), \
        "The lpMultiByteStr and lpWideCharStr pointers must not be the same"
    assert failed(call(model, "MultiByteToWideChar", CP_ACP, 0, source, WHOLE, 0, 8), ERROR_INSUFFICIENT_BUFFER), \
        "a supplied buffer ... was incorrectly set to NULL"
    assert failed(call(model, "MultiByteToWideChar", 12345, 0, source, WHOLE, out, 8), ERROR_INVALID_PARAMETER)
    assert failed(call(model, "MultiByteToWideChar", CP_ACP, MB_PRECOMPOSED | MB_COMPOSITE, source, WHOLE, out, 8),
                  ERROR_INVALID_FLAGS), "MB_PRECOMPOSED and MB_COMPOSITE are mutually exclusive"
    assert failed(call(model, "MultiByteToWideChar", CP_UTF8, MB_PRECOMPOSED, source, WHOLE, out, 8),
                  ERROR_INVALID_FLAGS), "For UTF-8 dwFlags must be set to either 0 or MB_ERR_INVALID_CHARS"
    assert failed(call(model, "MultiByteToWideChar", CP_SYMBOL, MB_ERR_INVALID_CHARS, source, WHOLE, out, 8),
                  ERROR_INVALID_FLAGS), "for 42 (Symbol) dwFlags must be set to 0"
    wide = data(model, "abc\0".encode("utf-16-le"))
    assert failed(call(model, "WideCharToMultiByte", CP_ACP, 0, wide, 0, out, 8, 0, 0), ERROR_INVALID_PARAMETER), \
        "If cchWideChar is set to 0, the function fails."
    assert failed(call(model, "WideCharToMultiByte", CP_ACP, 0x100, wide, WHOLE, out, 8, 0, 0), ERROR_INVALID_FLAGS)
    assert failed(call(model, "WideCharToMultiByte", CP_ACP, WC_ERR_INVALID_CHARS, wide, WHOLE, out, 8, 0, 0),
                  ERROR_INVALID_FLAGS), "WC_ERR_INVALID_CHARS cannot be used with other code page values"
    assert failed(call(model, "WideCharToMultiByte", CP_UTF7, WC_NO_BEST_FIT_CHARS, wide, WHOLE, out, 8, 0, 0),
                  ERROR_INVALID_FLAGS)


def test_utf8_invalid_sequences_are_replaced_or_refused(model):
    result, text = to_wide(model, CP_UTF8, "€𝄞".encode() + b"\xff")
    assert (result.value, text) == (4, "€𝄞\ufffd"), "a supplementary character takes two UTF-16 units; U+FFFD"
    assert failed(to_wide(model, CP_UTF8, b"ok\xc3", MB_ERR_INVALID_CHARS)[0], ERROR_NO_UNICODE_TRANSLATION)
    assert to_wide(model, CP_UTF8, "ok".encode(), MB_ERR_INVALID_CHARS)[0].value == 2
    result, raw = to_bytes(model, CP_UTF8, "a\ud800b")
    assert raw == b"a\xef\xbf\xbdb", "a lone surrogate is replaced with U+FFFD"
    assert failed(to_bytes(model, CP_UTF8, "a\ud800b", WC_ERR_INVALID_CHARS)[0], ERROR_NO_UNICODE_TRANSLATION)
    assert to_bytes(model, CP_UTF8, "Grüße 𝄞")[1] == "Grüße 𝄞".encode()


def test_default_characters_and_the_used_flag(model):
    used = model.alloc(4)
    result, raw = to_bytes(model, 1252, "Th\u0440i", used=used)
    assert raw == b"Th?i" and model.read(used, 4) == b"\1\0\0\0", "the system default character, and TRUE"
    result, raw = to_bytes(model, 1252, "Thai", used=used)
    assert raw == b"Thai" and model.read(used, 4) == b"\0\0\0\0", "Otherwise, the flag is set to FALSE."
    star = data(model, b"*")
    assert to_bytes(model, CP_ACP, "\u0440!", default=star)[1] == b"*!", "Uses the specified default character"
    assert to_bytes(model, CP_ACP, "\u0100")[1] == b"A", "without WC_NO_BEST_FIT_CHARS, a best fit"
    assert to_bytes(model, CP_ACP, "\u0100", WC_NO_BEST_FIT_CHARS)[1] == b"?"
    assert failed(to_bytes(model, CP_UTF8, "x", default=star)[0], ERROR_INVALID_PARAMETER), \
        "For the CP_UTF7 and CP_UTF8 settings for CodePage, this parameter must be set to NULL"
    assert failed(to_bytes(model, CP_UTF8, "x", used=used)[0], ERROR_INVALID_PARAMETER)


def test_the_ansi_oem_and_symbol_code_pages(model):
    assert to_wide(model, CP_ACP, b"\x80\x90")[1] == "€\x90", "1252's undefined bytes map to the C1 controls"
    assert to_wide(model, CP_OEMCP, b"\x82\xdb")[1] == "é█", "CP_OEMCP is code page 437"
    assert to_wide(model, CP_OEMCP, b"\x01", MB_USEGLYPHCHARS)[1] == "☺", "glyph characters instead of controls"
    assert to_wide(model, CP_ACP, b"\xe9", MB_COMPOSITE)[1] == "e\u0301", "Always use decomposed characters"
    assert to_wide(model, CP_SYMBOL, b"\x41")[1] == "\uf041"
    assert to_bytes(model, CP_OEMCP, "é█")[1] == b"\x82\xdb"
    assert to_wide(model, CP_UTF7, b"+AOk-")[1] == "é"
    assert to_bytes(model, CP_UTF7, "a+\u4f60\u597d\u5417")[1] == b"a+-+T2BZfVQX-", "UTF-7's base64 runs"
