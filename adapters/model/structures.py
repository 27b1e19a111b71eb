"""Small readings of the caller's arguments and structures that several kernel32 modules share.

Structures are read through the layouts the SDK headers give
(specproof.adapter.structs, libclang); `ModelCore.read_record` and
`write_record` read and write whole ones.
"""

from __future__ import annotations

from specproof.adapter.structs import layout

from .memory import AddressSpace


def signed32(value: int) -> int:
    """A LONG (or int) argument or field as the signed number it is."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def security_attributes_inherit(memory: AddressSpace, address: int) -> bool:
    """SECURITY_ATTRIBUTES.bInheritHandle: whether the new handle can be inherited."""
    shape = layout("SECURITY_ATTRIBUTES")
    return bool(shape.unpack(memory.read(address, shape.size)).bInheritHandle)
