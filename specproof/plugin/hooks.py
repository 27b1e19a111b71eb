"""The pytest plugin: adapters for the `api` fixture, outcomes, expectations and results.

Registered through the `pytest11` entry point, so `pytest conformance
--adapter model` works as well as `specproof run`. Tests without the
`specproof` marker (the kit's own tests) are left alone.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest
from pytest import TestReport

from .. import __version__
from ..adapter import registry
from ..adapter.codebook import CodeBook
from ..adapter.contract import Adapter, Info, RecoversBetweenTests
from ..adapter.marshal import Api
from ..adapter.specindex import SpecIndex
from ..derive.catalog import Catalog
from ..outcomes import OUTCOMES, NotApplicable, Outcome, OutcomeError
from ..results import ResultsError, RunMeta, RunWriter, TestResult, check_run_id, new_run_id, now, read_results
from ..runoptions import RUN_OPTIONS, adapter_options
from ..spec.model import function_of_stem
from ..spec.yamlio import SpecFileError, spec_set_digest
from .expectations import Expectations
from .verdict import verdict

MARK = "specproof"
_PLUGIN_NAME = "specproof-run"
_SHOWN = ("fail", "undocumented", "crash", "timeout", "xpass", "error")
_STATE = pytest.StashKey["RunState"]()
_API = pytest.StashKey[Api]()
_RESULT = pytest.StashKey[TestResult]()
_FIRST_OBSERVATION = pytest.StashKey[int]()  # observations before it were the fixtures' (setup)
_LAST_OBSERVATION = pytest.StashKey[int]()  # observations from it on release what the test's calls made



def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("specproof", "specproof conformance runs")
    for option in RUN_OPTIONS:  # declared once, for this plugin and for `specproof run`
        group.addoption(option.flag, dest=option.dest, default=None, metavar=option.metavar, help=option.help,
                        type=float if option.kind is float else None)
    group.addoption("--no-results", action="store_true", help="write no results folder")


class RunState:
    """What one pytest process knows about the run (options, specs, expectations, results), and the hooks
    that record it: registered as a plugin object, its state in `config.stash`, nothing in a module global."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        opt = config.option
        self.adapter_name = opt.adapter or registry.choose_default()
        self.impl = registry.impl_label(self.adapter_name, opt.impl)
        root = Path(config.rootpath)
        self.specs = SpecIndex(Path(opt.specs) if opt.specs else root / "specs")
        self.codes = CodeBook()
        self.timeout = opt.call_timeout if opt.call_timeout is not None else 10.0
        exp_path = Path(opt.expectations) if opt.expectations else root / "expectations" / f"{self.impl}.yaml"
        self.expectations = Expectations.load(exp_path)
        self.expectations_file = _relative(exp_path, root) if exp_path.exists() else None
        self._adapter: Adapter | None = None
        self._info: Info | None = None
        self._closers: dict[Path, dict[str, str]] = {}
        self.is_worker = hasattr(config, "workerinput")
        self.writer: RunWriter | None = None
        self.counts: Counter[str] = Counter()
        self.departures: list[TestResult] = []
        self.done: set[str] = set()
        self.interrupted = False
        results_root = Path(opt.results) if opt.results else root / "results"
        try:
            self.run_id = check_run_id(opt.resume or opt.run_id or new_run_id(self.impl))
        except ResultsError as error:
            raise pytest.UsageError(str(error)) from error
        self.folder = results_root / self.run_id
        if opt.resume:
            if not (self.folder / "results.jsonl").exists():
                raise pytest.UsageError(f"--resume {opt.resume}: no {self.folder / 'results.jsonl'} to resume")
            try:
                self.done = {r.id for r in read_results(self.folder / "results.jsonl")}
            except ResultsError as error:
                raise pytest.UsageError(str(error)) from error

    def closers(self, test_file: Path) -> dict[str, str]:
        """What releases the handles a test's calls make, from the catalog beside the suites' fixtures
        (`<suites>/fixtures/catalog.yaml`, one folder above the header's test module)."""
        path = test_file.parent.parent / "fixtures" / "catalog.yaml"
        if path not in self._closers:
            try:
                self._closers[path] = Catalog.load(path).closers()
            except ValueError as error:
                raise pytest.UsageError(str(error)) from error
        return self._closers[path]

    def adapter(self) -> Adapter:
        if self._adapter is None:
            try:
                self._adapter = registry.create(self.adapter_name, **adapter_options(self.config.option))
            except (registry.AdapterNotFound, RuntimeError) as error:
                raise pytest.UsageError(str(error)) from error
            except OSError as error:  # e.g. a folder the adapter writes is read-only
                where = f" {error.filename}" if error.filename else ""
                raise pytest.UsageError(f"adapter {self.adapter_name!r} could not start: {error.strerror or error}"
                                        f"{where}; if that folder is not writable, set SPECPROOF_CACHE to one that "
                                        "is") from error
        return self._adapter

    def info(self) -> Info:
        """The implementation's info, asked once per process (it does not change during a run)."""
        if self._info is None:
            self._info = self.adapter().info()
        return self._info

    def start_results(self) -> None:
        try:
            digest = spec_set_digest(self.specs.root)
        except SpecFileError as error:
            raise pytest.UsageError(str(error)) from error
        info = self.info()
        meta = RunMeta(
            run_id=self.run_id, adapter=self.adapter_name, impl=self.impl,
            implementation={"name": info.name, "version": info.version, "platform": info.platform,
                            "architecture": info.architecture, "kernel_mode": info.kernel_mode,
                            "kernel_in_process": info.kernel_in_process,
                            **({"details": info.details} if info.details else {})},
            kit_version=__version__, specs_digest=digest, expectations=self.expectations_file, started=now(),
            command=["pytest" if sys.argv[0].endswith("__main__.py") else Path(sys.argv[0]).name, *sys.argv[1:]],
        )
        try:
            self.writer = RunWriter(self.folder, meta, resume=bool(self.config.option.resume))
        except ResultsError as error:
            raise pytest.UsageError(str(error)) from error

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None

    # -- the run's hooks: this object is registered as a plugin (pytest_configure), as junitxml's is --

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.done:
            keep, drop = [], []
            for item in items:
                (drop if item.nodeid in self.done else keep).append(item)
            if drop:
                config.hook.pytest_deselected(items=drop)
                items[:] = keep
        if (not self.is_worker and not config.option.no_results and not config.option.collectonly
                and self.writer is None and _is_conformance(items)):
            self.start_results()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config) -> None:  # the controller collects nothing itself
        if not config.option.no_results and self.writer is None:
            self.start_results()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        record = next((value for key, value in report.user_properties if key == MARK), None)
        if record is None:
            return
        result = TestResult.from_json(record)  # it crossed from an xdist worker as plain data
        self.counts[result.outcome.value] += 1
        if result.outcome in _SHOWN:
            self.departures.append(result)
        if self.writer is not None:
            self.writer.add(result)

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        """Noted first: should a later plugin fail while reporting the interrupt, pytest finishes the
        session with the status it had before it (0), and the run must still be closed as interrupted."""
        self.interrupted = True

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.interrupted and exitstatus == pytest.ExitCode.OK:
            exitstatus = pytest.ExitCode.INTERRUPTED
        if self.writer is not None:
            self.interrupted = self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
            try:
                self.writer.finish(self.counts, int(exitstatus), interrupted=self.interrupted)
            except OSError as error:  # the disk filled or turned read-only: every result line written is kept
                sys.stderr.write(f"specproof: cannot close the run in {self.folder}: {error.strerror or error} "
                                 f"({error.filename}); its {sum(self.counts.values())} results are kept; "
                                 "resume it once the folder is writable\n")
        self.close()

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        if self.is_worker or not self.counts:
            return
        parts = ", ".join(f"{self.counts[o]} {o}" for o in OUTCOMES if self.counts[o])
        terminalreporter.write_sep("=", "specproof", bold=True)
        limit = None if config.option.verbose > 0 else 30
        for result in sorted(self.departures, key=lambda r: (_SHOWN.index(r.outcome), r.id))[:limit]:
            level = " (robustness)" if result.level == "robustness" else ""
            message = result.message
            terminalreporter.write_line(f"{result.outcome.value.upper()}{level} {result.id} - "
                                        f"{message.splitlines()[0][:160] if message else ''}")
        if limit is not None and len(self.departures) > limit:
            terminalreporter.write_line(f"... and {len(self.departures) - limit} more (-v shows all; see the results)")
        terminalreporter.write_line(f"{self.impl} ({self.adapter_name}): {parts}")
        if self.writer is not None:
            terminalreporter.write_line(f"results: {self.folder}")
        if self.interrupted:
            terminalreporter.write_line(
                f"interrupted: {self.folder.name} keeps its {sum(self.counts.values())} results; finish it with: "
                f"{registry.resume_command(self.adapter_name, self.impl, self.run_id)}")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}(spec, case, rule, covers, level, mode, expect): "
                                       "a conformance test derived from a spec")
    state = config.stash[_STATE] = RunState(config)
    config.pluginmanager.register(state, _PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        config.pluginmanager.unregister(state, _PLUGIN_NAME)
        del config.stash[_STATE]


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash[_STATE]
    return [f"specproof {__version__}: adapter {state.adapter_name}, implementation label {state.impl}"]


def _is_conformance(items: list[pytest.Item]) -> bool:
    return any(item.get_closest_marker(MARK) for item in items)


@pytest.fixture(scope="session")
def specproof_adapter(request: pytest.FixtureRequest) -> Iterator[Adapter]:
    """This process's adapter instance (one per xdist worker)."""
    state = request.config.stash[_STATE]
    yield state.adapter()
    state.close()


@pytest.fixture
def api(request: pytest.FixtureRequest, specproof_adapter: Adapter) -> Iterator[Api]:
    """Named calls into the implementation, judged against the spec of the test's function."""
    state = request.config.stash[_STATE]
    mark = request.node.get_closest_marker(MARK)
    stem, function = (mark.kwargs["spec"].split("/", 1) if mark else (None, None))
    info = state.info()
    if mark and mark.kwargs.get("mode") == "kernel":
        if not info.kernel_mode and not info.kernel_in_process:
            raise NotApplicable(f"{info.name} cannot run kernel-mode code")
    if isinstance(specproof_adapter, RecoversBetweenTests):
        specproof_adapter.next_test()
    api = Api(specproof_adapter, state.specs, state.codes, state.timeout,
              under_test=function_of_stem(function) if function else None, header=stem,
              closers=state.closers(Path(request.node.path)),
              outside_kernel=info.kernel_in_process and not info.kernel_mode)
    request.node.stash[_API] = api
    if api.under_test and api.spec_of(api.under_test).kind == "function":
        # a function the implementation lacks (or ships as a stub) is what its test finds, whatever the
        # test's fixtures would have needed first (an engine from a user-mode function, say)
        api.resolve(api.under_test)
    yield api
    api.release_memory()


def _outcome_of(excinfo: pytest.ExceptionInfo | None) -> tuple[str, str]:
    if excinfo is None:
        return "pass", ""
    error = excinfo.value
    if isinstance(error, OutcomeError):
        return error.outcome.value, str(error)  # a plain string: records cross to xdist workers as data
    if isinstance(error, AssertionError):
        return "fail", str(error)
    if excinfo.errisinstance(pytest.skip.Exception):
        return "not-applicable", str(getattr(error, "msg", error))
    return "error", f"{type(error).__name__}: {error}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test's own calls, release the handles they made (before the fixtures' teardown, so a
    temporary folder can go); those calls are no part of what the test judged."""
    try:
        return (yield)
    finally:
        api = item.stash.get(_API, None)
        if api is not None:
            item.stash[_LAST_OBSERVATION] = len(api.observations)
            api.release_made()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> TestReport | None:
    """The report of a conformance test, with its specproof outcome.

    Built here rather than by pytest because an outcome such as a crash or a
    missing export needs no traceback: formatting one re-parses the large
    generated module for every report. Failures of the kit itself (`error`)
    keep pytest's full traceback.
    """
    mark = item.get_closest_marker(MARK)
    if mark is None:
        return None
    state = item.config.stash[_STATE]
    result = item.stash.get(_RESULT, None)
    if result is None:
        result = item.stash[_RESULT] = _new_result(item, mark)
    api = item.stash.get(_API, None)
    outcome, message = _outcome_of(call.excinfo)
    report = _report(item, call, full=outcome == "error")
    if call.when == "setup":
        if api is not None:
            item.stash[_FIRST_OBSERVATION] = len(api.observations)
        if call.excinfo is not None:
            outcome = "error" if outcome in ("fail", "pass") else outcome
            outcome, message = _stub_explains(api.observations if api else [], outcome, message, ("error",))
            _decide(state, item, report, result, outcome, message)
    elif call.when == "call":
        observed = (api.observations[item.stash.get(_FIRST_OBSERVATION, 0):item.stash.get(_LAST_OBSERVATION, None)]
                    if api else [])
        result.observed = tuple(o.as_record() for o in observed)
        strays = [o for o in observed if o.documented is False or o.last_error_documented is False]
        unset = next((o for o in observed if o.last_error_unset), None)
        if unset is not None and outcome == "pass":
            spec = api.spec_of(unset.function)
            clause = spec.clause(spec.returns.failure.last_error_clause or "")
            outcome = "fail"
            message = (f"{unset.function} failed (returned 0x{unset.value:08X}"
                       f"{f' ({unset.name})' if unset.name else ''}) without setting the last error; its docs say "
                       f"to call GetLastError" + (f" ({clause.id}: {clause.text!r})" if clause else ""))
        elif strays and outcome in ("pass", "fail"):
            first = strays[0]
            spec = api.spec_of(first.function)
            if first.documented is False:
                message = (f"{first.function} returned 0x{first.value:08X} ({first.name or 'no SDK name'}), which "
                           f"its docs do not list. Documented codes: {state.codes.describe_set(spec, first.phase)}")
            else:
                message = (f"{first.function} failed with last error {first.last_error_name or 'no SDK name'} "
                           f"0x{first.last_error:X}, which its docs do not list. Documented last errors: "
                           f"{state.codes.describe_last_errors(spec)}")
            outcome = "undocumented"
        outcome, message = _stub_explains(observed, outcome, message, ("fail", "undocumented"))
        result.duration = round(call.duration, 6)
        _decide(state, item, report, result, outcome, message)
    else:
        if call.excinfo is not None and result.outcome == Outcome.PASS:
            _decide(state, item, report, result, "error", "teardown: " + message)
        if api is not None:
            diagnostics = [d for o in api.observations for d in o.diagnostics] + api.notes
            result.diagnostics = tuple(diagnostics[:50])
        if result.outcome is not None:  # a test stopped before its call (-x, Ctrl-C) has no result to record
            report.user_properties.append((MARK, result.to_json()))
    return report


def _stub_explains(observed: list, outcome: str, message: str, departures: tuple[str, ...]) -> tuple[str, str]:
    """A departure (or a fixture's failed setup) after the implementation said a function it called is
    only a stub (e.g. Wine's `fixme:...:FwpmEngineOpen0 ... stub`) is `not-implemented`, with that line."""
    stubbed = next((o for o in observed if o.stub), None)
    if stubbed is not None and outcome in departures:
        return "not-implemented", f"{stubbed.function} is a stub ({stubbed.stub})"
    return outcome, message


def _report(item: pytest.Item, call: pytest.CallInfo, full: bool) -> TestReport:
    """pytest's own report of the phase; for an outcome the kit explains itself, without the traceback.

    pytest formats a failure's traceback while building the report, and that
    re-reads the large generated module each time: a crash or a missing
    export needs a sentence, not a traceback. So the report is built from a
    call that raised nothing, and given the phase's real times; `_decide`
    then writes the outcome and the sentence into it.
    """
    if full or call.excinfo is None:
        return TestReport.from_item_and_call(item, call)
    # reraise: an interrupt that lands while the stand-in call runs still stops the session
    report = TestReport.from_item_and_call(item, pytest.CallInfo.from_call(lambda: None, call.when,
                                                                           reraise=BaseException))
    report.duration, report.start, report.stop = call.duration, call.start, call.stop
    return report


def _new_result(item: pytest.Item, mark: pytest.Mark) -> TestResult:
    kw = mark.kwargs
    return TestResult(id=item.nodeid, spec=kw["spec"], function=kw["spec"].split("/", 1)[-1], case=kw["case"],
                      rule=kw["rule"], clauses=tuple(kw.get("covers", ())), level=kw.get("level", "conformance"),
                      mode=kw.get("mode") or "user", expected=kw.get("expect", ""))


def _decide(state: RunState, item: pytest.Item, report: TestReport, result: TestResult,
            outcome: str, message: str) -> None:
    """Record the test's verdict (verdict.py) and shape pytest's report to match."""
    expected = state.expectations.match(item.nodeid)
    judged = verdict(outcome, message, expected.reason if expected is not None else None, result.level)
    if judged.departure:
        result.departure = judged.departure
    result.outcome = Outcome(judged.outcome)
    outcome = judged.outcome
    message = judged.message
    if message:
        result.message = message[:2000]
    if judged.report == "passed":
        report.outcome = "passed"
    elif judged.report == "skipped":
        report.outcome = "skipped"
        path, line, _ = item.reportinfo()
        report.longrepr = (str(path), (line or 0) + 1, f"{outcome}: {message}")
    elif judged.report == "xfailed":
        report.outcome = "skipped"
        report.wasxfail = message
    else:
        report.outcome = "failed"
        if report.longrepr is None:
            path, line, _ = item.reportinfo()
            report.longrepr = f"{path}:{(line or 0) + 1}: {outcome}: {message}"
    report.specproof_outcome = outcome  # type: ignore[attr-defined]


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    outcome = getattr(report, "specproof_outcome", None)
    if outcome is None or outcome == "pass" and report.when != "call":
        return None
    known = Outcome(outcome)
    return outcome, known.letter, known.word
