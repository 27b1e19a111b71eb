"""specproof's wine adapter: the suites against Wine, through a helper program run under it."""

from .adapter import WineAdapter

__all__ = ["WineAdapter"]
