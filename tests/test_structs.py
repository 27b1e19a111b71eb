"""Structures by name from the headers' layouts (specproof/adapter/structs.py), as fixtures and the model use them."""

from __future__ import annotations

import pytest

from specproof.adapter.codebook import CodeBook
from specproof.adapter.structs import StructError, layout, pointee


def test_a_structure_is_written_and_read_by_field_name():
    buffer = layout("SecBuffer")
    image = buffer.pack(cbBuffer=5, BufferType=2, pvBuffer=0x1122334455667788)
    assert len(image) == buffer.size == 16
    assert image[:8] == (5).to_bytes(4, "little") + (2).to_bytes(4, "little")
    read = buffer.unpack(image)
    assert (read.cbBuffer, read.BufferType, read.pvBuffer) == (5, 2, 0x1122334455667788)


def test_nested_structures_arrays_and_strings():
    find = layout("WIN32_FIND_DATAW")
    image = find.pack(cFileName="data.txt", nFileSizeLow=28, ftLastWriteTime={"dwHighDateTime": 7})
    read = find.unpack(image)
    assert read.string("cFileName") == "data.txt"
    assert read.nFileSizeLow == 28 and read.ftLastWriteTime.dwHighDateTime == 7
    assert image[find.offset("cFileName"):find.offset("cFileName") + 4] == "da".encode("utf-16-le")
    ansi = layout("WIN32_FIND_DATAA")
    assert ansi.unpack(ansi.pack(cFileName="data.txt")).string("cFileName") == "data.txt"


def test_anonymous_members_are_the_records_own_and_named_ones_stay_fields():
    traffic = layout("IPSEC_TRAFFIC0")
    assert traffic.offset("localV4Address") == traffic.offset("localV6Address") == 4
    large = layout("LARGE_INTEGER")
    assert [f.name for f in large.info.fields] == ["LowPart", "HighPart", "u", "QuadPart"]
    assert large.unpack(large.pack(QuadPart=-2)).LowPart == 0xFFFFFFFE


def test_what_the_headers_do_not_define_is_a_clear_error():
    with pytest.raises(StructError, match="no structure or union named 'NO_SUCH_STRUCT'"):
        layout("NO_SUCH_STRUCT")
    with pytest.raises(StructError, match=r"SecBuffer has no field 'cbBufer' \(its fields: cbBuffer"):
        layout("SecBuffer").pack(cbBufer=1)
    with pytest.raises(StructError, match="does not fit WIN32_FIND_DATAW.cAlternateFileName"):
        layout("WIN32_FIND_DATAW").pack(cAlternateFileName="a-name-longer-than-fourteen")


@pytest.mark.parametrize(("ctype", "name", "size"), [
    ("PCtxtHandle", "_SecHandle", 16), ("CtxtHandle*", "CtxtHandle", 16), ("PSecBufferDesc", "_SecBufferDesc", 16),
    ("LPOVERLAPPED", "_OVERLAPPED", 32), ("const FWPM_SESSION0*", "FWPM_SESSION0", 72),
    ("LPWIN32_FIND_DATAW", "_WIN32_FIND_DATAW", 592), ("PSECURITY_ATTRIBUTES", "_SECURITY_ATTRIBUTES", 24),
])
def test_a_pointer_type_finds_its_structure_through_the_typedef_chain(ctype, name, size):
    found = pointee(ctype)
    assert found is not None and (found.name, found.size) == (name, size)


@pytest.mark.parametrize("ctype", ["HANDLE", "LPVOID", "LPDWORD", "PVOID*", "LPWSTR", "DWORD", None])
def test_pointers_to_scalars_and_handles_have_no_structure(ctype):
    assert pointee(ctype) is None


def test_constants_are_macros_or_enumerators_from_the_headers():
    constant = CodeBook().constant
    assert constant("SECBUFFER_TOKEN") == 2  # sspi.h #define
    assert constant("FWP_IP_VERSION_V6") == 1  # fwptypes.h enum: no #define holds it
    assert constant("NO_SUCH_CONSTANT_ANYWHERE") is None
