"""The system's facts, as the sysinfoapi pages describe them: the machine, the time, directories, names, memory.

The model is one x64 machine with four processors, 4 KiB pages and a
64 KiB allocation granularity, Windows in C:\\windows, named SPECPROOF and
not joined to a DNS domain. GetTickCount and GetTickCount64 are with the
other kernel32 functions (`kernel32.py`). Memory figures follow the model's
own address space: what VirtualAlloc and the paging-file mappings have
committed is no longer available.
"""

from __future__ import annotations

import time

from specproof.adapter.structs import layout

from .core import export
from .kernel32 import ERROR_INVALID_PARAMETER, FALSE, KERNEL32, TRUE, Kernel32Functions
from .mapping import COMMIT_LIMIT, SYSTEM_COMMIT, TOTAL_PHYSICAL
from .pages import ALLOCATION_GRANULARITY, MAX_APPLICATION_ADDRESS, MIN_APPLICATION_ADDRESS, PAGE_SIZE

# winnt.h
PROCESSOR_ARCHITECTURE_AMD64 = 9
PROCESSOR_AMD_X8664 = 8664
# winerror.h
ERROR_MORE_DATA = 234
# sysinfoapi.h: COMPUTER_NAME_FORMAT
(ComputerNameNetBIOS, ComputerNameDnsHostname, ComputerNameDnsDomain, ComputerNameDnsFullyQualified,
 ComputerNamePhysicalNetBIOS, ComputerNamePhysicalDnsHostname, ComputerNamePhysicalDnsDomain,
 ComputerNamePhysicalDnsFullyQualified, ComputerNameMax) = range(9)

PROCESSORS = 4
WINDOWS_DIRECTORY = "C:\\windows"  # as the model's file system and environment name it
SYSTEM_DIRECTORY = "C:\\windows\\system32"
NETBIOS_NAME = "SPECPROOF"
DNS_HOSTNAME = "specproof"
DNS_DOMAIN = ""  # not configured for DNS names: the fully qualified name is the host name
#: FILETIME counts 100-nanosecond intervals since January 1, 1601 (UTC); the Unix epoch is this many of them later.
EPOCH_AS_FILETIME = 116_444_736_000_000_000
#: Physical memory the rest of the system uses.
SYSTEM_PHYSICAL = 2 << 30


class SystemInfoFunctions(Kernel32Functions):
    """The sysinfoapi exports; methods are named exactly like the functions they model."""

    @export(*KERNEL32)
    def GetSystemInfo(self, lpSystemInfo: int) -> None:
        """Writes SYSTEM_INFO; it returns nothing and has no failure to report, so a bad pointer faults."""
        info = layout("SYSTEM_INFO").pack(
            wProcessorArchitecture=PROCESSOR_ARCHITECTURE_AMD64, dwPageSize=PAGE_SIZE,
            lpMinimumApplicationAddress=MIN_APPLICATION_ADDRESS, lpMaximumApplicationAddress=MAX_APPLICATION_ADDRESS,
            dwActiveProcessorMask=(1 << PROCESSORS) - 1, dwNumberOfProcessors=PROCESSORS,
            dwProcessorType=PROCESSOR_AMD_X8664, dwAllocationGranularity=ALLOCATION_GRANULARITY,
            wProcessorLevel=6, wProcessorRevision=0x9E0A)
        self.memory.write(lpSystemInfo, info)

    @export(*KERNEL32)
    def GetSystemTimeAsFileTime(self, lpSystemTimeAsFileTime: int) -> None:
        """"Retrieves the current system date and time ... in Coordinated Universal Time (UTC) format"."""
        now = time.time_ns() // 100 + EPOCH_AS_FILETIME
        self.memory.write(lpSystemTimeAsFileTime, layout("FILETIME").pack(
            dwLowDateTime=now & 0xFFFFFFFF, dwHighDateTime=now >> 32))

    def _copy_path(self, path: str, lpBuffer: int, uSize: int) -> int:
        """The directory functions' rule: the length copied without its NUL, or the size needed with it."""
        if (uSize & 0xFFFFFFFF) <= len(path):
            # "If the length is greater than the size of the buffer, the return value is the size of the buffer
            # required to hold the path, including the terminating null character."
            return len(path) + 1
        self.memory.write(lpBuffer, (path + "\0").encode("utf-16-le"))
        return len(path)  # "the length, in TCHARs, of the string copied to the buffer, not including the null"

    @export(*KERNEL32)
    def GetWindowsDirectoryW(self, lpBuffer: int, uSize: int) -> int:
        return self._copy_path(WINDOWS_DIRECTORY, lpBuffer, uSize)

    @export(*KERNEL32)
    def GetSystemDirectoryW(self, lpBuffer: int, uSize: int) -> int:
        return self._copy_path(SYSTEM_DIRECTORY, lpBuffer, uSize)

    @export(*KERNEL32)
    def GetComputerNameExW(self, NameType: int, lpBuffer: int, nSize: int) -> int:
        """nSize is read and written in place; a NULL nSize is dereferenced, as the real function does."""
        kind = NameType & 0xFFFFFFFF
        names = {ComputerNameNetBIOS: NETBIOS_NAME, ComputerNameDnsHostname: DNS_HOSTNAME,
                 ComputerNameDnsDomain: DNS_DOMAIN,
                 ComputerNameDnsFullyQualified: f"{DNS_HOSTNAME}.{DNS_DOMAIN}" if DNS_DOMAIN else DNS_HOSTNAME}
        if kind >= ComputerNameMax:
            self.diag(f"NameType {kind} is not a COMPUTER_NAME_FORMAT value")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        name = names[kind % ComputerNamePhysicalNetBIOS]  # the physical names: not a cluster node, the same names
        size = self.memory.read_u32(nSize)
        if not lpBuffer and size:  # "If lpBuffer is NULL, this parameter must be zero."
            self.diag("lpBuffer is NULL but *nSize is not zero")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        if size <= len(name):
            # "If the buffer is too small, the function fails and GetLastError returns ERROR_MORE_DATA. This
            # parameter receives the size of the buffer required, including the terminating null character."
            self.memory.write_u32(nSize, len(name) + 1)
            self.diag(f"{size} characters do not hold {name!r} and its NUL")
            self.set_last_error(ERROR_MORE_DATA)
            return FALSE
        self.memory.write(lpBuffer, (name + "\0").encode("utf-16-le"))
        self.memory.write_u32(nSize, len(name))  # "not including the terminating null character"
        return TRUE

    @export(*KERNEL32)
    def GlobalMemoryStatusEx(self, lpBuffer: int) -> int:
        """Fills MEMORYSTATUSEX, whose dwLength the caller sets first (`statex.dwLength = sizeof (statex)`)."""
        status = layout("MEMORYSTATUSEX")
        if self.memory.read_u32(lpBuffer) != status.size:
            self.diag(f"dwLength is not sizeof(MEMORYSTATUSEX) ({status.size})")
            self.set_last_error(ERROR_INVALID_PARAMETER)
            return FALSE
        committed = self.memory.commit_charge()
        available_physical = max(0, TOTAL_PHYSICAL - SYSTEM_PHYSICAL - committed)
        total_virtual = MAX_APPLICATION_ADDRESS + 1 - MIN_APPLICATION_ADDRESS
        self.memory.write(lpBuffer, status.pack(
            dwLength=status.size, dwMemoryLoad=(TOTAL_PHYSICAL - available_physical) * 100 // TOTAL_PHYSICAL,
            ullTotalPhys=TOTAL_PHYSICAL, ullAvailPhys=available_physical, ullTotalPageFile=COMMIT_LIMIT,
            ullAvailPageFile=max(0, COMMIT_LIMIT - SYSTEM_COMMIT - committed), ullTotalVirtual=total_virtual,
            ullAvailVirtual=total_virtual - self.memory.reserved_bytes(), ullAvailExtendedVirtual=0))
        return TRUE
