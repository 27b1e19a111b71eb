"""The results format, its one owner: typed records (records.py) and run folders (folder.py).

The pytest plugin writes runs through it; `specproof run`'s summary and the
site read them through it. It depends on no stage.
"""

from .folder import (LOCK_FILE, RESULTS_FILE, RUN_FILE, ResultsError, RunWriter, check_run_id, close_interrupted,
                     new_run_id, now, read_meta, read_results, write_meta)
from .records import FORMAT, Observed, RecordError, RunMeta, TestResult

__all__ = [
    "FORMAT", "LOCK_FILE", "RESULTS_FILE", "RUN_FILE", "Observed", "RecordError", "ResultsError", "RunMeta",
    "RunWriter", "TestResult", "check_run_id", "close_interrupted", "new_run_id", "now", "read_meta",
    "read_results", "write_meta",
]
