"""The options of a conformance run, declared once for `specproof run` and for `pytest --adapter ...`.

A run is started either way: `specproof run` (click) starts pytest with the
plugin, or a user calls pytest directly. Both take the same options with
the same names and help; this table is the one place they are written, the
CLI and the plugin each turn it into their own parser's options, and
`RunOptions.pytest_args` is how `specproof run` hands them on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class RunOption:
    """One option: its flag, the attribute it fills, what it holds and what it means."""

    flag: str  # "--call-timeout"
    help: str
    metavar: str | None = None
    kind: type = str  # str, float or Path
    is_file: bool = False  # a Path that names a file (else a folder)
    adapter_option: bool = False  # handed to the adapter when it is made (`url=...`), not read by the run

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("--adapter", "implementation to test: an installed adapter's name (see `specproof adapters`) or "
              "package.module:Class; default: a usable installed adapter, else the model", "NAME"),
    RunOption("--impl", "label of the implementation in results (default: the adapter's name)", "LABEL"),
    RunOption("--results", "folder of run folders (default: results/)", "DIR", Path),
    RunOption("--run-id", "name of this run's folder (default: <impl>-<UTC time>)", "RUN-ID"),
    RunOption("--resume", "run only the tests RUN-ID has no result for", "RUN-ID"),
    RunOption("--expectations", "known failures (default: expectations/<impl>.yaml when it exists)", "FILE", Path,
              is_file=True),
    RunOption("--call-timeout", "time limit of one call into the implementation, in seconds (default 10)",
              "SECONDS", float),
    RunOption("--specs", "spec folder (default: specs/ beside the suites' folder)", "DIR", Path),
    RunOption("--url", "where the service adapter finds its endpoint: tcp://HOST:PORT", "URL", adapter_option=True),
    RunOption("--host", "the Windows machine the native adapter reaches over SSH: [user@]host (your ssh config "
              "applies)", "HOST", adapter_option=True),
    RunOption("--token-file", "the token an agent or service asks for (a file only you can read)", "FILE", Path,
              is_file=True, adapter_option=True),
    RunOption("--tls-ca", "the CA certificate that signed the agent's TLS certificate (turns TLS on)", "FILE", Path,
              is_file=True, adapter_option=True),
)


@dataclass(frozen=True)
class RunOptions:
    """The values of RUN_OPTIONS for one run (None: the option's default)."""

    adapter: str | None = None
    impl: str | None = None
    results: Path | None = None
    run_id: str | None = None
    resume: str | None = None
    expectations: Path | None = None
    call_timeout: float | None = None
    specs: Path | None = None
    url: str | None = None
    host: str | None = None
    token_file: Path | None = None
    tls_ca: Path | None = None

    def pytest_args(self) -> list[str]:
        """The options as pytest's command line gives them to the plugin."""
        args: list[str] = []
        for option in RUN_OPTIONS:
            value = getattr(self, option.dest)
            if value is not None:
                args += [option.flag, str(value)]
        return args


def adapter_options(values: object) -> dict[str, str]:
    """The adapter options among `values`' attributes (RunOptions, or pytest's option namespace), as strings."""
    found = {}
    for option in RUN_OPTIONS:
        value = getattr(values, option.dest, None)
        if option.adapter_option and value is not None:
            found[option.dest] = str(value)
    return found


# Each option is a field of RunOptions, and the other way round: a new option is added in both places or fails here.
assert [o.dest for o in RUN_OPTIONS] == [f.name for f in fields(RunOptions)]
