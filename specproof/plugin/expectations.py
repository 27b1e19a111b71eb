"""Known departures of an implementation, as data: `expectations/<implementation>.yaml`.

```yaml
- test: conformance/sspi/test_sspi.py::test_QueryContextAttributesW__invalid_handle_phcontext_null
  reason: the page gives 0x80100003; the implementation returns 0x80090301
- test: "conformance/sspi/test_sspi.py::test_SspiZeroAuthIdentity__*"   # shell-style pattern
  reason: not implemented yet
```

A listed test that departs is `xfail`; one that passes is `xpass`, which
fails the run, so an expectation cannot go stale unnoticed.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Expectation:
    test: str
    reason: str
    outcome: str | None = None


class Expectations:
    def __init__(self, entries: list[Expectation]) -> None:
        self.exact = {e.test: e for e in entries if not any(ch in e.test for ch in "*?[")}
        self.patterns = [e for e in entries if e.test not in self.exact]

    @classmethod
    def load(cls, path: Path | None) -> "Expectations":
        if path is None or not path.exists():
            return cls([])
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or []
        except yaml.YAMLError as error:
            raise ValueError(f"{path}: not valid YAML: {error}") from error
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of {{test: ..., reason: ...}} entries")
        entries = []
        for index, item in enumerate(data):
            if not isinstance(item, dict) or "test" not in item or "reason" not in item:
                raise ValueError(f"{path}: entry {index + 1} needs `test:` and `reason:`")
            entries.append(Expectation(str(item["test"]), str(item["reason"]), item.get("outcome")))
        return cls(entries)

    def match(self, nodeid: str) -> Expectation | None:
        found = self.exact.get(nodeid)
        if found:
            return found
        return next((e for e in self.patterns if fnmatch.fnmatchcase(nodeid, e.test)), None)
