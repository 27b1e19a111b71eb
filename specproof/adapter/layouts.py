"""Windows x64 (LLP64) struct layouts, as ctypes structures used only as layouts.

The structures are never passed to a foreign function here: they give sizes,
offsets and byte images that the marshalling layer writes into the
implementation's memory through the adapter contract. `long` is 32 bits and
pointers are 64 bits, whatever the host's own C model is, so fields use
fixed-width ctypes types.
"""

from __future__ import annotations

import ctypes as C

ULONG = C.c_uint32
LONG = C.c_int32
ULONG_PTR = C.c_uint64
POINTER = C.c_uint64  # a pointer in the implementation's address space
UINT8 = C.c_uint8
UINT16 = C.c_uint16
UINT32 = C.c_uint32
UINT64 = C.c_uint64
GUID_BYTES = C.c_uint8 * 16


class _Struct(C.Structure):
    """Little-endian layout with natural alignment, as MSVC and mingw lay out x64 structs."""

    @classmethod
    def size(cls) -> int:
        return C.sizeof(cls)

    def image(self) -> bytes:
        return bytes(self)

    @classmethod
    def parse(cls, data: bytes):
        return cls.from_buffer_copy(data[: C.sizeof(cls)])


class SecHandle(_Struct):
    """CtxtHandle and CredHandle are both SecHandle."""

    _fields_ = [("dwLower", ULONG_PTR), ("dwUpper", ULONG_PTR)]


CtxtHandle = SecHandle
CredHandle = SecHandle


class TimeStamp(_Struct):
    """SECURITY_INTEGER / LARGE_INTEGER: 100 ns ticks."""

    _fields_ = [("QuadPart", C.c_int64)]


class SecBuffer(_Struct):
    _fields_ = [("cbBuffer", ULONG), ("BufferType", ULONG), ("pvBuffer", POINTER)]


class SecBufferDesc(_Struct):
    _fields_ = [("ulVersion", ULONG), ("cBuffers", ULONG), ("pBuffers", POINTER)]


class SecPkgContext_Sizes(_Struct):
    _fields_ = [("cbMaxToken", ULONG), ("cbMaxSignature", ULONG), ("cbBlockSize", ULONG),
                ("cbSecurityTrailer", ULONG)]


class SCHANNEL_CRED(_Struct):
    _fields_ = [("dwVersion", ULONG), ("cCreds", ULONG), ("paCred", POINTER), ("hRootStore", POINTER),
                ("cMappers", ULONG), ("aphMappers", POINTER), ("cSupportedAlgs", ULONG),
                ("palgSupportedAlgs", POINTER), ("grbitEnabledProtocols", ULONG),
                ("dwMinimumCipherStrength", ULONG), ("dwMaximumCipherStrength", ULONG),
                ("dwSessionLifespan", ULONG), ("dwFlags", ULONG), ("dwCredFormat", ULONG)]


class FWPM_DISPLAY_DATA0(_Struct):
    _fields_ = [("name", POINTER), ("description", POINTER)]


class FWPM_SESSION0(_Struct):
    _fields_ = [("sessionKey", GUID_BYTES), ("displayData", FWPM_DISPLAY_DATA0), ("flags", UINT32),
                ("txnWaitTimeoutInMSec", UINT32), ("processId", ULONG), ("sid", POINTER),
                ("username", POINTER), ("kernelMode", C.c_int32)]


class _LocalAddress(C.Union):
    _fields_ = [("localV4Address", UINT32), ("localV6Address", UINT8 * 16)]


class _RemoteAddress(C.Union):
    _fields_ = [("remoteV4Address", UINT32), ("remoteV6Address", UINT8 * 16)]


class _FilterOrPolicy(C.Union):
    _fields_ = [("ipsecFilterId", UINT64), ("tunnelPolicyId", UINT64)]


class IPSEC_TRAFFIC0(_Struct):
    _anonymous_ = ("_local", "_remote", "_id")
    _fields_ = [("ipVersion", UINT32), ("_local", _LocalAddress), ("_remote", _RemoteAddress),
                ("trafficType", UINT32), ("_id", _FilterOrPolicy), ("remotePort", UINT16)]


# Constants the fixtures pass; values from the Windows SDK headers (sspi.h, schannel.h, fwptypes.h).
SECPKG_CRED_OUTBOUND = 0x2
SECPKG_CRED_INBOUND = 0x1
SECBUFFER_VERSION = 0
SECBUFFER_EMPTY = 0
SECBUFFER_TOKEN = 2
SECPKG_ATTR_SIZES = 0
SECURITY_NATIVE_DREP = 0x10
ISC_REQ_ALLOCATE_MEMORY = 0x100
ISC_REQ_CONFIDENTIALITY = 0x10
ISC_REQ_STREAM = 0x8000
ISC_REQ_MANUAL_CRED_VALIDATION = 0x80000
SCHANNEL_CRED_VERSION = 4
SCH_CRED_NO_DEFAULT_CREDS = 0x10
SCH_CRED_MANUAL_CRED_VALIDATION = 0x8
RPC_C_AUTHN_WINNT = 10
RPC_C_AUTHN_DEFAULT = 0xFFFFFFFF
FWP_IP_VERSION_V4 = 0
IPSEC_TRAFFIC_TYPE_TRANSPORT = 0
