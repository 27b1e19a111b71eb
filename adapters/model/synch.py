"""Semaphores, critical sections and waits on several objects, as the synchapi pages describe them."""

from __future__ import annotations

from .kernel32 import Kernel32Functions


class SyncFunctions(Kernel32Functions):
    """(being written)"""
