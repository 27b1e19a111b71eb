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


_RESOLVER = yaml.resolver.Resolver()
_PLAIN_IS_STR: dict[str, bool] = {}
_START = (yaml.StreamStartEvent(), yaml.DocumentStartEvent(explicit=False))
_END = (yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent())


def _plain_is_str(text: str) -> bool:
    """Whether `text` written plain reads back as a string (not as true, 1.9, null ...)."""
    known = _PLAIN_IS_STR.get(text)
    if known is None:
        known = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR
        if len(_PLAIN_IS_STR) > 200_000:
            _PLAIN_IS_STR.clear()
        _PLAIN_IS_STR[text] = known
    return known


_SHORT_EVENTS: dict[str, yaml.ScalarEvent] = {}


def _str_event(text: str) -> yaml.ScalarEvent:
    """A string scalar's event; short ones (keys, ids, kinds) repeat across specs and are made once."""
    if len(text) <= 32:
        event = _SHORT_EVENTS.get(text)
        if event is None:
            event = _SHORT_EVENTS[text] = _new_str_event(text)
            if len(_SHORT_EVENTS) > 100_000:
                _SHORT_EVENTS.clear()
        return event
    return _new_str_event(text)


def _new_str_event(text: str) -> yaml.ScalarEvent:
    style = None
    if "\n" in text:
        style = "|"
    elif len(text) > _BLOCK_WIDTH and text == text.strip() and "  " not in text:
        style = ">"
    return yaml.ScalarEvent(None, _STR, (_plain_is_str(text), True), text, style=style)


def _events(obj: Any, out: list, key: str | None = None) -> None:
    """Spec data as YAML events for the C emitter.

    Built directly rather than through the representer and serializer: those
    ask Python twice per scalar how its text would resolve, which was most of
    the time spent writing a spec.
    """
    if isinstance(obj, str):
        out.append(_str_event(obj))
    elif isinstance(obj, bool):
        out.append(yaml.ScalarEvent(None, _BOOL, (True, False), "true" if obj else "false"))
    elif isinstance(obj, int):
        text = f"0x{obj:08X}" if key in _HEX_KEYS and obj >= 0 else str(obj)
        out.append(yaml.ScalarEvent(None, _INT, (True, False), text))
    elif isinstance(obj, dict):
        out.append(yaml.MappingStartEvent(None, _MAP, True, flow_style=False))
        for k, v in obj.items():
            out.append(_str_event(str(k)))
            _events(v, out, k)
        out.append(yaml.MappingEndEvent())
    elif isinstance(obj, (list, tuple)):
        out.append(yaml.SequenceStartEvent(None, _SEQ, True, flow_style=isinstance(obj, tuple)))
        for v in obj:
            _events(v, out, key)
        out.append(yaml.SequenceEndEvent())
    elif obj is None:
        out.append(yaml.ScalarEvent(None, _NULL, (True, False), "null"))
    elif isinstance(obj, float):
        out.append(yaml.ScalarEvent(None, "tag:yaml.org,2002:float", (True, False), repr(obj)))
    else:
        raise TypeError(f"cannot write {type(obj).__name__} into a spec file")


def spec_to_data(spec: Spec) -> dict[str, Any]:
    """The spec as plain data in the model's field order, leaving out defaults so files stay short."""
    data = spec.model_dump(mode="python", exclude_defaults=True)
    data.update({"spec": spec.spec, "api": spec.api, "kind": spec.kind, "mode": spec.mode})
    return {k: data[k] for k in Spec.model_fields if k in data}


def dump_spec(spec: Spec, schema_ref: str | None = f"../{SCHEMA_FILE}") -> str:
    events: list = list(_START)
    _events(spec_to_data(spec), events)
    events.extend(_END)
    text = yaml.emit(events, Dumper=yaml.CSafeDumper, allow_unicode=True, width=_BLOCK_WIDTH)
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
