"""`specproof lint`: are the specs valid, and do they make sense?

Schema errors come from the model (every error, not just the first). The
meaning checks catch what a schema cannot: a case citing a clause or
parameter the spec does not have, duplicate ids, a code whose value is
missing or inconsistent with its flags, clause text edited without its
digest, a file in the wrong place. Every problem carries file:line:col.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from ..readers.text import digest_text
from .model import Spec
from .schema import schema_text
from .yamlio import SCHEMA_FILE, Loaded, SpecFileError, iter_spec_files, load_file, locate, read_data



@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    col: int
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


@dataclass
class LintResult:
    files: int
    specs: list[Spec]
    problems: list[Problem]

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


#: A problem before it is located: (key path in the file, severity, message).
Finding = tuple[tuple[Any, ...], str, str]


def _at(loaded: Loaded, loc: tuple[Any, ...], severity: str, message: str) -> Problem:
    line, col = locate(loaded.node, loc)
    return Problem(loaded.path, line, col, severity, message)


def _failure(spec: Spec, clause_ids: set[str]) -> Iterator[Finding]:
    """How the function fails: values that mean failure must have a value, and cite clauses that exist."""
    failure = spec.returns.failure
    loc = ("returns", "failure")
    if failure.signal in ("value", "error-code") and not failure.values:
        yield (loc + ("signal",), "error",
               f"failure signal {failure.signal!r} needs `values:` (the return values that mean failure)")
    for index, value in enumerate(failure.values):
        where = loc + ("values", index)
        if value.clause and value.clause not in clause_ids:
            yield (where + ("clause",), "error", f"failure value cites unknown clause {value.clause}")
        if value.name and not value.nonzero and value.value is None:
            yield (where + ("name",), "error",
                   f"failure value {value.name} is not in the SDK headers: fix the name, or give its `value:`"
                   if value.unresolved else
                   f"failure value {value.name} has no value: run ingest with SDK headers, or add `value:`")
    if failure.last_error_clause and failure.last_error_clause not in clause_ids:
        yield (loc + ("last_error_clause",), "error", f"last_error cites unknown clause {failure.last_error_clause}")


def _meaning(path: Path, spec: Spec, root: Path) -> Iterator[Finding]:
    """What the schema cannot see, as (key path, severity, message); located only if any are found."""
    ids = Counter(c.id for c in spec.clauses)
    clause_ids = set(ids)
    for index, clause in enumerate(spec.clauses):
        if ids[clause.id] > 1:
            yield (("clauses", index, "id"), "error", f"duplicate clause id {clause.id}")
        expected = digest_text(clause.text)
        if clause.digest != expected:
            yield (("clauses", index, "digest"), "error",
                      f"digest does not match the text of {clause.id}; if the text was edited on purpose, "
                      f"set digest: {expected}")
    params = {p.name for p in spec.signature.params}
    param_counts = Counter(p.name for p in spec.signature.params)
    for index, param in enumerate(spec.signature.params):
        if param_counts[param.name] > 1:
            yield (("signature", "params", index, "name"), "error", f"duplicate parameter {param.name}")
    documented = set()
    completion = set()
    for index, code in enumerate(spec.returns.codes):
        loc = ("returns", "codes", index)
        documented.add(code.name or code.family or code.label)
        if code.phase == "completion" and code.name:
            completion.add(code.name)
        if code.clause and code.clause not in clause_ids:
            yield (loc + ("clause",), "error", f"code cites unknown clause {code.clause}")
        if code.name and code.value is None and not code.unresolved:
            yield (loc + ("name",), "error",
                      f"{code.name} has no value: run ingest with SDK headers, add `value:`, or mark `unresolved: true`")
        if code.unresolved and code.value is not None:
            yield (loc + ("unresolved",), "error",
                      f"{code.name} has a value but is marked unresolved; remove `unresolved: true`")
        if code.unresolved and code.phase == "last-error":
            yield (loc + ("name",), "error",
                      f"last error {code.name} is not in the SDK headers: fix the name, or give its `value:`")
        elif code.unresolved:
            yield (loc + ("name",), "warning",
                      f"{code.name} is not in the SDK headers; its value is unknown (add `value:` if you know it)")
        if code.phase == "completion" and not code.reported_by:
            yield (loc + ("phase",), "warning",
                      "a completion-phase code should name the function that reports it (`reported_by:`)")
    yield from _failure(spec, clause_ids)
    case_counts = Counter(c.id for c in spec.cases)
    for index, case in enumerate(spec.cases):
        loc = ("cases", index)
        if case_counts[case.id] > 1:
            yield (loc + ("id",), "error", f"duplicate case id {case.id}")
        for position, clause_id in enumerate(case.covers):
            if clause_id not in clause_ids:
                yield (loc + ("covers", position), "error",
                          f"case {case.id} covers unknown clause {clause_id} (known: {', '.join(sorted(clause_ids))})")
        if case.call is None:
            for name in case.given:
                if name not in params:
                    yield (loc + ("given", name), "error",
                              f"case {case.id} gives unknown parameter {name!r} (parameters: {', '.join(sorted(params))})")
            expected = case.expect.returns
            for name in expected if isinstance(expected, list) else [expected] if expected else []:
                if name not in documented:
                    yield (loc + ("expect", "returns"), "error",
                              f"case {case.id} expects {name}, which is not among the spec's return codes; "
                              "add it to returns.codes (origin: editor) or fix the name")
        if case.expect.completion and case.expect.completion not in completion:
            yield (loc + ("expect", "completion"), "error",
                      f"case {case.id} expects completion {case.expect.completion}, which is not a completion-phase "
                      "code of this spec (`phase: completion`)")
        if case.stale:
            yield (loc + ("stale",), "warning",
                      f"case {case.id} covers clauses whose text changed ({', '.join(case.stale)}); "
                      "review the case and remove `stale:`")
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        relative = None
    if relative is not None and len(relative.parts) == 2:
        folder, name = relative.parts
        want_folder, want_stem = spec.path_key
        if folder != want_folder:
            yield (("header",), "error",
                      f"file is in {folder}/ but its header is {spec.header}; move it to {want_folder}/")
        elif name != f"{want_stem}.yaml":
            yield (("api",), "error",
                      f"file is named {name} but its api ({spec.api}) and source uid give {want_stem}.yaml; "
                      "rename the file, or fix api")
    for index, problem in enumerate(spec.source.problems):
        yield (("source", "problems", index), "warning", f"the page: {problem}")


def lint_file(path: Path, base: Path) -> tuple[Spec | None, list[Problem]]:
    """One spec file: the spec (None when it is not valid) and its problems.

    Read with the fast reader every stage uses; only a file with a problem is
    composed again with its node tree, to point each problem at its line and
    column. `generate` reads every spec through here too, so what lint
    rejects never becomes a suite.
    """
    data = read_data(path)
    if isinstance(data, dict):
        try:
            spec = Spec.model_validate(data)
        except ValidationError:
            spec = None
        if spec is not None:
            found = list(_meaning(path, spec, base))
            if not found:
                return spec, []
    try:
        loaded = load_file(path)
    except SpecFileError as exc:
        return None, [Problem(path, exc.line, exc.col, "error", exc.message)]
    if not isinstance(loaded.data, dict):
        return None, [Problem(path, 1, 1, "error", "a spec is a YAML mapping (spec: 1, api: ..., ...)")]
    try:
        spec = Spec.model_validate(loaded.data)
    except ValidationError as exc:
        return None, [_at(loaded, tuple(err["loc"]), "error", f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: "
                                                              f"{err['msg']}") for err in exc.errors()]
    return spec, [_at(loaded, loc, severity, message) for loc, severity, message in _meaning(path, spec, base)]


def lint(root: Path) -> LintResult:
    """Lint every spec below `root` (a folder or one file)."""
    problems: list[Problem] = []
    specs: list[Spec] = []
    files = 0
    base = root if root.is_dir() else root.parent
    for path in iter_spec_files(root):
        files += 1
        spec, found = lint_file(path, base)
        problems.extend(found)
        if spec is not None:
            specs.append(spec)
    if root.is_dir():
        schema = root / SCHEMA_FILE
        if files and (not schema.exists() or schema.read_text(encoding="utf-8") != schema_text()):
            problems.append(Problem(schema, 1, 1, "error",
                                    "schema.json is missing or out of date; run `specproof schema " f"{root}`"))
    if files == 0:
        problems.append(Problem(root, 1, 1, "error", "no spec files (*.yaml) found; run `specproof ingest` first"))
    return LintResult(files, specs, problems)
