"""Virtual memory and file mappings, as the memoryapi pages describe them."""

from __future__ import annotations

from .kernel32 import Kernel32Functions


class VirtualMemoryFunctions(Kernel32Functions):
    """(being written)"""
