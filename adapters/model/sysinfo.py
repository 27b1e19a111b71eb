"""The system's facts, as the sysinfoapi pages describe them."""

from __future__ import annotations

from .kernel32 import Kernel32Functions


class SystemInfoFunctions(Kernel32Functions):
    """(being written)"""
