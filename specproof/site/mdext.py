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
    """Sets the marked blocks aside; the text around them gets Python-Markdown's whitespace normalizing.

    It takes the place of Python-Markdown's `normalize_whitespace` (the first preprocessor), so no
    preprocessor scans the blocks: the page's text is then a few lines around placeholders. The blocks
    themselves need no normalizing (`html.h` shows control characters, STX and ETX among them, as
    symbols); normalizing the whole page would strip the placeholders' STX and ETX.
    """

    def __init__(self, md: Markdown, normalize: Preprocessor) -> None:
        super().__init__(md)
        self.normalize = normalize

    def run(self, lines: list[str]) -> list[str]:
        if START not in lines:
            return self.normalize.run(lines)
        out: list[str] = []
        text: list[str] = []
        block: list[str] | None = None
        for line in lines:
            if block is None:
                if line == START:
                    block = []
                else:
                    text.append(line)
            elif line == END:
                out.extend(self.normalize.run(text))
                out.extend(("", self.md.htmlStash.store("\n".join(block)), ""))
                text, block = [], None
            else:
                block.append(line)
        if block is not None:  # no end marker: leave the text to Python-Markdown as it was
            text.extend((START, *block))
        out.extend(self.normalize.run(text))
        return out


class GeneratedHtml(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        normalize = md.preprocessors["normalize_whitespace"]
        md.preprocessors.deregister("normalize_whitespace")
        md.preprocessors.register(_PassThrough(md, normalize), "normalize_whitespace", 30)


def makeExtension(**kwargs: object) -> GeneratedHtml:  # noqa: N802 (Python-Markdown's name)
    return GeneratedHtml(**kwargs)
