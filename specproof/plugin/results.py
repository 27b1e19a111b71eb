"""Run outputs: `results/<run-id>/run.json` and `results.jsonl`, one line per finished test.

Lines are appended (and flushed) as tests finish, so a run that is killed
keeps every result it produced; a line cut short by the kill is dropped
when the run is resumed. Runs from many machines merge by copying their
folders together: nothing outside a run's folder is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(label: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', label).strip('-') or 'run'}-{stamp}"


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must be letters, digits, '.', '_' or '-'")
    return run_id


def specs_digest(root: Path) -> str:
    """A digest of every spec file's path and bytes: which spec set a run checked."""
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/*.yaml")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return "sha256:" + digest.hexdigest()


def read_results(path: Path, repair: bool = False) -> Iterator[dict[str, Any]]:
    """The records of a results file; a last line cut short by a kill is skipped (and cut off with `repair`)."""
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
    except json.JSONDecodeError:
        records = None
    if isinstance(records, list) and len(records) == len(lines):
        yield from records
        return
    for number, line in enumerate(data[:end].splitlines(), 1):  # find the line that is wrong, and say which
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg}); remove the line and resume") from error


class RunWriter:
    """Writes one run's folder; only the controlling process of a run writes it."""

    def __init__(self, folder: Path, meta: dict[str, Any], resume: bool = False) -> None:
        self.folder = folder
        self.meta = meta
        folder.mkdir(parents=True, exist_ok=True)
        self.done: set[str] = set()
        if resume:
            previous = json.loads((folder / RUN_FILE).read_text()) if (folder / RUN_FILE).exists() else {}
            self.meta = {**previous, **meta, "started": previous.get("started", meta.get("started"))}
            self.meta.setdefault("resumed", []).append(now())
            self.done = {r["id"] for r in read_results(folder / RESULTS_FILE, repair=True)}
        self._results = open(folder / RESULTS_FILE, "a", encoding="utf-8")
        self.write_meta()

    def write_meta(self) -> None:
        tmp = self.folder / (RUN_FILE + ".tmp")
        tmp.write_text(json.dumps(self.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.folder / RUN_FILE)

    def add(self, record: dict[str, Any]) -> None:
        self._results.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        self._results.flush()
        self.done.add(record["id"])

    def finish(self, counts: dict[str, int], exit_status: int) -> None:
        self._results.close()
        self.meta["finished"] = now()
        self.meta["counts"] = dict(sorted(counts.items()))
        self.meta["exit_status"] = exit_status
        self.write_meta()
