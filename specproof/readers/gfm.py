"""GitHub-flavoured markdown to HTML with cmark-gfm: one parser a process, nothing leaked.

`cmarkgfm.github_flavored_markdown_to_html` makes a parser and looks up and
attaches the five GFM extensions on every call, and it never frees the
document tree or the HTML string it gets from C. The readers render every
section of every page (tens of thousands in a docs checkout), so each worker
grew by hundreds of megabytes and spent part of its time on fresh memory.

Here one parser is reused: cmark-gfm's `cmark_parser_finish` hands back the
document and resets the parser, keeping its options and extensions, so the
output is the wrapper's. The tree and the string are freed with the
library's own `cmark_node_free` and the C allocator's `free`, which the
binding does not declare; where they cannot be found, they are left as the
binding leaves them.
"""

from __future__ import annotations

from typing import Any, Callable

from cmarkgfm import _cmark
from cmarkgfm.cmark import Options

OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG  # as github_flavored_markdown_to_html
_EXTENSION_NAMES = ("table", "autolink", "tagfilter", "strikethrough", "tasklist")
_lib, _ffi = _cmark.lib, _cmark.ffi


def _freers() -> tuple[Callable[[Any], None], Callable[[Any], None]] | None:
    """cmark_node_free and free, or None where the platform does not give them."""
    try:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef("void cmark_node_free(void *node); void free(void *ptr);")
        nodes, libc = ffi.dlopen(_cmark.__file__), ffi.dlopen(None)
        return nodes.cmark_node_free, libc.free
    except (ImportError, OSError, AttributeError, TypeError):  # pragma: no cover - not on Linux
        return None


_FREE = _freers()
_parser: Any = None
_extensions: Any = None


def _new_parser() -> Any:
    global _parser, _extensions
    _lib.cmark_gfm_core_extensions_ensure_registered()
    parser = _lib.cmark_parser_new(OPTIONS)
    for name in _EXTENSION_NAMES:
        extension = _lib.cmark_find_syntax_extension(name.encode())
        if extension == _ffi.NULL:
            raise RuntimeError(f"cmark-gfm has no {name!r} extension")
        _lib.cmark_parser_attach_syntax_extension(parser, extension)
    _parser, _extensions = parser, _lib.cmark_parser_get_syntax_extensions(parser)
    return parser


def to_html(markdown: str) -> str:
    """`markdown` rendered as cmarkgfm.github_flavored_markdown_to_html(markdown, CMARK_OPT_UNSAFE) renders it."""
    parser = _parser if _parser is not None else _new_parser()
    data = markdown.encode("utf-8")
    _lib.cmark_parser_feed(parser, data, len(data))
    root = _lib.cmark_parser_finish(parser)  # also resets the parser for the next text
    raw = _lib.cmark_render_html(root, OPTIONS, _extensions)
    try:
        return _ffi.string(raw).decode("utf-8")
    finally:
        if _FREE is not None:
            _FREE[0](root)
            _FREE[1](raw)
