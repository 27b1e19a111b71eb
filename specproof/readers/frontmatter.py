"""YAML front matter of the markdown formats.

Parsed by PyYAML's C parser with the *base* resolver: every scalar stays a string, so
`req.kmdf-ver: 1.9` is "1.9", not the float 1.9, and `ms.date: 06/20/2024`
is not a date object. Legacy pages put a tab after a list dash, which YAML
rejects; that one form is repaired before parsing.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..spec.yamlio import UntaggedLoader
from .parts import PageError

_TAB_AFTER_DASH = re.compile(r"^([ ]*)-\t+", re.M)
_OPEN = re.compile(r"\A---[ \t]*\n")
_CLOSE = re.compile(r"^---[ \t]*$", re.M)


def _plain(node: yaml.Node | None) -> Any:
    """Nodes to plain strings, lists and dicts.

    The C parser builds the nodes; turning them into data here instead of
    through PyYAML's Python constructor halves the cost of front matter,
    which is most of what reading a page costs.
    """
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [item.value if type(item) is yaml.ScalarNode else _plain(item) for item in node.value]
    return {
        key.value if type(key) is yaml.ScalarNode else str(_plain(key)):
            value.value if type(value) is yaml.ScalarNode else _plain(value)
        for key, value in node.value
    }


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, line number where the body starts).

    A page without front matter gives ({}, text, 1). Front matter that is
    opened but never closed, or is not a mapping, is a PageError: the rest of
    the page cannot be trusted to be the body.
    """
    if not _OPEN.match(text):
        return {}, text, 1
    close = _CLOSE.search(text, 4)
    if close is None:
        raise PageError("front matter is opened with '---' but never closed; the page looks truncated")
    block = text[4 : close.start()]
    if "\t" in block:
        block = _TAB_AFTER_DASH.sub(r"\1- ", block)
    try:
        data = _plain(yaml.compose(block, Loader=UntaggedLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PageError(f"front matter is not valid YAML{where}: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PageError("front matter is not a mapping of keys to values")
    body_start = text.count("\n", 0, close.end()) + 2
    return data, text[close.end() + 1 :], body_start


def fm_str(front: dict[str, Any], key: str) -> str | None:
    """A front-matter value as a stripped string; None when empty or absent (lists give their first item)."""
    value = front.get(key)
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None
