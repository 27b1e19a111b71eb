"""The records of the results format: one test's result, one observed call, one run's metadata.

Typed here, once, so that the writer (the pytest plugin), the summary
(`specproof run`) and the site read and write the same fields with the same
meaning; a field added for one of them is added here, for all.

Each record converts to and from its JSON form. The JSON of a test result
and of an observed call leaves out fields at their default (no `message`
when there is none), so a results file holds what happened, not the
schema. A run's metadata carries `format`, the version of this format: a
kit reads every version up to its own and refuses a newer one by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..outcomes import Outcome

#: The results format's version, written to every run.json. Runs written before it was recorded are version 1.
FORMAT = 1


class RecordError(ValueError):
    """A record that is not what the format says; the message says which field and why."""


def _text(record: dict[str, Any], key: str, default: str = "") -> str:
    value = record.get(key)
    return default if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Observed:
    """One call the test made into the implementation, as recorded: what it returned or how it ended."""

    function: str
    value: str | None = None  # "0x00000000": hex of the value returned (a status, a BOOL, a pointer)
    name: str | None = None  # the SDK name of the value, when the value is a code the headers name
    documented: bool | None = None  # whether the function's page documents the value (None: the page lists none)
    phase: str = "call"  # "call", or "completion" for a status read back later through another function
    fault: str | None = None  # the call faulted instead of returning: "exception 0xC0000005 (...) at 0x..."
    timeout: bool = False  # the call did not return in time
    diagnostics: tuple[str, ...] = ()  # what the implementation printed during the call
    stub: str = ""  # the implementation's own word that the function is a stub
    last_error: str | None = None  # "0x00000006": the thread's last error after the call; None: the call left it
    last_error_name: str | None = None  # its SDK name (ERROR_INVALID_HANDLE), when the headers name it

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"function": self.function}
        if self.value is not None:
            out["value"] = self.value
            out["name"] = self.name
            if self.documented is not None:
                out["documented"] = self.documented
        if self.last_error is not None:
            out["last_error"] = self.last_error
            out["last_error_name"] = self.last_error_name
        if self.phase != "call":
            out["phase"] = self.phase
        if self.fault:
            out["fault"] = self.fault
        if self.timeout:
            out["timeout"] = True
        if self.diagnostics:
            out["diagnostics"] = list(self.diagnostics)
        if self.stub:
            out["stub"] = self.stub
        return out

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> "Observed":
        documented = item.get("documented")
        return cls(
            function=_text(item, "function"),
            value=None if item.get("value") is None else str(item["value"]),
            name=None if item.get("name") is None else str(item["name"]),
            documented=documented if isinstance(documented, bool) else None,
            phase="completion" if item.get("phase") == "completion" else "call",
            fault=str(item["fault"]) if item.get("fault") else None,
            timeout=bool(item.get("timeout")),
            diagnostics=tuple(str(d) for d in item.get("diagnostics") or ()),
            stub=_text(item, "stub"),
            last_error=None if item.get("last_error") is None else str(item["last_error"]),
            last_error_name=None if item.get("last_error_name") is None else str(item["last_error_name"]),
        )


@dataclass(slots=True)
class TestResult:
    """One test's result: one line of results.jsonl.

    Mutable while the test runs (the plugin fills it phase by phase); a
    finished result is written once and read back as it was.
    """

    __test__ = False  # not a pytest test class, whatever its name

    id: str  # pytest's node id
    spec: str  # the spec's key, "header/Function"
    function: str
    case: str
    rule: str  # the derivation rule, or "curated"
    outcome: Outcome | None = None  # None only while the test runs
    clauses: tuple[str, ...] = ()
    level: str = "conformance"  # or "robustness"
    mode: str = "user"  # or "kernel"
    expected: str = ""
    observed: tuple[Observed, ...] = ()
    message: str = ""
    departure: str | None = None  # the outcome an expectation turned into xfail/xpass
    duration: float = 0.0
    diagnostics: tuple[str, ...] = ()  # what the implementation printed during the whole test

    @property
    def departs(self) -> bool:
        """Whether the implementation did something other than the docs say (an expected departure too)."""
        return self.outcome in (Outcome.FAIL, Outcome.UNDOCUMENTED) or (
            self.outcome == Outcome.XFAIL and self.departure in ("fail", "undocumented", None))

    @property
    def ran(self) -> bool:
        """Whether the call was made and judged (not missing, not applicable, not a kit error)."""
        return self.outcome is not None and self.outcome.ran

    def to_json(self) -> dict[str, Any]:
        if self.outcome is None:
            raise RecordError(f"{self.id}: a result without an outcome cannot be written")
        out: dict[str, Any] = {
            "id": self.id, "spec": self.spec, "function": self.function, "case": self.case, "rule": self.rule,
            "clauses": list(self.clauses), "level": self.level, "mode": self.mode, "expected": self.expected,
            "observed": [o.to_json() for o in self.observed], "outcome": self.outcome.value,
            "duration": self.duration,
        }
        if self.departure:
            out["departure"] = self.departure
        if self.message:
            out["message"] = self.message
        if self.diagnostics:
            out["diagnostics"] = list(self.diagnostics)
        return out

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "TestResult":
        """A result from its JSON object; a missing id or an outcome the kit does not know is a RecordError."""
        test_id = record.get("id")
        if type(test_id) is not str:
            raise RecordError("not a test result (a JSON object with a test `id`)")
        try:
            outcome = Outcome(record.get("outcome"))
        except ValueError:
            raise RecordError(f"outcome {record.get('outcome')!r} of {test_id} is not one of "
                              f"{', '.join(o.value for o in Outcome)}") from None
        spec = _text(record, "spec")
        duration = record.get("duration")
        return cls(
            id=test_id, spec=spec, function=_text(record, "function") or spec.rpartition("/")[2],
            case=_text(record, "case") or test_id, rule=_text(record, "rule"), outcome=outcome,
            clauses=tuple(str(c) for c in record.get("clauses") or ()),
            level=_text(record, "level", "conformance"), mode=_text(record, "mode", "user"),
            expected=_text(record, "expected"),
            observed=tuple(Observed.from_json(o) for o in record.get("observed") or () if isinstance(o, dict)),
            message=_text(record, "message"), departure=record.get("departure") or None,
            duration=float(duration) if isinstance(duration, (int, float)) else 0.0,
            diagnostics=tuple(str(d) for d in record.get("diagnostics") or ()),
        )


@dataclass(slots=True)
class RunMeta:
    """A run's metadata (run.json): which implementation, through which adapter, against which specs, and how it ended.

    `counts` are of the whole run (the part before a resume included);
    `interrupted` marks a run stopped before its last test. Fields a newer
    kit of the same format version added are kept in `extra` and written
    back unchanged.
    """

    run_id: str
    adapter: str
    impl: str
    implementation: dict[str, Any] = field(default_factory=dict)  # the adapter's info(): name, version, platform...
    kit_version: str = ""
    specs_digest: str = ""
    expectations: str | None = None
    started: str = ""
    finished: str | None = None
    command: list[str] = field(default_factory=list)
    counts: dict[str, int] | None = None
    exit_status: int | None = None
    interrupted: bool = False
    resumed: list[str] = field(default_factory=list)
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = ("run_id", "adapter", "impl", "implementation", "kit_version", "specs_digest", "expectations",
               "started", "finished", "command", "counts", "exit_status", "interrupted", "resumed", "format")

    @property
    def closed(self) -> bool:
        return bool(self.finished)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update({
            "format": self.format, "run_id": self.run_id, "adapter": self.adapter, "impl": self.impl,
            "implementation": self.implementation, "kit_version": self.kit_version,
            "specs_digest": self.specs_digest, "expectations": self.expectations, "started": self.started,
            "finished": self.finished, "command": self.command,
        })
        if self.counts is not None:
            out["counts"] = dict(sorted(self.counts.items()))
            out["exit_status"] = self.exit_status
        if self.interrupted:
            out["interrupted"] = True
        if self.resumed:
            out["resumed"] = self.resumed
        return out

    @classmethod
    def from_json(cls, meta: dict[str, Any], folder_name: str) -> "RunMeta":
        """The metadata of run folder `folder_name`; a newer format or a field of the wrong kind is a RecordError."""
        version = meta.get("format", 1)
        if type(version) is not int or version < 1:
            raise RecordError(f"`format` is {version!r}, not a format version (a whole number from 1)")
        if version > FORMAT:
            raise RecordError(f"written in results format {version}; this kit reads formats up to {FORMAT}: "
                              "upgrade specproof to read it")
        counts = meta.get("counts")
        if counts is not None and not (isinstance(counts, dict)
                                       and all(type(n) is int for n in counts.values())):
            raise RecordError("`counts` is not a map of outcome to number")
        implementation = meta.get("implementation")
        return cls(
            run_id=_text(meta, "run_id") or folder_name, adapter=_text(meta, "adapter"), impl=_text(meta, "impl"),
            implementation=implementation if isinstance(implementation, dict) else {},
            kit_version=_text(meta, "kit_version"), specs_digest=_text(meta, "specs_digest"),
            expectations=None if meta.get("expectations") is None else str(meta["expectations"]),
            started=_text(meta, "started"), finished=meta.get("finished") or None,
            command=[str(c) for c in meta.get("command") or ()],
            counts=dict(counts) if counts is not None else None,
            exit_status=meta.get("exit_status") if type(meta.get("exit_status")) is int else None,
            interrupted=bool(meta.get("interrupted")), resumed=[str(r) for r in meta.get("resumed") or ()],
            format=version, extra={k: v for k, v in meta.items() if k not in cls._FIELDS},
        )
