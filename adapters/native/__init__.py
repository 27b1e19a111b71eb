"""specproof's native adapter: the kit's helper on Windows itself, run locally or reached over SSH."""

from .adapter import NativeAdapter

__all__ = ["NativeAdapter"]
