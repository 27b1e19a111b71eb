"""The model's system information, against the sysinfoapi pages' words (adapters/model/sysinfo.py)."""

from __future__ import annotations

import time

import pytest

from specproof.adapter.structs import layout

from modelcalls import call

ERROR_INVALID_PARAMETER, ERROR_MORE_DATA = 87, 234
ComputerNameNetBIOS, ComputerNameDnsHostname, ComputerNameDnsDomain, ComputerNameDnsFullyQualified = 0, 1, 2, 3
ComputerNameMax = 8
MEM_COMMIT, PAGE_READWRITE = 0x1000, 0x04
EPOCH_AS_FILETIME = 116_444_736_000_000_000


def test_system_info_describes_pages_granularity_and_the_address_range(model):
    info = layout("SYSTEM_INFO")
    buffer = model.alloc(info.size)
    assert call(model, "GetSystemInfo", buffer).fault is None
    system = info.unpack(model.read(buffer, info.size))
    assert (system.dwPageSize, system.dwAllocationGranularity) == (0x1000, 0x10000)
    assert system.wProcessorArchitecture == 9, "PROCESSOR_ARCHITECTURE_AMD64"
    assert system.lpMinimumApplicationAddress < system.lpMaximumApplicationAddress
    assert system.dwActiveProcessorMask == (1 << system.dwNumberOfProcessors) - 1
    first = call(model, "VirtualAlloc", 0, 1, MEM_COMMIT, PAGE_READWRITE).value
    assert first % system.dwAllocationGranularity == 0, "VirtualAlloc uses the granularity GetSystemInfo reports"
    assert call(model, "GetSystemInfo", 0).fault is not None, "it has no failure to report, so NULL faults"


def test_the_system_time_is_utc_in_filetime_units(model):
    filetime = layout("FILETIME")
    buffer = model.alloc(filetime.size)
    before = time.time_ns() // 100 + EPOCH_AS_FILETIME
    call(model, "GetSystemTimeAsFileTime", buffer)
    after = time.time_ns() // 100 + EPOCH_AS_FILETIME
    value = filetime.unpack(model.read(buffer, filetime.size))
    assert before <= (value.dwHighDateTime << 32 | value.dwLowDateTime) <= after, "100 ns since 1601-01-01 UTC"


@pytest.mark.parametrize("function,path", [("GetWindowsDirectoryW", "C:\\windows"),
                                           ("GetSystemDirectoryW", "C:\\windows\\system32")])
def test_directories_return_their_length_or_the_size_needed(model, function, path):
    buffer = model.alloc(2 * 260)
    copied = call(model, function, buffer, 260)
    assert copied.value == len(path) and copied.last_error is None, "the length, not including the null"
    assert model.memory.read_wstr(buffer) == path and not path.endswith("\\"), "does not end with a backslash"
    small = model.alloc(2 * len(path))
    needed = call(model, function, small, len(path))
    assert needed.value == len(path) + 1, "the size of the buffer required to hold the path, with its null"
    assert model.read(small, 2) == b"\0\0", "nothing is copied to a buffer that is too small"
    assert call(model, function, 0, 0).value == len(path) + 1


def test_computer_names_and_the_more_data_rule(model):
    size, buffer = model.alloc(4), model.alloc(2 * 64)
    model.write(size, (0).to_bytes(4, "little"))
    short = call(model, "GetComputerNameExW", ComputerNameDnsHostname, 0, size)
    assert (short.value, short.last_error) == (0, ERROR_MORE_DATA), "set lpBuffer to NULL to learn the size"
    needed = int.from_bytes(model.read(size, 4), "little")
    assert needed == len("specproof") + 1, "the size of the buffer required, including the terminating null"
    assert call(model, "GetComputerNameExW", ComputerNameDnsHostname, buffer, size).value == 1
    assert model.memory.read_wstr(buffer) == "specproof"
    assert int.from_bytes(model.read(size, 4), "little") == needed - 1, "not including the terminating null"
    model.write(size, (64).to_bytes(4, "little"))
    assert call(model, "GetComputerNameExW", ComputerNameNetBIOS, buffer, size).value == 1
    assert model.memory.read_wstr(buffer) == "SPECPROOF"
    model.write(size, (64).to_bytes(4, "little"))
    assert call(model, "GetComputerNameExW", ComputerNameDnsFullyQualified, buffer, size).value == 1
    assert model.memory.read_wstr(buffer) == "specproof", "no DNS domain: the fully qualified name is the host's"
    model.write(size, (8).to_bytes(4, "little"))
    bad = call(model, "GetComputerNameExW", ComputerNameDnsHostname, 0, size)
    assert (bad.value, bad.last_error) == (0, ERROR_INVALID_PARAMETER), "If lpBuffer is NULL, nSize must be zero"
    invalid = call(model, "GetComputerNameExW", ComputerNameMax, buffer, size)
    assert (invalid.value, invalid.last_error) == (0, ERROR_INVALID_PARAMETER)


def test_memory_status_needs_its_length_and_follows_what_is_committed(model):
    status = layout("MEMORYSTATUSEX")
    buffer = model.alloc(status.size)
    wrong = call(model, "GlobalMemoryStatusEx", buffer)
    assert (wrong.value, wrong.last_error) == (0, ERROR_INVALID_PARAMETER), "statex.dwLength = sizeof (statex)"
    model.write(buffer, status.pack(dwLength=status.size))
    assert call(model, "GlobalMemoryStatusEx", buffer).value == 1
    before = status.unpack(model.read(buffer, status.size))
    assert before.ullAvailPhys <= before.ullTotalPhys and before.ullAvailPageFile <= before.ullTotalPageFile
    assert 0 <= before.dwMemoryLoad <= 100 and before.ullAvailVirtual <= before.ullTotalVirtual
    assert call(model, "VirtualAlloc", 0, 64 << 20, MEM_COMMIT, PAGE_READWRITE).value
    call(model, "GlobalMemoryStatusEx", buffer)
    after = status.unpack(model.read(buffer, status.size))
    assert after.ullAvailPageFile == before.ullAvailPageFile - (64 << 20), "committed memory is charged"
    assert after.ullAvailVirtual == before.ullAvailVirtual - (64 << 20)
