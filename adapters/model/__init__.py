"""The model adapter: a small emulator, written in Python from the docs' words, with its own address space.

It models the functions the bundled specs and their fixtures use (SSPI,
including the kernel-mode async calls, and the WFP engine and IPsec SA
context functions), so the quick start works on any machine and the
generated suites can be checked against an implementation that does what
the docs say. Broken variants for the kit's own tests subclass
`ModelAdapter`.
"""

from .adapter import ModelAdapter
from .core import INFINITE, CallTimedOut, ModelCore, export
from .memory import ACCESS_VIOLATION, AddressSpace, ModelFault

__all__ = ["ACCESS_VIOLATION", "INFINITE", "AddressSpace", "CallTimedOut", "ModelAdapter", "ModelCore", "ModelFault",
           "export"]
