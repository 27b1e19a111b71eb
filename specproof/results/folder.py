"""Run folders: `results/<run-id>/run.json` and `results.jsonl`, one line per finished test.

The one owner of run folders: the pytest plugin writes them through it, and
`specproof run`'s summary and the site read them through it. The records
themselves are typed in records.py.

Lines are appended (and flushed) as tests finish, so a run that is killed
keeps every result it produced; a line cut short by the kill is dropped
when the run is resumed. Runs from many machines merge by copying their
folders together: nothing outside a run's folder is written.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .records import RecordError, RunMeta, TestResult

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
LOCK_FILE = ".lock"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ResultsError(ValueError):
    """A results file or run folder that cannot be used as it is; the message names the file and line."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(label: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', label).strip('-') or 'run'}-{stamp}"


def check_run_id(run_id: str) -> str:
    """A run id names a folder on every system a run may be copied to: ASCII only."""
    if not _RUN_ID.match(run_id) or not run_id.isascii():
        raise ResultsError(f"run id {run_id!r}: use ASCII letters (A-Z, a-z), digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return run_id


def read_results(path: Path, repair: bool = False) -> Iterator[TestResult]:
    """The records of a results file; a last line cut short by a kill is skipped (and cut off with `repair`).

    Every record is a JSON object with a test `id` and one of the kit's outcomes: anything else is an
    error naming the file and line (a value the kit does not know is never counted as another). A test
    recorded twice (a run resumed after a line was written but before the kill was noticed) keeps its
    last record, once.
    """
    if not path.exists():
        return
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if repair and end < len(data):
        with path.open("r+b") as handle:
            handle.truncate(end)
    lines = [line for line in data[:end].splitlines() if line.strip()]
    try:  # one decoder call for the whole file: a call a line cost more than the decoding
        records = json.loads(b"[" + b",".join(lines) + b"]")
    except (json.JSONDecodeError, UnicodeDecodeError):
        records = None
    results: list[TestResult] | None = None
    if isinstance(records, list) and len(records) == len(lines) and all(type(r) is dict for r in records):
        try:
            results = [TestResult.from_json(record) for record in records]
        except RecordError:
            results = None
    if results is None:
        results = list(_checked_lines(path, data[:end]))
    by_id: dict[str, TestResult] = {}
    for result in results:
        by_id.pop(result.id, None)  # the last record of a test counts, in its own place
        by_id[result.id] = result
    yield from by_id.values()


def _checked_lines(path: Path, data: bytes) -> Iterator[TestResult]:
    """The file line by line, to name the line that is wrong and say why."""
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except UnicodeDecodeError as error:
            raise ResultsError(f"{where}: not UTF-8 text (byte 0x{line[error.start]:02x} at column "
                               f"{error.start + 1}); remove the line and resume the run") from error
        except json.JSONDecodeError as error:
            raise ResultsError(f"{where}: not a JSON line ({error.msg}); remove the line and resume the run") from error
        if type(record) is not dict or type(record.get("id")) is not str:
            raise ResultsError(f"{where}: not a test result (a JSON object with a test `id`); remove the line "
                               "and resume the run")
        try:
            yield TestResult.from_json(record)
        except RecordError as error:
            raise ResultsError(f"{where}: {error}; correct it, or remove the line and resume the run") from None


class RunWriter:
    """Writes one run's folder; only the controlling process of a run writes it.

    A run folder holds one run of one implementation: a new run refuses a
    folder that holds results already, a resumed one a folder of another
    adapter or implementation, and two processes never write one folder at
    once (an exclusive lock on `.lock` in it, held while the run writes and
    released by the kernel whatever ends the process).
    """

    def __init__(self, folder: Path, meta: RunMeta, resume: bool = False) -> None:
        self.folder = folder
        self.meta = meta
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise ResultsError(f"cannot write the run folder {folder}: {error.strerror or error}; "
                               "name a writable folder with --results") from error
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(self._lock)
            raise ResultsError(f"run {folder.name} is being written by another process now; wait for it, "
                               "or choose another --run-id") from error
        try:
            self._open(resume)
        except BaseException:
            os.close(self._lock)
            raise

    def _open(self, resume: bool) -> None:
        folder, meta = self.folder, self.meta
        self.done: set[str] = set()
        self.before: Counter[str] = Counter()
        previous = read_meta(folder)
        if not resume and (previous is not None or (folder / RESULTS_FILE).exists()):
            raise ResultsError(f"run folder {folder} holds a run already; finish it with --resume {folder.name}, "
                               "or choose another --run-id")
        if resume:
            if previous is not None:
                for mine, theirs in ((meta.adapter, previous.adapter), (meta.impl, previous.impl)):
                    if theirs not in ("", mine):
                        raise ResultsError(
                            f"run {folder.name} is a run of {previous.impl} (adapter {previous.adapter}); "
                            f"resume it with --adapter {previous.adapter}"
                            + (f" --impl {previous.impl}" if previous.impl != previous.adapter else "")
                            + ", or start a new run")
                meta.started = previous.started or meta.started
                meta.resumed = [*previous.resumed]
                meta.extra = {**previous.extra, **meta.extra}
            meta.resumed.append(now())
            for result in read_results(folder / RESULTS_FILE, repair=True):
                self.done.add(result.id)
                self.before[result.outcome.value] += 1
        self._results = open(folder / RESULTS_FILE, "a", encoding="utf-8")
        self.write_meta()

    def write_meta(self) -> None:
        write_meta(self.folder, self.meta)

    def add(self, result: TestResult) -> None:
        self._results.write(json.dumps(result.to_json(), sort_keys=True, ensure_ascii=False) + "\n")
        self._results.flush()
        self.done.add(result.id)

    def finish(self, counts: dict[str, int], exit_status: int, interrupted: bool = False) -> None:
        """Close the run: its counts are of the whole run, the part before a resume included."""
        self._results.close()
        self.meta.finished = now()
        self.meta.counts = dict(self.before + Counter(counts))
        self.meta.exit_status = exit_status
        self.meta.interrupted = interrupted
        self.write_meta()
        try:  # a closed run keeps no lock file behind (a folder is copied, merged or committed as it is)
            os.unlink(self.folder / LOCK_FILE)
        except OSError:
            pass
        os.close(self._lock)


def read_meta(folder: Path) -> RunMeta | None:
    """A run folder's run.json, or None when there is none; an unreadable one is an error naming it."""
    path = folder / RUN_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read the run's metadata ({error})") from error
    if not isinstance(meta, dict):
        raise ResultsError(f"{path}: not a JSON object")
    try:
        return RunMeta.from_json(meta, folder.name)
    except RecordError as error:
        raise ResultsError(f"{path}: {error}") from None


def close_interrupted(folder: Path, exit_status: int) -> bool:
    """Mark a run whose process was killed before it closed the run (no `finished`) as interrupted.

    Its counts are those of the lines it wrote. Returns whether the run needed it.
    """
    meta = read_meta(folder)
    if meta is None or meta.closed:
        return False
    counts = Counter(result.outcome.value for result in read_results(folder / RESULTS_FILE, repair=True))
    meta.finished, meta.counts, meta.exit_status, meta.interrupted = now(), dict(counts), exit_status, True
    write_meta(folder, meta)
    return True


def write_meta(folder: Path, meta: RunMeta) -> None:
    """run.json, replaced whole: a reader never sees it half written."""
    tmp = folder / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(meta.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / RUN_FILE)
