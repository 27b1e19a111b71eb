"""The status values the model returns, with the names the Windows SDK gives them.

Values are those of the mingw-w64 winerror.h and ntstatus.h (and of the
bundled specs, which resolved them from the same headers). Where a page
documents a different value for a name, the model returns the page's value
and the constant says so: the model is written from the docs' words.
"""

from __future__ import annotations

# -- SSPI (winerror.h) ---------------------------------------------------------------------
SEC_E_OK = 0x00000000
SEC_I_CONTINUE_NEEDED = 0x00090312
SEC_I_ASYNC_CALL_PENDING = 0x00090368
SEC_E_INSUFFICIENT_MEMORY = 0x80090300
SEC_E_INVALID_HANDLE = 0x80090301
SEC_E_UNSUPPORTED_FUNCTION = 0x80090302
SEC_E_INTERNAL_ERROR = 0x80090304
SEC_E_SECPKG_NOT_FOUND = 0x80090305
SEC_E_INVALID_TOKEN = 0x80090308
SEC_E_UNKNOWN_CREDENTIALS = 0x8009030D
SEC_E_NO_CREDENTIALS = 0x8009030E

#: The value the QueryContextAttributesW and SspiInitializeSecurityContextAsyncW pages give for
#: SEC_E_INVALID_HANDLE. winerror.h defines SEC_E_INVALID_HANDLE as 0x80090301; 0x80100003 is
#: SCARD_E_INVALID_HANDLE there. The model returns what those pages document.
SEC_E_INVALID_HANDLE_AS_DOCUMENTED_0x80100003 = 0x80100003

# -- NTSTATUS (ntstatus.h) -----------------------------------------------------------------
STATUS_SUCCESS = 0x00000000
STATUS_DEVICE_BUSY = 0x80000011
STATUS_INVALID_PARAMETER = 0xC000000D

# -- Windows Filtering Platform (winerror.h) -----------------------------------------------
ERROR_SUCCESS = 0
FWP_E_NOT_FOUND = 0x80320008
FWP_E_ALREADY_EXISTS = 0x80320009
FWP_E_DYNAMIC_SESSION_IN_PROGRESS = 0x8032000B
FWP_E_NULL_POINTER = 0x8032001C
FWP_E_INVALID_ENUMERATOR = 0x8032001D
FWP_E_INVALID_PARAMETER = 0x80320035
#: "The object invoked has disconnected from its clients": a session that is not open.
RPC_E_DISCONNECTED = 0x80010108
