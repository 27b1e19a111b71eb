"""Small readings of the caller's arguments and structures that several kernel32 modules share.

Structures are read through the layouts the SDK headers give
(specproof.adapter.structs, libclang); `ModelCore.read_record` and
`write_record` read and write whole ones.
"""

from __future__ import annotations

from specproof.adapter.structs import layout
from specproof.spec.model import as_signed

from .memory import AddressSpace


def signed(value: int, bits: int = 32) -> int:
    """A LONG, int or LONGLONG argument or field (its register's low `bits`) as the signed number it is: the
    kit's own reading (`as_signed`), with a LONG's width by default."""
    return as_signed(value, bits)


def signed32(value: int) -> int:
    return signed(value, 32)


def security_attributes_inherit(memory: AddressSpace, address: int) -> bool:
    """SECURITY_ATTRIBUTES.bInheritHandle: whether the new handle can be inherited."""
    shape = layout("SECURITY_ATTRIBUTES")
    return bool(shape.unpack(memory.read(address, shape.size)).bInheritHandle)
