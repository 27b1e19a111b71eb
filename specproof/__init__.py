"""specproof: documentation-driven conformance testing.

The public face is small: the spec model (`Spec`) and, in later stages, the
adapter protocol and the assertion helpers that generated suites import.
Everything else is internal and free to change.
"""

from .spec import Spec

__version__ = "0.1.0"
__all__ = ["Spec", "__version__"]
