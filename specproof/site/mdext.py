"""A Python-Markdown extension: the HTML blocks the site generator wrote pass through untouched.

Generated pages are markdown (headings, paragraphs, lists) with their
tables written as HTML blocks between two marker comments. Without this
extension Python-Markdown treats those blocks as any raw HTML: it parses
them with html.parser to find where they end, and the page renders the
same. With it they are set aside as they are, which is most of the
difference between a generated function page costing about 15 ms to
convert and about 2 ms (measured with `benchmarks/site`).

Nothing from a reference page or a run can open or close a block: in
markdown text the generator writes `<` as `&lt;`, and inside the blocks
every text is HTML-escaped, so the marker lines only come from the
generator itself.
"""

from __future__ import annotations

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

START = "<!-- specproof:html -->"
END = "<!-- /specproof:html -->"


class _PassThrough(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if START not in lines:
            return lines
        out: list[str] = []
        block: list[str] | None = None
        for line in lines:
            if block is None:
                if line == START:
                    block = []
                else:
                    out.append(line)
            elif line == END:
                out.extend(("", self.md.htmlStash.store("\n".join(block)), ""))
                block = None
            else:
                block.append(line)
        if block is not None:  # no end marker: leave the text to Python-Markdown as it was
            out.extend((START, *block))
        return out


class GeneratedHtml(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # before html_block (20), after normalize_whitespace (30)
        md.preprocessors.register(_PassThrough(md), "specproof_html", 25)


def makeExtension(**kwargs: object) -> GeneratedHtml:  # noqa: N802 (Python-Markdown's name)
    return GeneratedHtml(**kwargs)
