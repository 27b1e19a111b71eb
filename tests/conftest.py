"""Shared test setup: where the sample pages are, and one SDK header index per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # test helpers (pagemaker, learntext_render) import by name

pytest_plugins = ["modelcalls"]  # its `model` fixture: a fresh model adapter for tests/test_model_*.py

SHARED = TESTS.parents[1] / "shared"
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus"


def need_shared() -> None:
    if not SEEDS.is_dir() or not CORPUS.is_dir():
        pytest.skip(f"sample pages not found at {SHARED} (the seeds and corpus sit beside the checkout)")


@pytest.fixture(scope="session")
def sdk():
    """The real SDK headers (Debian mingw-w64-common); skipped with the fix when missing."""
    from specproof.sdk import SdkHeaders, SdkNotFound

    try:
        return SdkHeaders.load()
    except SdkNotFound as exc:
        pytest.skip(str(exc))
