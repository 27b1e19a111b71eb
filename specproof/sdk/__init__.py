"""Names and prototypes resolved from real Windows SDK headers.

Specs store numeric values of return codes and C types of parameters; the
docs give names and sometimes omit types. This package answers both from
the mingw-w64 headers (or any SDK include dirs), and answers None rather
than guess when a name or function cannot be resolved.
"""

from .headers import SdkHeaders
from .locate import SdkNotFound, default_include_dirs
from .prototypes import Prototype

__all__ = ["Prototype", "SdkHeaders", "SdkNotFound", "default_include_dirs"]
