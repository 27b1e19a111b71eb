"""Rendering suites: specs and their derived cases into pytest modules, one per header.

One module per header, not per function: collecting ten thousand small
modules costs far more than collecting a few hundred larger ones (see
benchmarks/collect), and a header is the unit a reader browses anyway.

Text from the docs reaches the generated code only through `pylit` and
`pydoc`, which write Python string literals whose value is exactly the
text; names from specs that are not plain identifiers are passed as quoted
strings, never spliced into code.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .. import __version__
from ..adapter.marshal import Api
from ..derive.catalog import Catalog
from ..derive.rules import derive
from ..spec.model import (SIGN_WORDS, AddressRef, BufferArg, Case, ConstantArg, FixtureArg, HandleArg, Spec,
                          StringArg, StructArg, ValueArg)

_TEMPLATES = Path(__file__).with_name("templates")


def is_ident(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not keyword.iskeyword(name)


def pylit(value: object) -> str:
    """A Python literal for a str, int, None or tuple/list of them; the text is data, never code."""
    if isinstance(value, str):
        return _strlit(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(pylit(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def _strlit(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF or char in "\u2028\u2029\x85":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def pydoc(text: str, indent: int = 4) -> str:
    """A triple-quoted docstring literal for `text`, continuation lines indented by `indent`.

    Backslashes and control characters are escaped, and any quote that
    could close the literal (one followed by another, or the last one) is
    escaped, so `inspect.cleandoc` of the value gives back the text.
    """
    pad = " " * indent
    lines = [_strlit(line)[1:-1].replace('\\"', '"') for line in text.split("\n")]
    joined = "\n".join((pad + line if line and i else line) for i, line in enumerate(lines))
    tail = ("\n" + pad) if len(lines) > 1 else ""
    joined = re.sub(r'"(?=")|"$', r'\\"', joined)
    return f'"""{joined}{tail}"""'


@dataclass
class TestCode:
    name: str
    spec_key: str
    case: Case
    covers: tuple[str, ...]
    expect_text: str
    params: list[str]
    doc: str
    body: list[str]


@dataclass
class FunctionCode:
    api_ident: str
    file_ident: str
    tests: list[TestCode] = field(default_factory=list)


def _test_name(api: str, case_id: str) -> str:
    base = re.sub(r"\W", "_", f"test_{api}__{case_id}".replace("-", "_"), flags=re.ASCII)
    return base


def _failure_words(spec: Spec | None) -> str:
    """How a failed call looks by its page: `fails (FALSE)`, `fails (NULL)`, `fails (a nonzero error code)`;
    `a failure code` for a function that fails by its status codes."""
    failure = spec.returns.failure if spec is not None else None
    if failure is None or failure.signal not in ("value", "error-code") or not failure.values:
        return "a failure code"
    names = [v.name if v.name else "a nonzero error code" for v in failure.values]
    return "fails (" + " or ".join(dict.fromkeys(names)) + ")"


def _describe_expect(case: Case, spec: Spec | None = None) -> str:
    parts = []
    if case.rule in ("export", "kernel-mode"):
        return "exported"
    if case.expect.returns:
        names = case.expect.returns if isinstance(case.expect.returns, list) else [case.expect.returns]
        parts.append("returns " + " or ".join(names))
    if case.expect.success is True:
        parts.append("a documented success code")
    if case.expect.success is False:
        parts.append(_failure_words(spec if case.call is None else None))
    if case.expect.value is not None:
        parts.append(f"returns {case.expect.value}")
    if case.expect.sign:
        parts.append("returns " + SIGN_WORDS[case.expect.sign])
    if case.expect.value_is:
        parts.append("returns the address of " + _ref_words(case.expect.value_is))
    for param, fields in case.expect.writes.items():
        parts.append(f"{param} then holds " + ", ".join(
            f"{name}={_ref_words(v) if isinstance(v, AddressRef) else v}" for name, v in fields.items()))
    if case.expect.completion:
        parts.append("completes with " + case.expect.completion)
    if case.expect.last_error:
        names = case.expect.last_error if isinstance(case.expect.last_error, list) else [case.expect.last_error]
        parts.append("last error " + " or ".join(names))
    return "; ".join(parts) or "returns a documented code"


def _summary(spec: Spec, case: Case) -> str:
    target = case.call or spec.api
    if case.rule == "export":
        return f"{spec.dll} exports {spec.api}."
    if case.rule == "kernel-mode":
        return f"{spec.api} is exported to kernel-mode callers."
    args = ", ".join(f"{name}={_arg_words(arg)}" for name, arg in case.given.items()) or "no arguments"
    return f"{target}({args}): {_describe_expect(case, spec)}."


def _ref_words(ref: AddressRef) -> str:
    return ref.arg if ref.arg else ref.fixture + (f".{ref.attr}" if ref.attr else "")


def _ref_code(ref: AddressRef, fixtures: list[str]) -> str:
    """An address reference as the test writes it: `("arg", "ListHead")`, or the fixture's value itself."""
    if ref.arg:
        return f"({pylit('arg')}, {pylit(ref.arg)})"
    if not is_ident(ref.fixture) or (ref.attr and not is_ident(ref.attr)):
        raise ValueError(f"fixture reference {ref.fixture}.{ref.attr} is not made of Python identifiers")
    if ref.fixture not in fixtures:
        fixtures.append(ref.fixture)
    return f"{ref.fixture}.{ref.attr}" if ref.attr else ref.fixture


def _arg_words(arg) -> str:
    if isinstance(arg, FixtureArg):
        return arg.fixture + (f".{arg.attr}" if arg.attr else "")
    if isinstance(arg, HandleArg):
        return f"{arg.handle} handle"
    if isinstance(arg, BufferArg):
        return f"{arg.buffer}-byte buffer"
    if isinstance(arg, ConstantArg):
        return "|".join(arg.names())
    if isinstance(arg, StringArg):
        return f"{'ANSI ' if arg.ansi else ''}string {arg.string!r}"
    if isinstance(arg, StructArg):
        fields = ", ".join(f"{k}={_arg_words(v) if isinstance(v, StringArg) else v}" for k, v in arg.fields.items())
        return f"{arg.struct}{{{fields}}}"
    return arg.name or str(arg.value)


def _arg_code(arg, fixtures: list[str]) -> str:
    if isinstance(arg, FixtureArg):
        if not is_ident(arg.fixture):
            raise ValueError(f"fixture name {arg.fixture!r} is not a Python identifier")
        if arg.fixture not in fixtures:
            fixtures.append(arg.fixture)
        if arg.attr:
            if not is_ident(arg.attr):
                raise ValueError(f"fixture attribute {arg.attr!r} is not a Python identifier")
            return f"{arg.fixture}.{arg.attr}"
        return arg.fixture
    if isinstance(arg, HandleArg):
        return f"bad_handle({pylit(arg.handle)})"
    if isinstance(arg, BufferArg):
        return f"api.alloc({arg.buffer})"
    if isinstance(arg, ConstantArg):
        pointer = ", pointer=True" if arg.pointer else ""
        return " | ".join(f"api.constant({pylit(name)}{pointer})" for name in arg.names())
    if isinstance(arg, StringArg):
        return f"api.{'ansi' if arg.ansi else 'wide'}({pylit(arg.string)})"
    if isinstance(arg, StructArg):
        fields = ", ".join(f"{pylit(name)}: {_arg_code(v, fixtures) + '.address' if isinstance(v, StringArg) else hex(v)}"
                           for name, v in arg.fields.items())
        return f"api.struct({pylit(arg.struct)}, **{{{fields}}})" if fields else f"api.struct({pylit(arg.struct)})"
    assert isinstance(arg, ValueArg)
    number = hex(arg.value) if arg.value >= 0 else str(arg.value)
    return f"value({number}, {pylit(arg.name)})" if arg.name else number


#: What `api.NAME` already means on the Api object (its methods and its fields): such a function is called by name.
_API_NAMES = frozenset(dir(Api)) | {f.name for f in dataclasses.fields(Api)}


def _call_code(function: str, args: list[tuple[str, str]]) -> list[str]:
    """`returned = api.F(a=..., b=...)`, one argument a line when the call is long."""
    # `api._lopen(...)` and `api.alloc(...)` would reach the Api object's own attributes, not the function
    plain = is_ident(function) and not function.startswith("_") and function not in _API_NAMES \
        and all(is_ident(name) for name, _ in args)
    items = [f"{name}={code}" if plain else f"{pylit(name)}: {code}" for name, code in args]
    opening = f"returned = api.{function}(" if plain else f"returned = api.call({pylit(function)}, **{{"
    closing = ")" if plain else "})"
    one_line = opening + ", ".join(items) + closing
    if len(one_line) <= 100 or not items:
        return [one_line]
    return [opening, *(f"    {item}," for item in items), closing]


def render_test(spec: Spec, case: Case) -> TestCode:
    fixtures: list[str] = []
    body: list[str] = []
    if case.rule in ("export", "kernel-mode"):
        body.append(f"expect_exported(api, {pylit(spec.api)})")
    else:
        given = case.given
        if case.call is None:  # arguments in the order of the signature
            order = {p.name: i for i, p in enumerate(spec.signature.params)}
            given = dict(sorted(given.items(), key=lambda item: order.get(item[0], len(order))))
        args = [(name, _arg_code(arg, fixtures)) for name, arg in given.items()]
        body.extend(_call_code(case.call or spec.api, args))
        expect = case.expect
        if expect.returns:
            names = expect.returns if isinstance(expect.returns, list) else [expect.returns]
            body.append(f"expect_returns(api, returned, {', '.join(pylit(n) for n in names)})")
        if expect.success is True:
            body.append("expect_success(api, returned)")
        if expect.success is False:
            body.append("expect_failure(api, returned)")
        if expect.value is not None:
            body.append(f"expect_value(api, returned, {expect.value})")
        if expect.sign:
            body.append(f"expect_sign(api, returned, {pylit(expect.sign)})")
        if expect.value_is:
            body.append(f"expect_value_is(api, returned, {_ref_code(expect.value_is, fixtures)})")
        for param, fields in expect.writes.items():
            items = ", ".join(f"{pylit(name)}: " + (_ref_code(v, fixtures) if isinstance(v, AddressRef)
                                                     else pylit(v) if isinstance(v, str) else hex(v))
                              for name, v in fields.items())
            body.append(f"expect_writes(api, returned, {pylit(param)}, {{{items}}})")
        if expect.completion:
            body.append(f"expect_completion(api, returned, {pylit(expect.completion)})")
        if expect.last_error:
            names = expect.last_error if isinstance(expect.last_error, list) else [expect.last_error]
            body.append(f"expect_last_error(api, returned, {', '.join(pylit(n) for n in names)})")
    doc_lines = [_summary(spec, case)]
    quoted = [f"{c}: {clause.text}" for c in case.covers if (clause := spec.clause(c))]
    if quoted:
        doc_lines += [""] + quoted
    if case.level == "robustness":
        doc_lines += ["", "Robustness: the docs do not say what happens; the implementation must not fail hard."]
    if case.note:
        doc_lines += ["", case.note]
    return TestCode(name=_test_name(spec.api, case.id), spec_key=spec.key,
                    case=case, covers=tuple(case.covers), expect_text=_describe_expect(case, spec),
                    params=["api", *fixtures], doc="\n".join(doc_lines), body=body)


class Generator:
    """Renders every header's module; deterministic for a given kit version, specs and catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=False,
                                 keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                                 undefined=jinja2.StrictUndefined)
        env.filters["pylit"] = pylit
        env.filters["pydoc"] = pydoc
        self.template = env.get_template("module.py.j2")

    def render_header(self, stem: str, specs: list[Spec]) -> str:
        functions = []
        names: set[str] = set()
        for spec in sorted(specs, key=lambda s: s.path_key[1]):
            code = FunctionCode(api_ident=re.sub(r"[^\w.:~-]", "_", spec.api, flags=re.ASCII),
                                file_ident=spec.path_key[1])
            for case in derive(spec, self.catalog):
                test = render_test(spec, case)
                while test.name in names:
                    test.name += "_"
                names.add(test.name)
                code.tests.append(test)
            functions.append(code)
        header = specs[0].header if specs else stem
        return self.template.render(version=__version__, stem=stem, header=header, functions=functions)
