"""Reading what the site is built from: the spec set and any number of runs.

The site never runs anything: it reads specs with the reader every stage
uses (spec/yamlio) and runs through the results format's own reader
(specproof/results/), so a line cut short by a killed run is skipped the
same way. Runs are grouped by implementation; the newest complete run of
each is the one the pages show, the others feed the history and the diffs.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..results import RESULTS_FILE, RUN_FILE, ResultsError, RunMeta, TestResult, read_meta, read_results
from ..spec.model import Spec
from ..spec.yamlio import iter_spec_files, read_data, spec_from


class SiteInputError(Exception):
    """A results folder or spec set the site cannot be built from; the message says which and why."""


@dataclass(eq=False)
class Run:
    """One run folder."""

    run_id: str
    folder: Path
    meta: RunMeta
    results: list[TestResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        #: The implementation's label: runs with the same label are runs of one implementation.
        self.impl = self.meta.impl or str(self.info.get("name") or "") or self.meta.adapter or self.run_id

    @property
    def info(self) -> dict[str, Any]:
        return self.meta.implementation

    @property
    def version(self) -> str:
        return str(self.info.get("version") or "")

    @property
    def platform(self) -> str:
        return str(self.info.get("platform") or "")

    @property
    def started(self) -> str:
        return self.meta.started

    @property
    def finished(self) -> str:
        return self.meta.finished or ""

    @property
    def counts(self) -> Counter[str]:
        """Outcome counts from the result lines (the truth even when the run was cut short)."""
        return Counter(r.outcome.value for r in self.results)

    @property
    def complete(self) -> bool:
        """Whether the run finished, was not interrupted, and its recorded counts agree with its lines."""
        recorded = self.meta.counts
        return (bool(self.finished) and not self.meta.interrupted and recorded is not None
                and Counter(recorded) == self.counts)

    @property
    def title(self) -> str:
        """How a reader names the run: implementation, version, day."""
        version = f" {self.version}" if self.version else ""
        return f"{self.impl}{version} ({self.started[:10] or self.run_id})"


@dataclass
class SiteData:
    """Specs and runs, indexed the ways the pages need them."""

    specs: dict[str, Spec]  # "header/Function" (the results' `spec` key) -> spec
    runs: list[Run]  # oldest first
    latest: dict[str, Run]  # implementation -> its newest complete run (else its newest), by implementation name

    @property
    def impls(self) -> list[str]:
        return list(self.latest)

    def results_by_spec(self, run: Run) -> dict[str, list[TestResult]]:
        """A run's results grouped by spec key (cached per run)."""
        cache = self._by_spec
        if run.run_id not in cache:
            grouped: dict[str, list[TestResult]] = {}
            for result in run.results:
                grouped.setdefault(result.spec, []).append(result)
            cache[run.run_id] = grouped
        return cache[run.run_id]

    def __post_init__(self) -> None:
        self._by_spec: dict[str, dict[str, list[TestResult]]] = {}


def spec_key(spec: Spec) -> str:
    return spec.key


#: From this many spec files on, their YAML is read by two worker processes while this one reads the runs.
PARALLEL_FROM = 2000


def _read_chunk(paths: list[Path]) -> list[Any]:
    return [read_data(path) for path in paths]


def _spec_files(root: Path) -> list[Path]:
    if not root.is_dir():
        raise SiteInputError(f"{root}: no such spec folder; run `specproof ingest` first or pass --specs")
    return list(iter_spec_files(root))


def _specs_from(paths: list[Path], datas: Iterable[Any]) -> dict[str, Spec]:
    specs: dict[str, Spec] = {}
    for path, data in zip(paths, datas):
        spec = spec_from(path, data)
        specs[spec_key(spec)] = spec
    return specs


def load_specs(root: Path) -> dict[str, Spec]:
    """Every spec below `root`, by key (the spec set the `lint` and `generate` commands read)."""
    paths = _spec_files(root)
    return _specs_from(paths, (read_data(path) for path in paths))


def load_run(folder: Path) -> Run:
    """One run folder (run.json and results.jsonl), read through the results format."""
    try:
        meta = read_meta(folder)
        if meta is None:
            raise SiteInputError(f"{folder / RUN_FILE}: no such file; a run folder holds run.json and results.jsonl")
        results = list(read_results(folder / RESULTS_FILE))
    except ResultsError as error:
        raise SiteInputError(str(error)) from error
    return Run(meta.run_id, folder, meta, results)


def find_run_folders(paths: Iterable[Path]) -> list[Path]:
    """Run folders from what the user named: a run folder itself, or a folder of run folders."""
    found: list[Path] = []
    for path in paths:
        if (path / RUN_FILE).is_file():
            found.append(path)
        elif path.is_dir():
            runs = sorted(p for p in path.iterdir() if (p / RUN_FILE).is_file())
            if not runs:
                raise SiteInputError(f"{path}: neither a run folder nor a folder of run folders (none holds "
                                     f"{RUN_FILE}); name the folder `specproof run` wrote (results/<run-id>) or "
                                     "the folder above it")
            found.extend(runs)
        else:
            raise SiteInputError(f"{path}: no such results folder")
    unique: dict[Path, None] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), None)
    return list(unique)


def default_run_folders(results: Path) -> list[Path]:
    """The committed reference runs: results/reference-*/."""
    if not results.is_dir():
        return []
    return sorted(p for p in results.glob("reference-*") if (p / RUN_FILE).is_file())


def load(specs_root: Path, run_folders: Iterable[Path]) -> SiteData:
    """Specs and runs, with the newest run of each implementation picked out.

    Reading YAML is most of the cost of a large spec set, so from PARALLEL_FROM files on it is read by
    two worker processes (which send back plain data) while this process reads the runs and validates
    what they sent so far; validation, and any error, happen here in the files' order.
    """
    paths = _spec_files(specs_root)
    folders = list(run_folders)
    if len(paths) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(paths) // 8)
        with ProcessPoolExecutor(max_workers=2) as pool:
            parts = [(paths[i:i + size], pool.submit(_read_chunk, paths[i:i + size]))
                     for i in range(0, len(paths), size)]
            loaded = [load_run(folder) for folder in folders]
            specs: dict[str, Spec] = {}
            for chunk, part in parts:  # validated as each part arrives, while the workers read the next
                specs.update(_specs_from(chunk, part.result()))
    else:
        specs = _specs_from(paths, (read_data(path) for path in paths))
        loaded = [load_run(folder) for folder in folders]
    runs = sorted(loaded, key=lambda r: (r.started, r.run_id))
    ids = Counter(r.run_id for r in runs)
    if duplicated := [i for i, n in ids.items() if n > 1]:
        raise SiteInputError(f"runs with the same id in several folders: {', '.join(sorted(duplicated))}")
    latest: dict[str, Run] = {}
    for run in runs:  # oldest first: the newest complete run of each implementation stays, else its newest
        current = latest.get(run.impl)
        if current is None or run.complete or not current.complete:
            latest[run.impl] = run
    latest = dict(sorted(latest.items()))
    return SiteData(specs, runs, latest)
