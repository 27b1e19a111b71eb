"""Reading and writing spec files.

Specs are hand-edited and reviewed in diffs, so the output must be stable
(same spec, same bytes), readable (block scalars for prose, hex for code
values) and fast to load for thousands of files (PyYAML's C loader and
dumper). Loading keeps the node tree so that errors can name a line and
column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from .model import Spec

SCHEMA_FILE = "schema.json"
_HEX_KEYS = frozenset({"value", "range"})
_BLOCK_WIDTH = 88


_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _Dumper(yaml.CSafeDumper):
    """The C dumper with a memo on implicit-tag resolution.

    The serializer asks twice per scalar whether its text would read back as
    its tag; spec files repeat the same keys and words thousands of times,
    and that question was a fifth of the time spent writing specs.
    """

    _resolved: dict[tuple, str] = {}

    def resolve(self, kind, value, implicit):  # type: ignore[override]
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, tuple(implicit))
        found = self._resolved.get(key)
        if found is None:
            found = super().resolve(kind, value, implicit)
            if len(self._resolved) > 200_000:
                self._resolved.clear()
            self._resolved[key] = found
        return found


def _str_node(text: str) -> yaml.ScalarNode:
    if "\n" in text:
        return yaml.ScalarNode(_STR, text, style="|")
    if len(text) > _BLOCK_WIDTH and text == text.strip() and "  " not in text:
        return yaml.ScalarNode(_STR, text, style=">")
    return yaml.ScalarNode(_STR, text)


def _node(obj: Any, key: str | None = None) -> yaml.Node:
    """Spec data as a YAML node tree, built directly: the generic representer is several times slower."""
    if isinstance(obj, str):
        return _str_node(obj)
    if isinstance(obj, bool):
        return yaml.ScalarNode(_BOOL, "true" if obj else "false")
    if isinstance(obj, int):
        if key in _HEX_KEYS and obj >= 0:
            return yaml.ScalarNode(_INT, f"0x{obj:08X}")
        return yaml.ScalarNode(_INT, str(obj))
    if isinstance(obj, dict):
        return yaml.MappingNode(_MAP, [(yaml.ScalarNode(_STR, str(k)), _node(v, k)) for k, v in obj.items()])
    if isinstance(obj, tuple):
        return yaml.SequenceNode(_SEQ, [_node(v, key) for v in obj], flow_style=True)
    if isinstance(obj, list):
        return yaml.SequenceNode(_SEQ, [_node(v, key) for v in obj], flow_style=False)
    if obj is None:
        return yaml.ScalarNode(_NULL, "null")
    if isinstance(obj, float):
        return yaml.ScalarNode("tag:yaml.org,2002:float", repr(obj))
    raise TypeError(f"cannot write {type(obj).__name__} into a spec file")


def spec_to_data(spec: Spec) -> dict[str, Any]:
    """The spec as plain data in the model's field order, leaving out defaults so files stay short."""
    data = spec.model_dump(mode="python", exclude_defaults=True)
    data.update({"spec": spec.spec, "api": spec.api, "kind": spec.kind, "mode": spec.mode})
    return {k: data[k] for k in Spec.model_fields if k in data}


def dump_spec(spec: Spec, schema_ref: str | None = f"../{SCHEMA_FILE}") -> str:
    text = yaml.serialize(
        _node(spec_to_data(spec)), Dumper=_Dumper, allow_unicode=True, width=_BLOCK_WIDTH,
    )
    if schema_ref:
        return f"# yaml-language-server: $schema={schema_ref}\n{text}"
    return text


@dataclass(frozen=True)
class Loaded:
    """A spec file's raw data and its node tree (for error locations)."""

    path: Path
    data: Any
    node: yaml.Node | None


class SpecFileError(Exception):
    def __init__(self, path: Path, line: int, col: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = path, line, col, message


def load_file(path: Path) -> Loaded:
    """Parse YAML with the C loader, keeping nodes; YAML syntax errors carry a location."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecFileError(path, 1, 1, f"not UTF-8 text ({exc.reason}); save the file as UTF-8") from exc
    try:
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecFileError(path, line, col, f"YAML syntax: {exc.problem or exc}") from exc
    return Loaded(path, data, node)


def locate(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, int]:
    """Line and column (1-based) of the deepest node on `loc` that exists."""
    if node is None:
        return 1, 1
    best = node
    for part in loc:
        nxt = None
        if isinstance(best, yaml.MappingNode):
            for key, value in best.value:
                if key.value == str(part):
                    nxt = value
                    break
        elif isinstance(best, yaml.SequenceNode) and isinstance(part, int) and part < len(best.value):
            nxt = best.value[part]
        if nxt is None:
            break
        best = nxt
    return best.start_mark.line + 1, best.start_mark.column + 1


def load_spec(path: Path) -> Spec:
    """Load and validate one spec; raises SpecFileError naming the line of the first problem."""
    from pydantic import ValidationError

    loaded = load_file(path)
    if not isinstance(loaded.data, dict):
        raise SpecFileError(path, 1, 1, "a spec is a YAML mapping (spec: 1, api: ..., ...)")
    try:
        return Spec.model_validate(loaded.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        line, col = locate(loaded.node, tuple(err["loc"]))
        where = ".".join(str(p) for p in err["loc"])
        raise SpecFileError(path, line, col, f"{where}: {err['msg']}") from exc


def iter_spec_files(root: Path) -> Iterator[Path]:
    """Every spec file below root, in a stable order."""
    if root.is_file():
        yield root
        return
    yield from sorted(p for p in root.rglob("*.yaml") if p.is_file())
