"""Mutation fuzzing of the page readers and the spec loader.

Real pages and specs are mutated the ways files get damaged or crafted
(truncated, bytes flipped, control characters inserted, blocks repeated or
cut, pages spliced, invalid UTF-8), deterministically from a seed, and each
result goes through the code a user's file goes through. The only exceptions
allowed are the ones that carry a message for the user (PageError and
NotAFunction for pages, SpecFileError for specs); each input must finish
within a time bound, and the process's peak memory may grow only so far over
the whole run. `tests/test_fuzz.py` runs a few hundred inputs; `benchmarks/fuzz`
runs tens of thousands.
"""

from __future__ import annotations

import random
import resource
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from specproof.readers import NotAFunction, PageError, read_page
from specproof.readers.spec_builder import build_spec
from specproof.spec.yamlio import read_spec
from specproof.spec.lint import lint_file
from specproof.spec.yamlio import SpecFileError, load_spec

MAX_BYTES = 1 << 20  # a mutated input never grows past this
_CONTROL = [b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\r", "\u2028".encode(),
            "\ufeff".encode(), "\u202e".encode(), b"\xc0\x80", b"\xed\xa0\x80"]
_MARKS = [b"\n## -returns\n", b"\n### -param\n", b"\n---\n", b"\n```\n", b"<table>", b"</td>", b"|", b"\n- ",
          b"&#0;", b"&#x110000;", b"*", b"\\", b"[in]", b"\n## -remarks\n", b"\nSyntax\n", b"\nParameters\n",
          b"CreateFile function (fileapi.h)\n", b": &a [", b"*a", b"!!python/object:os.system", b"{{ x }}"]


def _truncate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _flip(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _control(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    out = data
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out) + 1)
        out = out[:at] + rng.choice(_CONTROL) + out[at:]
    return out


def _repeat(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    block = data[start: start + rng.randint(1, 400)]
    times = rng.choice([2, 3, 10, 100, 1000])
    return (data[:start] + block * times + data[start:])[:MAX_BYTES]


def _cut(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 2000):]


def _splice(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    other = rng.choice(others)
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1):]


def _garbage(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[at:]


def _marks(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    out = data
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(out) + 1)
        out = out[:at] + rng.choice(_MARKS) + out[at:]
    return out


def _lines(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    lines = data.split(b"\n")
    rng.shuffle(lines) if rng.random() < 0.2 else lines.insert(rng.randrange(len(lines) + 1),
                                                              rng.choice(lines) * rng.randint(1, 50))
    return b"\n".join(lines)[:MAX_BYTES]


MUTATIONS: tuple[Callable[[random.Random, bytes, list[bytes]], bytes], ...] = (
    _truncate, _flip, _control, _repeat, _cut, _splice, _garbage, _marks, _lines)


@dataclass
class FuzzReport:
    inputs: int = 0
    rejected: int = 0  # inputs refused with a message for the user (as they should be)
    failures: list[str] = field(default_factory=list)  # uncaught exceptions and hangs: bugs
    slowest: float = 0.0
    seconds: float = 0.0
    peak_growth_mb: float = 0.0


def mutants(seeds: list[bytes], count: int, seed: int) -> Iterable[tuple[str, bytes]]:
    """`count` mutated inputs (name of the mutations, bytes), the same for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        data = rng.choice(seeds)
        names = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            mutation = rng.choice(MUTATIONS)
            data = mutation(rng, data, seeds)[:MAX_BYTES]
            names.append(mutation.__name__.strip("_"))
        yield "+".join(names), data


class _Hang(Exception):
    pass


def _alarm(_signum, _frame) -> None:
    raise _Hang()


def run(inputs: Iterable[tuple[str, bytes]], check: Callable[[bytes], None], allowed: tuple[type, ...],
        time_bound: float) -> FuzzReport:
    """Feed every input to `check`; anything but an `allowed` exception, or a run past `time_bound`, fails."""
    report = FuzzReport()
    start_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    previous = signal.signal(signal.SIGALRM, _alarm)
    began = time.perf_counter()
    try:
        for name, data in inputs:
            report.inputs += 1
            signal.setitimer(signal.ITIMER_REAL, time_bound)
            tick = time.perf_counter()
            try:
                check(data)
            except _Hang:
                report.failures.append(f"{name}: still running after {time_bound} s ({len(data)} bytes)")
            except allowed:
                report.rejected += 1
            except Exception as error:  # noqa: BLE001 - the point is to catch whatever escapes
                report.failures.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            report.slowest = max(report.slowest, time.perf_counter() - tick)
    finally:
        signal.signal(signal.SIGALRM, previous)
    report.seconds = time.perf_counter() - began
    report.peak_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_peak) / 1024
    return report


def fuzz_pages(seeds: list[bytes], count: int, seed: int = 1, sdk=None, time_bound: float = 5.0) -> FuzzReport:
    """Mutated pages through format detection, the reader and the spec builder."""

    def check(data: bytes) -> None:
        build_spec(read_page(data, "fuzz/page.md"), sdk)

    return run(mutants(seeds, count, seed), check, (PageError, NotAFunction), time_bound)


def fuzz_specs(seeds: list[bytes], count: int, seed: int = 1, time_bound: float = 5.0) -> FuzzReport:
    """Mutated spec files through the loader every stage uses, and through lint's checks."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hdr" / "Fuzz.yaml"
        path.parent.mkdir()

        def check(data: bytes) -> None:
            path.write_bytes(data)
            lint_file(path, Path(folder))  # reports problems, never raises
            read_spec(path)  # the site's faster reader, which hands anything unusual to load_spec
            load_spec(path)

        return run(mutants(seeds, count, seed), check, (SpecFileError,), time_bound)


def page_seeds(corpus: Path | None, limit: int = 60) -> list[bytes]:
    """Pages to mutate: the kit's own page shapes, and corpus pages (both formats) and seeds when present."""
    from shapes import WRITTEN

    seeds = list(WRITTEN.values())
    if corpus is not None and corpus.is_dir():
        pages = sorted(p for p in corpus.rglob("*.md") if p.name != "README.md")
        step = max(1, len(pages) // limit)
        seeds += [p.read_bytes() for p in pages[::step]]
        seeds += [p.read_bytes() for p in sorted((corpus.parent / "seeds").glob("*.txt"))]
    return seeds


def spec_seeds(specs: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(specs.rglob("*.yaml"))]
