"""Threads and processes, as the processthreadsapi pages describe them."""

from __future__ import annotations

from .kernel32 import Kernel32Functions


class ThreadFunctions(Kernel32Functions):
    """(being written)"""
