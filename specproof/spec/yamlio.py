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


class Hex(int):
    """An int written as 0x%08X: code values read like the docs write them."""


class _Dumper(yaml.CSafeDumper):
    pass


def _repr_str(dumper: yaml.BaseDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if len(data) > _BLOCK_WIDTH and data == data.strip() and "  " not in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=">")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


def _repr_hex(dumper: yaml.BaseDumper, data: Hex) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:int", f"0x{int(data):08X}")


def _repr_tuple(dumper: yaml.BaseDumper, data: tuple) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)


_Dumper.add_representer(str, _repr_str)
_Dumper.add_representer(Hex, _repr_hex)
_Dumper.add_representer(tuple, _repr_tuple)


def _hexify(obj: Any, key: str | None = None) -> Any:
    if isinstance(obj, dict):
        return {k: _hexify(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_hexify(v, key) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_hexify(v, key) for v in obj)
    if key in _HEX_KEYS and isinstance(obj, int) and not isinstance(obj, bool) and obj >= 0:
        return Hex(obj)
    return obj


def spec_to_data(spec: Spec) -> dict[str, Any]:
    """The spec as plain data, leaving out defaults so files stay short."""
    data = spec.model_dump(mode="python", exclude_defaults=True)
    head = {"spec": spec.spec, "api": spec.api, "kind": spec.kind}
    data.update({"mode": spec.mode})
    ordered = {**head, **{k: v for k, v in data.items() if k not in head}}
    # keep the model's field order for readability
    order = list(Spec.model_fields)
    return _hexify({k: ordered[k] for k in order if k in ordered})


def dump_spec(spec: Spec, schema_ref: str | None = f"../{SCHEMA_FILE}") -> str:
    text = yaml.dump(
        spec_to_data(spec),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=_BLOCK_WIDTH,
        default_flow_style=False,
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
