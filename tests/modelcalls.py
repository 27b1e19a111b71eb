"""Calls into the model adapter by export name, for the model's own tests (tests/test_model_*.py).

Each test file checks one family of the model against its pages; the way
they reach the model is the same: a fresh `ModelAdapter`, a call by name
through `resolve` and `call` (the adapter contract, as a run would), and
strings or bytes put into its memory.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from specproof.adapter.contract import CallResult
from specproof_adapters.model import ModelAdapter

__all__ = ["model", "call", "value", "wide", "data", "failed"]


@pytest.fixture
def model() -> Iterator[ModelAdapter]:
    """A fresh model, forgotten afterwards (as a process ends)."""
    adapter = ModelAdapter()
    yield adapter
    adapter.close()


def call(model: ModelAdapter, name: str, *args: int, timeout: float = 5) -> CallResult:
    """kernel32.dll's (or kernelbase's) export `name` called with `args`."""
    return model.call(model.resolve("kernel32.dll", name).address, list(args), timeout)


def value(model: ModelAdapter, name: str, *args: int) -> int:
    """The value a call returned; a fault or a timeout fails the test."""
    result = call(model, name, *args)
    assert result.fault is None and not result.timed_out, result
    return result.value


def data(model: ModelAdapter, raw: bytes) -> int:
    """`raw` in the model's memory (at least one byte, so the block has an address)."""
    block = model.alloc(max(len(raw), 1))
    model.write(block, raw)
    return block


def wide(model: ModelAdapter, text: str) -> int:
    """A NUL-terminated UTF-16 string in the model's memory."""
    return data(model, text.encode("utf-16-le") + b"\0\0")


def failed(result: CallResult, error: int) -> bool:
    """The call returned zero (FALSE, NULL, 0) and set the last error `error`."""
    return result.value == 0 and result.last_error == error
