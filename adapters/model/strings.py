"""Code page conversions, as the stringapiset pages describe them."""

from __future__ import annotations

from .kernel32 import Kernel32Functions


class StringFunctions(Kernel32Functions):
    """(being written)"""
