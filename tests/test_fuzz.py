"""A few hundred mutated pages and specs: only messages for the user come out, nothing hangs or swells.

`benchmarks/fuzz` runs the same with tens of thousands of inputs.
"""

from __future__ import annotations

from pathlib import Path

from conftest import CORPUS
from fuzzing import fuzz_pages, fuzz_specs, page_seeds, spec_seeds

ROOT = Path(__file__).resolve().parents[1]


def test_mutated_pages_give_a_spec_or_a_reason(sdk):
    report = fuzz_pages(page_seeds(CORPUS), 300, seed=11, sdk=sdk)
    assert report.failures == []
    assert report.inputs == 300 and report.slowest < 5
    assert report.peak_growth_mb < 300


def test_mutated_specs_load_or_are_refused_with_a_location():
    report = fuzz_specs(spec_seeds(ROOT / "specs"), 200, seed=12)
    assert report.failures == []
    assert 0 < report.rejected < report.inputs and report.slowest < 5
    assert report.peak_growth_mb < 300


def test_the_harness_catches_what_escapes_and_what_hangs():
    import time

    from fuzzing import run

    def check(data: bytes) -> None:
        if data == b"raise":
            raise KeyError("escaped")
        if data == b"hang":
            time.sleep(10)
        if data == b"refuse":
            raise ValueError("a message for the user")

    report = run([("a", b"raise"), ("b", b"hang"), ("c", b"refuse"), ("d", b"fine")], check, (ValueError,), 0.2)
    assert report.failures == ["a: KeyError: 'escaped'", "b: still running after 0.2 s (4 bytes)"]
    assert (report.inputs, report.rejected) == (4, 1)


def test_blocks_nested_past_any_real_page_are_read():
    """Found by the fuzzer: a repeated block made a page of a thousand nested quotes; it read to a RecursionError."""
    from pagemaker import page

    from specproof.readers import read_page
    from specproof.readers.spec_builder import build_spec

    quotes = "> " * 1500 + "Deep text."
    lists = "".join("  " * i + "- item\n" for i in range(1500))
    divs = "<div>" * 1500 + "Deep div." + "</div>" * 1500
    for remarks in (quotes, lists, divs):
        spec = build_spec(read_page(page(remarks=remarks), "deep.md"))
        assert spec.clauses and any("Deep" in c.text or "item" in c.text for c in spec.clauses)
