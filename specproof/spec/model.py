"""The spec model: one documented function, as read from its reference page.

This module is the single source of truth for what a spec file may hold:
`specs/schema.json` is generated from it, `specproof lint` validates against
it, and every later stage (generator, runner, site) reads specs through it.
Models forbid unknown keys so that a typo in a hand-edited spec is an error
with a location, not a silently ignored field.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SPEC_VERSION = 1

Format = Literal["sdk-api", "wdk-ddi", "learn-text"]
Mode = Literal["user", "kernel"]
Direction = Literal["in", "out", "inout"]
ClauseKind = Literal["normative", "obligation", "informative"]
Section = Literal["returns", "remarks"]
Phase = Literal["call", "completion", "last-error"]
Origin = Literal["table", "prose", "param", "editor"]
CodeValue = Annotated[int, Field(ge=0, le=0xFFFFFFFFFFFFFFFF, description="Unsigned; 32-bit codes as 0x%08X")]
ReturnShape = Literal["status", "bool", "boolean", "void", "value", "pointer", "handle", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Requirements(_Model):
    """The requirements block of the page, kept verbatim (text, not parsed)."""

    min_client: str | None = None
    min_server: str | None = None
    irql: str | None = None
    target_type: str | None = None
    target_platform: str | None = None
    kmdf_ver: str | None = None
    umdf_ver: str | None = None
    ddi_compliance: str | None = None


class Source(_Model):
    """Where the spec was read from; `digest` detects doc drift on re-ingest."""

    format: Format
    uid: str | None = None
    file: str
    date: str | None = Field(default=None, description="Doc date (ISO yyyy-mm-dd) from the page's ms.date")
    digest: str
    problems: list[str] = Field(
        default_factory=list,
        description="Parts of the page that could not be read as the format says, and what the reader did instead",
    )


class Param(_Model):
    name: str
    type: str | None = Field(default=None, description="C type from the page's prototype or the SDK headers")
    direction: Direction | None = Field(default=None, description="None when the page gives no annotation: not guessed")
    optional: bool = False
    annotation: str | None = Field(default=None, description="The page's annotation as written, e.g. '[in, optional]'")
    doc: str = ""


class Signature(_Model):
    returns: str | None = None
    params: list[Param] = Field(default_factory=list)
    types_from: Literal["page", "sdk-headers"] | None = Field(
        default=None, description="Where the C types came from; None when no source gave them"
    )


class ReturnCode(_Model):
    """One documented outcome of a call.

    Exactly one of `name`, `family` or `label` identifies it:
    - `name`: a symbolic code (SEC_E_OK, HRESULT_FROM_WIN32(ERROR_X)) with its value;
    - `family`: a set of codes, either a wildcard with a `range` (FWP_E_*)
      or an open set (`open: true`, "Other NTSTATUS codes");
    - `label`: a row that names a condition rather than a code ("Nonzero", "< Zero").
    """

    name: str | None = None
    value: CodeValue | None = None
    family: str | None = None
    range: tuple[CodeValue, CodeValue] | None = None
    open: bool = False
    label: str | None = None
    success: bool = False
    origin: Origin = "table"
    unresolved: bool = Field(default=False, description="The name has no value in the page or the SDK headers")
    phase: Phase = Field(
        default="call",
        description="'call': returned by this function; 'completion': reported later by `reported_by`; "
                    "'last-error': set as the thread's last error (what GetLastError returns after the call)",
    )
    reported_by: str | None = None
    clause: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> "ReturnCode":
        given = [k for k in ("name", "family", "label") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a return code has exactly one of name, family or label")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range must be [low, high]")
        return self

    def covers(self, value: int | None, name: str | None = None) -> bool:
        """Whether an observed value is this very code: by its value, within its range, else by its name."""
        if value is not None and self.value is not None:
            return self.value == value
        if value is not None and self.range is not None:
            return self.range[0] <= value <= self.range[1]
        return bool(self.name) and self.name == name

    @property
    def stands_for_the_rest(self) -> bool:
        """An open family ("Other NTSTATUS codes") or a condition row ("Nonzero"): any value no other code names."""
        return self.open or bool(self.label)


FailureSignal = Literal["status", "value", "error-code", "none", "unknown"]

_POINTER_SIZED = re.compile(r"^(?:H[A-Z0-9]+|L?P[A-Z0-9_]*|SIZE_T|SSIZE_T|[A-Z]*_PTR|FARPROC|ULONGLONG|LONGLONG|DWORD64|"
                            r"ULONG64|LONG64)$|\*$")


def return_width(return_type: str | None) -> int:
    """Bits of the return register a return type uses: 64 for handles, pointers and sizes, else 32 (LLP64)."""
    base = re.sub(r"\b(?:const|CONST|volatile)\b", "", return_type or "").strip()
    return 64 if _POINTER_SIZED.search(base) else 32


class FailureValue(_Model):
    """A return value the page says means failure, tied to the sentence that says so.

    `name` is what the page writes (FALSE, NULL, INVALID_HANDLE_VALUE,
    WAIT_FAILED, INVALID_FILE_SIZE, `(DWORD)-1`, `zero`); `value` its value,
    from the page or the SDK headers. `nonzero` stands for "a nonzero error
    code": every value but the success one.
    """

    name: str | None = None
    value: CodeValue | None = None
    nonzero: bool = False
    unresolved: bool = Field(default=False, description="The name has no value in the page or the SDK headers")
    clause: str | None = None

    @model_validator(mode="after")
    def _named_or_nonzero(self) -> "FailureValue":
        if not self.name and not self.nonzero:
            raise ValueError("a failure value has a name (FALSE, NULL, INVALID_HANDLE_VALUE, ...) or is nonzero")
        return self

    def covers(self, value: int, width: int = 64) -> bool:
        """Whether a returned value (cut to the return type's `width` bits) is this failure value."""
        if self.nonzero:
            return value != 0
        if self.value is None:
            return False
        mask = (1 << width) - 1
        return (self.value & mask) == (value & mask)


class Failure(_Model):
    """How the function tells its caller it failed (the Win32 error model), read from its page.

    - `status`: the return value is a status code (HRESULT, NTSTATUS, SECURITY_STATUS); `codes` say which.
    - `value`: some return values mean failure (`values`); the reason is the thread's last error.
    - `error-code`: the return value is itself a Win32 error code (LSTATUS: ERROR_SUCCESS, else the error).
    - `none`: nothing to report (the function returns nothing, or the page says it cannot fail).
    - `unknown`: the page does not say; what it says about failure that the reader could not decide is
      in `source.problems`, for the spec editor.

    `last_error` is True when the page says to call GetLastError for the reason, False when it says not
    to (or that the function does not set it), None when it says neither; the codes the page names for
    the last error are in `codes` with phase `last-error`.
    """

    signal: FailureSignal = "unknown"
    values: list[FailureValue] = Field(default_factory=list)
    last_error: bool | None = None
    last_error_clause: str | None = None


class Returns(_Model):
    shape: ReturnShape = "unknown"
    codes: list[ReturnCode] = Field(default_factory=list)
    failure: Failure = Field(default_factory=Failure)

    def failed(self, value: int, width: int = 64) -> bool | None:
        """Whether a returned value means the call failed, by the page's failure values; None: they do not say."""
        if self.failure.signal not in ("value", "error-code") or not self.failure.values:
            return None
        return any(v.covers(value, width) for v in self.failure.values)

    def match(self, value: int | None, name: str | None = None, phase: str = "call") -> ReturnCode | None:
        """The documented code an observed value is, or None when it is undocumented.

        The one rule every stage judges by (the run's `documented-codes`, the
        site's counts): the code that names the value, else an open family or
        a condition row of the same phase, which stand for every other value.
        """
        codes = [c for c in self.codes if c.phase == phase]
        return (next((c for c in codes if c.covers(value, name)), None)
                or next((c for c in codes if c.stands_for_the_rest), None))


class Clause(_Model):
    id: str
    section: Section
    text: str
    digest: str
    kind: ClauseKind


class FixtureArg(_Model):
    """An argument built by a fixture in `conformance/fixtures/` (a live or released object)."""

    fixture: str = Field(description="Fixture name, e.g. security_context, deleted_security_context, engine")
    attr: str | None = Field(default=None, description="Use this attribute of the fixture's value, e.g. `id`")


class ValueArg(_Model):
    """A literal integer argument; `name` says which constant it is, for readers."""

    value: int = Field(ge=-(2**63), le=2**64 - 1)
    name: str | None = None


class HandleArg(_Model):
    """A handle that is not valid: NULL pointer, zeroed, or garbage contents."""

    handle: Literal["null", "zeroed", "garbage"]


class BufferArg(_Model):
    """A zeroed buffer of `buffer` bytes the function may write into."""

    buffer: int = Field(ge=0, le=1 << 20)


class StringArg(_Model):
    """A NUL-terminated string the kit writes into the implementation's memory: UTF-16, or ANSI with `ansi`."""

    string: str = Field(max_length=260, description="The text, without its terminating NUL")
    ansi: bool = False


class ConstantArg(_Model):
    """Constants from the SDK headers, OR-ed (`GENERIC_READ|GENERIC_WRITE`), looked up when the test runs."""

    constant: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(?:\s*\|\s*[A-Za-z_][A-Za-z0-9_]*)*$")
    pointer: bool = Field(default=False, description="A handle constant, sign-extended as a 64-bit process sees it "
                                                     "(HKEY_CURRENT_USER, INVALID_HANDLE_VALUE)")

    def names(self) -> list[str]:
        return [name.strip() for name in self.constant.split("|")]


_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
Sign = Literal["negative", "zero", "positive", "nonzero"]
#: How a sign reads in an expectation and in a failure message.
SIGN_WORDS: dict[str, str] = {"negative": "less than zero", "zero": "zero", "positive": "more than zero",
                              "nonzero": "nonzero"}


def as_signed(value: int, bits: int) -> int:
    """`value` cut to `bits` and read as two's complement (a LONG's 0xFFFFFFFF is -1)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class StructArg(_Model):
    """A structure the SDK headers define, filled in before the call and passed by address
    (`{struct: LARGE_INTEGER, fields: {QuadPart: 0}}`: a zero timeout). A field is an integer, or a string
    whose address it holds (`Buffer: {string: "abc"}`); fields not given are zero."""

    struct: str = Field(pattern=_IDENT)
    fields: dict[Annotated[str, StringConstraints(pattern=_IDENT)], int | StringArg] = Field(default_factory=dict)


class AddressRef(_Model):
    """The address of something the test holds: an argument of the call (`arg: ListHead`), or a fixture's
    value or one of its attributes (`fixture: list_with_entry, attr: entry`)."""

    arg: str | None = Field(default=None, pattern=_IDENT)
    fixture: str | None = Field(default=None, pattern=_IDENT)
    attr: str | None = Field(default=None, pattern=_IDENT)

    @model_validator(mode="after")
    def _one(self) -> "AddressRef":
        if (self.arg is None) == (self.fixture is None):
            raise ValueError("name either `arg` (an argument of the call) or `fixture` (with an optional `attr`)")
        if self.attr is not None and self.fixture is None:
            raise ValueError("`attr` goes with `fixture`")
        return self


Arg = FixtureArg | ValueArg | HandleArg | BufferArg | StringArg | ConstantArg | StructArg


class Expect(_Model):
    """What a case expects of the call; every key given must hold."""

    returns: str | list[str] | None = Field(
        default=None, description="A documented code name, or a list of acceptable names"
    )
    success: bool | None = Field(
        default=None, description="true: any documented success code; false: any documented failure code"
    )
    completion: str | None = Field(
        default=None,
        description="For asynchronous calls: the completion-phase code, polled through the code's `reported_by` function",
    )
    last_error: str | list[str] | None = Field(
        default=None,
        description="The thread's last error after the call, by name (ERROR_FILE_NOT_FOUND), or a list of acceptable "
                    "names; `none` when the call must leave it unset",
    )
    value: int | None = Field(
        default=None, ge=-(2**63), le=2**64 - 1,
        description="The exact value returned (a count, a size), for a case the page states it for",
    )
    sign: Sign | None = Field(
        default=None,
        description="The value returned, read as a signed number of the return type's width: `< Zero`, `Zero`, "
                    "`> Zero` rows, a previous state that is nonzero, a pointer that is not NULL",
    )
    value_is: AddressRef | None = Field(
        default=None, description="The value returned is this address (RemoveHeadList returns the entry it removed)")
    writes: dict[Annotated[str, StringConstraints(pattern=_IDENT)],
                 dict[Annotated[str, StringConstraints(pattern=_IDENT)], int | AddressRef | Sign]] = Field(
        default_factory=dict,
        description="After the call, the structure a pointer argument points to holds these fields "
                    "(`DestinationString: {Length: 18}`; a field may be an address the test holds, or a sign), by "
                    "the headers' layout of the parameter's type (or of the structure the case gave)",
    )


class Case(_Model):
    """A case: curated by a spec editor where rules cannot see the intent, or derived by a rule.

    `given` names the arguments of the call (parameters not given are NULL or
    zero); `call` runs another function with them instead of the spec's own,
    e.g. a query on a handle after the function under test released it.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    rule: str = Field(default="curated", description="The derivation rule, or `curated`")
    covers: list[str] = Field(default_factory=list)
    level: Literal["conformance", "robustness"] = "conformance"
    mode: Mode | None = None
    call: str | None = Field(default=None, description="Function to call instead of the spec's own")
    given: dict[str, Arg] = Field(default_factory=dict)
    expect: Expect = Field(default_factory=Expect)
    note: str | None = None
    stale: list[str] = Field(
        default_factory=list,
        description="Covered clause ids whose text changed since the case was written; set by ingest",
    )


class Spec(_Model):
    spec: Literal[1] = SPEC_VERSION
    api: str = Field(description="The documented name: `CreateFileW`, `IDebugClient::AttachProcess`")
    kind: Literal["function", "method"] = Field(
        default="function",
        description="`method`: a COM or C++ member, called through an object the kit cannot make yet (no call tests)",
    )
    summary: str = ""
    header: str
    include_header: str | None = None
    library: str | None = None
    dll: str | None = None
    mode: Mode = "user"
    mode_reason: str | None = Field(default=None, description="Which page fact made the function kernel-mode")
    requirements: Requirements = Field(default_factory=Requirements)
    source: Source
    signature: Signature = Field(default_factory=Signature)
    returns: Returns = Field(default_factory=Returns)
    clauses: list[Clause] = Field(default_factory=list)
    see_also: list[str] = Field(default_factory=list)
    cases: list[Case] = Field(default_factory=list)

    def clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self.clauses if c.id == clause_id), None)

    @property
    def path_key(self) -> tuple[str, str]:
        """(header folder, file stem): the spec's place under specs/, `<folder>/<stem>.yaml`."""
        return header_stem(self.header), file_stem(self.api, self.source.uid)

    @property
    def key(self) -> str:
        """`folder/stem`: the spec's identity in suites, results and the site."""
        folder, stem = self.path_key
        return f"{folder}/{stem}"


_UNSAFE = re.compile(r"[^\w.~+-]")


def file_stem(api: str, uid: str | None = None) -> str:
    """The spec file's name (without `.yaml`) for a documented name and the page's UID.

    The UID's own tail names the page uniquely within its header, also for
    C++ overloads (`ExtBuffer.Copy(const_T,ULONG)`) and the docs' repeated
    names (`_BitTest64~r1`), where the documented name alone would collide;
    without a UID (a learn-text copy) the documented name is used, `::` as `.`.
    """
    tail = uid.split(":", 1)[-1].split(".", 1)[1] if uid and "." in uid else api.replace("::", ".")
    return _UNSAFE.sub("_", tail)


def function_of_stem(stem: str) -> str:
    """The exported name a spec file stem stands for: `_BitTest64~r1` -> `_BitTest64`."""
    return stem.split("~", 1)[0]


def header_stem(header: str) -> str:
    """`sspi.h` -> `sspi`, `ndis/mdlapi.h` -> `mdlapi`: the folder a spec lives in.

    A header in a subfolder of the SDK's include folder gets the folder its
    docs live in (the docs repositories name it by the file alone), so every
    stage finds its specs one level below `specs/`.
    """
    name = header.strip().replace("\\", "/").rsplit("/", 1)[-1].lower()
    for ext in (".h", ".hpp", ".idl"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name
