"""What the fixtures can build: the catalog the derivation rules consult.

The catalog is data (`conformance/fixtures/catalog.yaml`) kept beside the
fixtures it describes, so adding a fixture for a new handle type makes the
rules derive cases for every function taking it, without touching the kit.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..adapter.marshal import normalise_type
from ..spec.model import Arg, ConstantArg, FixtureArg, Param


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Use(_Model):
    """A call that uses a handle, to show whether it is still valid."""

    call: str
    param: str
    args: dict[str, Arg] = Field(default_factory=dict)


class HandleKind(_Model):
    types: list[str]
    names: list[str] = Field(default_factory=list)
    live: str
    #: The attribute of the live fixture's value that is the handle (`reg_key.handle`), when it carries more.
    attr: str | None = None
    released: str | None = None
    release: list[str] = Field(default_factory=list)
    #: Functions that return a new handle of this kind (CreateFileW): a test's call that makes one leaves
    #: it to the kit, which releases it with the first `release` function when the test's call is done.
    made_by: list[str] = Field(default_factory=list)
    #: False for a handle that is the object's own address (a heap): the pages promise no check of it, and a
    #: garbage or released one makes even Windows fault, so no rule passes one.
    checked: bool = True
    use: Use | None = None

    def live_arg(self) -> FixtureArg:
        return FixtureArg(fixture=self.live, attr=self.attr)

    def matches(self, param: Param) -> bool:
        if normalise_type(param.type) not in {normalise_type(t) for t in self.types}:
            return False
        return not self.names or param.name in self.names


class ValueSource(_Model):
    """Where a valid value for a (non-handle) parameter comes from: a fixture's attribute, or constants."""

    types: list[str]
    names: list[str]
    functions: list[str] = Field(default_factory=list)
    fixture: str | None = None
    attr: str | None = None
    constant: str | None = None

    def arg(self) -> Arg:
        if self.constant:
            return ConstantArg(constant=self.constant)
        if self.fixture is None:
            raise ValueError(f"catalog value for {', '.join(self.names)} names neither a fixture nor a constant")
        return FixtureArg(fixture=self.fixture, attr=self.attr)

    def matches(self, function: str, param: Param) -> bool:
        return (normalise_type(param.type) in {normalise_type(t) for t in self.types}
                and param.name in self.names and (not self.functions or function in self.functions))


class Catalog(_Model):
    handles: list[HandleKind] = Field(default_factory=list)
    values: list[ValueSource] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "Catalog":
        if not path.exists():
            return cls()
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
            return cls.model_validate(data)
        except (yaml.YAMLError, ValidationError) as error:
            raise ValueError(f"{path}: {error}") from error

    def closers(self) -> dict[str, str]:
        """Function that returns a new handle -> the function that releases it (CreateFileW -> CloseHandle)."""
        return {maker: kind.release[0] for kind in self.handles if kind.release for maker in kind.made_by}

    def handle(self, param: Param) -> HandleKind | None:
        return next((h for h in self.handles if h.matches(param)), None)

    def value(self, function: str, param: Param) -> ValueSource | None:
        return next((v for v in self.values if v.matches(function, param)), None)
