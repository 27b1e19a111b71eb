"""Reading and writing spec files.

Specs are hand-edited and reviewed in diffs, so the output must be stable
(same spec, same bytes), readable (block scalars for prose, hex for code
values) and fast to load for thousands of files (PyYAML's C loader and
dumper). Loading keeps the node tree so that errors can name a line and
column. Writing gives libyaml's bytes: the shapes spec files use are written
as text directly (`block_text`), anything else by the C emitter.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
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
    resolvers = _RESOLVER.yaml_implicit_resolvers
    if text and text[0] not in resolvers and None not in resolvers:  # resolvers are looked up by first character
        return True
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


def _block_style(text: str) -> str | None:
    """The block style a string asks for: literal when it has lines, folded when it is long prose."""
    if "\n" in text:
        return "|"
    if len(text) > _BLOCK_WIDTH and text == text.strip() and "  " not in text:
        return ">"
    return None


def _new_str_event(text: str) -> yaml.ScalarEvent:
    return yaml.ScalarEvent(None, _STR, (_plain_is_str(text), True), text, style=_block_style(text))


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


# -- writing the text directly --------------------------------------------------------
#
# Building an event per scalar for the C emitter is most of the cost of a spec file. Spec
# files use a small part of YAML (block mappings and sequences of plain, single-quoted,
# literal and folded scalars), so `block_text` writes that part itself, rule by rule as
# libyaml's emitter does (emitter.c: analyze_scalar, select_scalar_style, write_*), and
# gives up on anything else, which dump_spec then hands to libyaml.


class _Unwritable(Exception):
    """The data needs a form `block_text` leaves to libyaml."""


# What libyaml writes unescaped with allow_unicode: LF, printable ASCII and the BMP without
# NEL, LS, PS (line breaks), surrogates, the BOM and U+FFFE/U+FFFF. Anything else makes it
# double-quote the scalar.
_UNESCAPED = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*\\Z")
# first characters that rule plain style out in block context ("?", ":" and "-" only before white space)
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@` \n")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYS: set[str] = set()  # keys already known to be written plain
_STYLES: dict[str, str] = {}  # the style of short strings (ids, kinds, names), which repeat


def _plain_allowed(text: str) -> bool:
    """analyze_scalar's block_plain_allowed for text without special characters."""
    first = text[0]
    if first in _INDICATORS or text.startswith(("---", "...")) or "\n" in text:
        return False
    if first in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    return not (text[-1] == " " or text[-1] == ":" or ": " in text or " #" in text)


def _str_style(text: str) -> str:
    """The style libyaml gives a string in block context: "plain", "'", "|" or ">"."""
    if not _UNESCAPED.match(text):
        raise _Unwritable
    requested = _block_style(text)
    if requested:
        if text[0] in " \n" or text[-1] in " \n" or " \n" in text:
            raise _Unwritable  # double-quoted, or block hints (indentation, keep) not written here
        return requested
    if text and _plain_allowed(text) and _plain_is_str(text):
        return "plain"
    if "\n " in text or " \n" in text:
        raise _Unwritable
    return "'"


def _fold(text: str, column: int, indent: int, out: list[str], after_space: bool = False) -> None:
    """Write `text` from `column`, starting a new line at `indent` where libyaml does.

    libyaml replaces a space by a line break when the column is past the width
    and the next character is not a space; in plain and quoted scalars the
    previous one must not be a space either (folded ones, `after_space`, drop
    that rule).
    """
    start = 0
    while True:
        at = text.find(" ", max(start + 1, start + _BLOCK_WIDTH + 1 - column))
        while at > 0 and ((text[at - 1] == " " and not after_space) or text[at + 1 : at + 2] in (" ", "")):
            at = text.find(" ", at + 1)
        if at < 0:
            out.append(text[start:] if start else text)
            return
        out.append(text[start:at])
        out.append("\n" + " " * indent)
        start, column = at + 1, indent


def _string(text: str, column: int, indent: int, out: list[str]) -> None:
    """A string after an indicator ("key:", "-") that ends at `column`; further lines at `indent`."""
    style = _STYLES.get(text)
    if style is None:
        style = _str_style(text)
        if len(text) <= 32:
            if len(_STYLES) > 100_000:
                _STYLES.clear()
            _STYLES[text] = style
    if style == "plain":
        if column + len(text) < _BLOCK_WIDTH:  # no space can be past the width
            out.append(" " + text)
        else:
            out.append(" ")
            _fold(text, column + 1, indent, out)
    elif style == "'":
        out.append(" '")
        _fold(text.replace("'", "''"), column + 2, indent, out)
        out.append("'")
    elif style == "|":
        pad = "\n" + " " * indent
        out.append(" |-" + "".join(pad + line if line else "\n" for line in text.split("\n")))
    else:
        out.append(" >-\n" + " " * indent)
        _fold(text, indent, indent, out, after_space=True)


def _number(value: int, key: str | None) -> str:
    return f"0x{value:08X}" if key in _HEX_KEYS and value >= 0 else str(value)


def _scalar(obj: Any, key: str | None, column: int, indent: int, out: list[str]) -> None:
    """A scalar after an indicator that ends at `column` (see `_string`)."""
    kind = type(obj)
    if kind is str:
        _string(obj, column, indent, out)
    elif kind is bool:
        out.append(" true" if obj else " false")
    elif kind is int:
        out.append(" " + _number(obj, key))
    elif obj is None:
        out.append(" null")
    elif kind is float:
        out.append(f" {obj!r}")
    else:
        raise _Unwritable


def _flow_numbers(items: tuple, key: str, column: int, out: list[str]) -> None:
    """A tuple of integers as a flow sequence on the line (`[0x80320001, 0x80320039]`)."""
    if not all(type(item) is int for item in items):
        raise _Unwritable
    texts = [_number(item, key) for item in items]
    column += 2  # " ["
    for index, text in enumerate(texts):
        if index:
            column += 1  # ","
        if column > _BLOCK_WIDTH:
            raise _Unwritable  # libyaml would start a new line before this item
        column += len(text) + (1 if index else 0)  # " " before all but the first
    out.append(" [" + ", ".join(texts) + "]")


def _mapping(data: dict, indent: int, out: list[str], inline: bool) -> None:
    """A block mapping at `indent`; `inline`: its first key goes on the current line."""
    pad = "\n" + " " * indent
    for key, value in data.items():
        if key not in _KEYS:
            if type(key) is not str or not _KEY.match(key) or not _plain_is_str(key):
                raise _Unwritable
            _KEYS.add(key)
        head = key + ":" if inline else pad + key + ":"
        inline = False
        kind = type(value)
        if kind is str:
            column = indent + len(key) + 1
            if column + len(value) < _BLOCK_WIDTH and _STYLES.get(value) == "plain":  # a short id, kind, name
                out.append(f"{head} {value}")
            else:
                out.append(head)
                _string(value, column, indent + 2, out)
            continue
        out.append(head)
        if kind is dict:
            if value:
                _mapping(value, indent + 2, out, inline=False)
            else:
                out.append(" {}")
        elif kind is list:
            if not value:
                out.append(" []")
            for item in value:  # a sequence in a mapping is not indented further
                out.append(pad + "-")
                if type(item) is dict and item:
                    out.append(" ")
                    _mapping(item, indent + 2, out, inline=True)
                elif type(item) is dict:
                    out.append(" {}")
                else:
                    _scalar(item, key, indent + 1, indent + 2, out)
        elif kind is tuple:
            _flow_numbers(value, key, indent + len(key) + 1, out)
        else:
            _scalar(value, key, indent + len(key) + 1, indent + 2, out)


def block_text(data: dict[str, Any]) -> str | None:
    """`data` as libyaml writes it (block style, width 88, unicode); None for what it leaves to libyaml."""
    if not data:
        return None
    out: list[str] = []
    try:
        _mapping(data, 0, out, inline=True)
    except _Unwritable:
        return None
    out.append("\n")
    return "".join(out)


def spec_to_data(spec: Spec) -> dict[str, Any]:
    """The spec as plain data in the model's field order, leaving out defaults so files stay short."""
    data = spec.model_dump(mode="python", exclude_defaults=True)
    data.update({"spec": spec.spec, "api": spec.api, "kind": spec.kind, "mode": spec.mode})
    return {k: data[k] for k in Spec.model_fields if k in data}


def dump_spec(spec: Spec, schema_ref: str | None = f"../{SCHEMA_FILE}") -> str:
    data = spec_to_data(spec)
    text = block_text(data)
    if text is None:  # something only libyaml writes (a double-quoted scalar, a nested list ...)
        events: list = list(_START)
        _events(data, events)
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


#: A spec file larger than this is refused unread (the largest spec of a docs checkout is some 100 KB).
MAX_SPEC_BYTES = 4 * 1024 * 1024


def read_spec_bytes(path: Path) -> bytes:
    """A spec file's bytes: from a regular file only, and never more than MAX_SPEC_BYTES.

    Opened without blocking, so a FIFO named like a spec is refused rather than waited on, and read
    with a bound, so a link to /dev/zero costs nothing; every refusal names the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SpecFileError(path, 1, 1, f"cannot read the file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as stream:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise SpecFileError(path, 1, 1, "not a regular file (a FIFO, device or socket): a spec is a YAML file; "
                                            "remove it from the spec folder")
        data = stream.read(MAX_SPEC_BYTES + 1) if status.st_size <= MAX_SPEC_BYTES else b""
        if status.st_size > MAX_SPEC_BYTES or len(data) > MAX_SPEC_BYTES:
            raise SpecFileError(path, 1, 1, f"larger than {MAX_SPEC_BYTES // 1048576} MB: not a spec this kit "
                                            "wrote; check the file")
    return data


def load_file(path: Path) -> Loaded:
    """Parse YAML with the C loader, keeping nodes; YAML syntax errors carry a location."""
    data = read_spec_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecFileError(path, line, col, f"not UTF-8 text ({exc.reason}); save the file as UTF-8") from exc
    try:
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
            parsed = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecFileError(path, line, col, f"YAML syntax: {exc.problem or exc}") from exc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SpecFileError(path, line, col, f"character U+{code:04X} is not allowed in YAML; remove it "
                                             "(or write it as an escape in a double-quoted string)") from exc
    return Loaded(path, parsed, node)


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
    # anything not a folder: a FIFO or a link to a device is a spec file the loader refuses by name.
    # Walked with a stack of its own, not recursion: a tree of any depth is read.
    found: list[str] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.name.endswith(".yaml") and not entry.is_dir():
                found.append(entry.path)
    yield from sorted(Path(p) for p in found)


# -- the fast reader: what every stage reads a spec with -----------------------------------

class UntaggedLoader(yaml.CBaseLoader):
    """PyYAML's C parser and composer, without tag resolution.

    The composer asks the resolver for every node's tag, three Python calls a
    node; readers that resolve the few plain scalars that matter themselves
    (spec files here, page front matter in the readers) skip those calls.
    """

    def resolve(self, kind: type, value: Any, implicit: Any) -> None:
        return None

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


# Plain scalars are resolved by `_read_scalar`, the only ones that can be something other than a string.
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCT = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_FIRST = frozenset(k for k in _RESOLVER.yaml_implicit_resolvers if k is not None)
_TAGS: dict[str, str] = {}


class _Unusual(Exception):
    """Something `_data` does not read itself (a tag, an anchor, a date): the file goes the slow way."""


def _read_scalar(node: yaml.ScalarNode) -> Any:
    if node.tag is not None and node.tag not in ("!", _STR):  # an explicit tag
        raise _Unusual(node.tag)
    if node.style or node.tag is not None:  # quoted, literal or folded (or tagged a string): text
        return node.value
    value = node.value
    if value and value[0] not in _FIRST:  # PyYAML's resolvers are picked by first character: none applies
        return value
    tag = _TAGS.get(value)
    if tag is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
        if len(value) <= 40 and len(_TAGS) < 100_000:
            _TAGS[value] = tag
    if tag == _STR:
        return value
    if tag == "tag:yaml.org,2002:int":
        return _CONSTRUCT.construct_yaml_int(node)
    if tag == "tag:yaml.org,2002:bool":
        return _CONSTRUCT.construct_yaml_bool(node)
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:float":
        return _CONSTRUCT.construct_yaml_float(node)
    raise _Unusual(tag)


def _read_node(node: yaml.Node | None, seen: set[int] | None = None) -> Any:
    """Plain data of a node tree. A collection met twice is an alias (specs never need one): the file
    goes the slow way, whose loader builds each node once, so a nest of aliases cannot blow up here."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return _read_scalar(node)
    if seen is None:
        seen = set()
    if id(node) in seen:
        raise _Unusual("an alias")
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return [_read_node(item, seen) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        data = {}
        for key, value in node.value:
            name = _read_node(key, seen)
            if name == "<<" or not isinstance(name, (str, int, bool)) or name in data:
                raise _Unusual("merge key, complex or duplicate key")
            data[name] = _read_node(value, seen)
        return data
    raise _Unusual(type(node).__name__)


def read_data(path: Path) -> Any:
    """A spec file's data, or None when `_data` is not sure of it (then `load_spec` reads it)."""
    try:
        loader = UntaggedLoader(read_spec_bytes(path))
        try:
            return _read_node(loader.get_single_node())
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - anything unusual goes the slow way, which says what is wrong
        return None


def spec_from(path: Path, data: Any) -> Spec:
    if data is not None:
        try:
            return Spec.model_validate(data)
        except ValueError:
            pass
    return load_spec(path)  # errors name the file, line and key


def read_spec(path: Path) -> Spec:
    """One spec, read about twice as fast as `load_spec` (which builds every value through PyYAML's
    Python constructor and keeps the node tree for error locations); any file this reader is not sure of,
    and any file that does not validate, goes through `load_spec`, so errors name the file, line and key."""
    return spec_from(path, read_data(path))


def read_identity(path: Path, keys: frozenset[str]) -> dict[str, str]:
    """Top-level scalar `keys` of a spec (api, dll, mode ...), read from YAML events up to where all have been seen.

    A full load parses the whole file (clauses, cases); a sweep of ten
    thousand specs needs only these few lines near the top. A file that
    lacks one (or orders keys differently) is read to its end, so the answer
    is the same either way. Broken YAML is a SpecFileError with its line.
    """
    try:
        return _identity(read_spec_bytes(path), keys)
    except yaml.YAMLError:
        load_file(path)  # raises SpecFileError naming the line and column
        raise


def _identity(data: bytes, keys: frozenset[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    depth = 0
    key: str | None = None
    expect_key = False
    for event in yaml.parse(data, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth == 1:
                expect_key = True
            elif depth == 2 and key is not None:
                key = None
                expect_key = True  # a nested value: skip it, the next top-level scalar is a key
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            continue
        if depth != 1 or not isinstance(event, yaml.ScalarEvent):
            continue
        if expect_key:
            key, expect_key = event.value, False
        else:
            if key in keys:
                found[key] = event.value
                if len(found) == len(keys):
                    break
            key, expect_key = None, True
    return found


def spec_set_digest(root: Path) -> str:
    """A digest of every spec file's path and bytes below `root`: which spec set a run checked.

    Runs record it, and the site compares it with the spec set it is built
    from, to say when a run checked other specs than the pages show.
    """
    digest = hashlib.sha256()
    for path in iter_spec_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(read_spec_bytes(path))
    return "sha256:" + digest.hexdigest()
