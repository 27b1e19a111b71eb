"""Files, directories and find handles, as the fileapi pages describe them."""

from __future__ import annotations

from .kernel32 import Kernel32Functions


class FileFunctions(Kernel32Functions):
    """(being written)"""
