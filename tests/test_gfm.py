"""The reused cmark-gfm parser renders as cmarkgfm's own wrapper does, and frees what it allocates."""

from __future__ import annotations

import resource
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

from specproof.readers.frontmatter import split_front_matter
from specproof.readers.gfm import to_html
from specproof.readers.sections import split_sections
from specproof.readers.text import decode_page

SHARED = Path(__file__).resolve().parents[2] / "shared"

SHAPES = [
    "", "\n", "plain *em* **strong** `code`", "| a | b |\n|---|---|\n| 1 | 2 |",
    "<table>\n\n<tr><td>x</td></tr>", "~~~\nunclosed fence", "[x]: http://a\n\n[x]", "- [ ] task\n- [x] done",
    "www.example.com and <script>alert(1)</script>", "~~struck~~", "<dl><dt>A</dt><dd>B</dd></dl>",
    "> [!NOTE]\n> A note.", "```c\nint f(void);\n```", "1. one\n\n   two\n2. three", "caf\u00e9 \u2014 \u00fc",
]


def _corpus_sections() -> list[str]:
    texts = []
    for path in sorted(SHARED.glob("*/**/*.md"))[:80]:
        try:
            _, body, _ = split_front_matter(decode_page(path.read_bytes()))
        except Exception:
            continue
        texts.append(body)
        texts.extend(section.text for section in split_sections(body)[1])
    return texts


def test_one_reused_parser_renders_as_the_wrapper_does():
    texts = SHAPES + _corpus_sections()
    for text in texts + texts[::-1]:  # in both orders: nothing carries over from the text before
        assert to_html(text) == cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


def test_rendering_frees_what_it_allocates():
    text = "\n\n".join(SHAPES) * 20
    to_html(text)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(2000):
        to_html(text)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 16 * 1024, f"grew by {grown_kib} KiB over 2000 renders"
