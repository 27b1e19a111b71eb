"""SSPI as its reference pages describe it: credentials, client contexts, and the kernel's async calls.

The user-mode functions (Secur32.dll, forwarded from sspicli.dll, and
exported by ksecdd.sys for drivers) and the kernel-mode Sspi*Async
functions (ksecdd.sys) share one handle table, as they share the security
packages on Windows. The model has no server, no certificates and no
domain: a client context never gets past its first leg, and that is all
the bundled specs' fixtures need (a partial context is a live context:
"This is true if the security context is partial, incomplete, rejected,
or failed").

Choices the docs leave open, made once here:
- A required pointer given as NULL fails with SEC_E_INTERNAL_ERROR ("an
  error occurred that did not map to an SSPI error code"), checked before
  anything is created, so a failed call leaves nothing behind. A non-NULL
  pointer is used as given: a bad one faults, as in a real process.
- Handles are never reused, so a released handle stays distinguishable
  from garbage (DeleteSecurityContext must tell "already deleted" apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from specproof.adapter.structs import Record, layout

from . import status as S
from . import tokens
from .core import ModelCore, export
from .memory import ModelFault

#: Modules exporting the user-mode functions (ksecdd.sys exports them to drivers too).
SSPI_MODULES = ("Secur32.dll", "sspicli.dll", "ksecdd.sys")
#: The module exporting the kernel-mode async functions.
KSECDD = ("ksecdd.sys",)

SECPKG_CRED_INBOUND = 0x1
SECPKG_CRED_OUTBOUND = 0x2
SECBUFFER_TOKEN = 2
SECBUFFER_ATTRMASK = 0xF0000000
SECPKG_ATTR_SIZES = 0
SCHANNEL_CRED_VERSION = 4
SCH_CREDENTIALS_VERSION = 5
ISC_REQ_DELEGATE = 0x1
ISC_REQ_PROMPT_FOR_CREDS = 0x40
ISC_REQ_ALLOCATE_MEMORY = 0x100
ISC_RET_ALLOCATED_MEMORY = 0x100
#: ISC_REQ_* bits whose ISC_RET_* twin has the same value (sspi.h); the model grants what is asked.
_ECHOED_REQUESTS = 0x405FCC3E
#: A TimeStamp that never expires (the largest LARGE_INTEGER), as packages report for such credentials.
NEVER = 0x7FFF_FFFF_FFFF_FFFF
#: `unsigned long` arguments arrive in 64-bit registers; the callee sees the low 32 bits.
U32 = 0xFFFFFFFF
#: Size of the opaque SspiAsyncContext the model hands out.
ASYNC_CONTEXT_SIZE = 64


@dataclass(frozen=True)
class Package:
    """A security package the model offers, and the SecPkgContext_Sizes its contexts report."""

    name: str
    kind: str
    sizes: tuple[int, int, int, int]  # cbMaxToken, cbMaxSignature, cbBlockSize, cbSecurityTrailer


#: Plausible sizes, in the range real packages report; nothing in the model depends on them.
_SCHANNEL = Package("Microsoft Unified Security Protocol Provider", "schannel", (24576, 0, 0, 0))
_NTLM = Package("NTLM", "ntlm", (2888, 16, 0, 16))
_NEGOTIATE = Package("Negotiate", "negotiate", (48256, 16, 0, 16))
PACKAGES: dict[str, Package] = {
    "microsoft unified security protocol provider": _SCHANNEL,
    "schannel": _SCHANNEL,
    "ntlm": _NTLM,
    "negotiate": _NEGOTIATE,
}


@dataclass
class Credential:
    package: Package
    use: int
    released: bool = False


@dataclass
class Context:
    package: Package
    state: str = "partial"  # partial: first leg done; failed: a later leg was rejected
    released: bool = False


@dataclass
class AsyncCall:
    """One SspiAsyncContext: at most one queued call, which completes when it is polled."""

    address: int
    state: str = "idle"  # idle -> queued -> running -> complete (-> idle again through SspiReinitAsyncContext)
    status: int = S.SEC_E_OK
    function: str = ""
    operation: Callable[[], int] | None = None
    callback: int = 0
    callback_data: int = 0


@dataclass
class SspiState:
    handles: dict[tuple[int, int], Credential | Context] = field(default_factory=dict)
    async_calls: dict[int, AsyncCall] = field(default_factory=dict)
    serial: int = 0x1000

    def new_key(self, kind: int) -> tuple[int, int]:
        """A fresh (dwLower, dwUpper) pair; never {0, 0}, never reused."""
        self.serial += 1
        return self.serial, 0x5350_0000 | kind


class SspiFunctions(ModelCore):
    """The SSPI exports; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.sspi = SspiState()

    # -- helpers ----------------------------------------------------------------------------
    def read_handle(self, pointer: int) -> tuple[int, int] | None:
        """The SecHandle behind `pointer` (None for NULL); a bad pointer faults, as the real read would."""
        if pointer == 0:
            return None
        handle = self.read_record(pointer, "SecHandle")
        return handle.dwLower, handle.dwUpper

    def live_credential(self, key: tuple[int, int] | None) -> Credential | None:
        entry = self.sspi.handles.get(key) if key else None
        return entry if isinstance(entry, Credential) and not entry.released else None

    def live_context(self, key: tuple[int, int] | None) -> Context | None:
        entry = self.sspi.handles.get(key) if key else None
        return entry if isinstance(entry, Context) and not entry.released else None

    def _describe(self, key: tuple[int, int] | None, what: str) -> str:
        if key is None:
            return f"NULL is not a {what}"
        entry = self.sspi.handles.get(key)
        text = f"handle {{0x{key[0]:X}, 0x{key[1]:X}}}"
        if entry is not None and entry.released:
            return f"{text} was already released"
        return f"{text} is not a live {what}"

    def read_unicode_string(self, pointer: int) -> str | None:
        """A kernel PSECURITY_STRING (UNICODE_STRING: Length, MaximumLength, Buffer); None for NULL."""
        if pointer == 0:
            return None
        length = self.memory.read_u16(pointer)
        buffer = self.memory.read_u64(pointer + 8)
        return self.memory.read_counted_wstr(buffer, length) if length else ""

    def _token_buffer(self, descriptor: int) -> tuple[int, Record] | None:
        """The address and contents of the first SECBUFFER_TOKEN buffer of a SecBufferDesc, if any."""
        if descriptor == 0:
            return None
        desc = self.read_record(descriptor, "SecBufferDesc")
        size = layout("SecBuffer").size
        for index in range(desc.cBuffers):
            address = desc.pBuffers + index * size
            buffer = self.read_record(address, "SecBuffer")
            if buffer.BufferType & ~SECBUFFER_ATTRMASK == SECBUFFER_TOKEN:
                return address, buffer
        return None

    def _first_token(self, package: Package, target: str | None) -> bytes:
        self.sspi.serial += 1
        if package.kind == "schannel":
            return tokens.tls_client_hello(target, f"model-hello-{self.sspi.serial}")
        if package.kind == "ntlm":
            return tokens.ntlm_negotiate()
        return tokens.spnego_init(tokens.ntlm_negotiate())

    # -- credentials ------------------------------------------------------------------------
    @export(*SSPI_MODULES)
    def AcquireCredentialsHandleW(self, pPrincipal: int, pPackage: int, fCredentialUse: int, pvLogonId: int,
                                  pAuthData: int, pGetKeyFn: int, pvGetKeyArgument: int, phCredential: int,
                                  ptsExpiry: int) -> int:
        """Credentials for a package. The model never calls pGetKeyFn: it runs no caller code."""
        if pPrincipal:
            self.memory.read_wstr(pPrincipal)  # read as the package would; the model keeps no principals
        package = self.memory.read_wstr(pPackage) if pPackage else None
        return self.acquire_credentials(package, fCredentialUse & U32, pAuthData, phCredential, ptsExpiry)

    def acquire_credentials(self, package_name: str | None, use: int, auth_data: int, ph_credential: int,
                            pts_expiry: int) -> int:
        """AcquireCredentialsHandle's work, shared by the synchronous and the async function."""
        if ph_credential == 0:
            # No documented code says "phCredential is NULL"; this is the page's catch-all.
            self.diag("phCredential is NULL: nowhere to return the handle")
            return S.SEC_E_INTERNAL_ERROR
        package = PACKAGES.get((package_name or "").lower())
        if package is None:
            self.diag(f"no security package named {package_name!r}" if package_name is not None
                      else "pPackage is NULL: no package named")
            return S.SEC_E_SECPKG_NOT_FOUND
        if not use & (SECPKG_CRED_INBOUND | SECPKG_CRED_OUTBOUND):
            self.diag(f"fCredentialUse 0x{use:X} asks for neither inbound nor outbound credentials")
            return S.SEC_E_UNKNOWN_CREDENTIALS
        if package.kind == "schannel":
            refused = self._check_schannel_credentials(auth_data, use)
            if refused:
                return refused
        key = self.sspi.new_key(1)
        self.write_record(ph_credential, "SecHandle", dwLower=key[0], dwUpper=key[1])
        if pts_expiry:
            self.memory.write_u64(pts_expiry, NEVER)
        self.sspi.handles[key] = Credential(package, use)
        return S.SEC_E_OK

    def _check_schannel_credentials(self, auth_data: int, use: int) -> int:
        """Schannel reads SCHANNEL_CRED (or SCH_CREDENTIALS); a server side needs a certificate."""
        certificates = 0
        if auth_data:
            version = self.memory.read_u32(auth_data)
            if version == SCHANNEL_CRED_VERSION:
                certificates = self.read_record(auth_data, "SCHANNEL_CRED").cCreds
            elif version == SCH_CREDENTIALS_VERSION:
                certificates = self.memory.read_u32(auth_data + 8)  # dwVersion, dwCredFormat, cCreds
            else:
                self.diag(f"pAuthData version {version} is neither SCHANNEL_CRED_VERSION nor SCH_CREDENTIALS_VERSION")
                return S.SEC_E_UNKNOWN_CREDENTIALS
        if use & SECPKG_CRED_INBOUND and certificates == 0:
            self.diag("inbound Schannel credentials need a server certificate; none was given")
            return S.SEC_E_NO_CREDENTIALS
        return 0

    @export(*SSPI_MODULES)
    def FreeCredentialsHandle(self, phCredential: int) -> int:
        return self.free_credentials(self.read_handle(phCredential))

    def free_credentials(self, key: tuple[int, int] | None) -> int:
        credential = self.live_credential(key)
        if credential is None:
            # The page documents SEC_E_OK and SEC_E_INVALID_HANDLE only; freeing twice is not
            # "already deleted" tolerated as DeleteSecurityContext's is.
            self.diag(self._describe(key, "credential handle"))
            return S.SEC_E_INVALID_HANDLE
        credential.released = True
        return S.SEC_E_OK

    # -- contexts ---------------------------------------------------------------------------
    @export(*SSPI_MODULES)
    def InitializeSecurityContextW(self, phCredential: int, phContext: int, pTargetName: int, fContextReq: int,
                                   Reserved1: int, TargetDataRep: int, pInput: int, Reserved2: int,
                                   phNewContext: int, pOutput: int, pfContextAttr: int, ptsExpiry: int) -> int:
        target = self.memory.read_wstr(pTargetName) if pTargetName else None
        return self.initialize_context(S.SEC_E_INVALID_HANDLE, phCredential, phContext, target, fContextReq & U32,
                                       pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry)

    def initialize_context(self, invalid_handle: int, ph_credential: int, ph_context: int, target: str | None,
                           request: int, p_input: int, ph_new_context: int, p_output: int, pf_context_attr: int,
                           pts_expiry: int) -> int:
        """InitializeSecurityContext's work; `invalid_handle` is the value the calling function's page documents."""
        credential_key = self.read_handle(ph_credential)
        context_key = self.read_handle(ph_context)
        credential = self.live_credential(credential_key)
        if credential is None:
            # "requires at least OUTBOUND credentials" on every leg: no live credential, no context.
            self.diag(self._describe(credential_key, "credential handle"))
            return invalid_handle
        context = None
        if context_key is not None:
            context = self.live_context(context_key)
            if context is None:
                self.diag(self._describe(context_key, "security context"))
                return invalid_handle
        if pf_context_attr == 0:
            self.diag("pfContextAttr is NULL")
            return S.SEC_E_INTERNAL_ERROR
        if request & (ISC_REQ_DELEGATE | ISC_REQ_PROMPT_FOR_CREDS):
            self.diag(f"fContextReq 0x{request:X} has ISC_REQ_DELEGATE or ISC_REQ_PROMPT_FOR_CREDS")
            return S.SEC_E_UNSUPPORTED_FUNCTION
        if not credential.use & SECPKG_CRED_OUTBOUND:
            self.diag("the credentials are inbound only; a client context needs outbound credentials")
            return S.SEC_E_NO_CREDENTIALS
        if context is not None:
            return self._later_leg(context, p_input)
        return self._first_leg(credential, target, request, ph_new_context, p_output, pf_context_attr, pts_expiry)

    def _later_leg(self, context: Context, p_input: int) -> int:
        """A reply from the server: the model has none, so no reply is one it can understand."""
        found = self._token_buffer(p_input)
        if found is not None and found[1].cbBuffer:
            self.memory.read(found[1].pvBuffer, found[1].cbBuffer)
        context.state = "failed"
        self.diag("the model has no server: it cannot understand any input token (context stays live)")
        return S.SEC_E_INVALID_TOKEN

    def _first_leg(self, credential: Credential, target: str | None, request: int, ph_new_context: int,
                   p_output: int, pf_context_attr: int, pts_expiry: int) -> int:
        if ph_new_context == 0:
            self.diag("phNewContext is NULL on the first call: nowhere to return the new context")
            return S.SEC_E_INTERNAL_ERROR
        found = self._token_buffer(p_output)
        if found is None:
            # As the NTLM package answers a missing output token buffer.
            self.diag("pOutput has no SECBUFFER_TOKEN buffer to receive the token")
            return S.SEC_E_INVALID_TOKEN
        slot, buffer = found
        token = self._first_token(credential.package, target)
        attributes = request & _ECHOED_REQUESTS
        allocated = 0
        if request & ISC_REQ_ALLOCATE_MEMORY:
            allocated = self.give_buffer(token)
            attributes |= ISC_RET_ALLOCATED_MEMORY
        elif buffer.pvBuffer == 0 or buffer.cbBuffer < len(token):
            self.diag(f"the token needs {len(token)} bytes; the SECBUFFER_TOKEN buffer holds {buffer.cbBuffer}")
            return S.SEC_E_INSUFFICIENT_MEMORY
        key = self.sspi.new_key(2)
        try:
            if allocated:
                self.write_record(slot, "SecBuffer", cbBuffer=len(token), BufferType=buffer.BufferType,
                                  pvBuffer=allocated)
            else:
                self.memory.write(buffer.pvBuffer, token)
                self.memory.write_u32(slot, len(token))
            self.write_record(ph_new_context, "SecHandle", dwLower=key[0], dwUpper=key[1])
            self.memory.write_u32(pf_context_attr, attributes)
            if pts_expiry:
                self.memory.write_u64(pts_expiry, NEVER)
        except ModelFault:
            if allocated:
                self.take_buffer(allocated)
            raise
        self.sspi.handles[key] = Context(credential.package)
        return S.SEC_I_CONTINUE_NEEDED

    @export(*SSPI_MODULES)
    def DeleteSecurityContext(self, phContext: int) -> int:
        return self.delete_context(self.read_handle(phContext))

    def delete_context(self, key: tuple[int, int] | None, deleted_ok: bool = True) -> int:
        """Deletion, which tolerates a handle already deleted where the page says so.

        DeleteSecurityContext's page: "If the function succeeds or the handle
        has already been deleted, the return value is SEC_E_OK."
        SspiDeleteSecurityContextAsync's page says no such thing, only that
        after deletion "the handle is no longer valid" (`deleted_ok=False`).
        """
        entry = self.sspi.handles.get(key) if key else None
        if not isinstance(entry, Context):
            self.diag(self._describe(key, "security context"))
            return S.SEC_E_INVALID_HANDLE
        if entry.released and not deleted_ok:
            self.diag("the context was already deleted: the handle is no longer valid")
            return S.SEC_E_INVALID_HANDLE
        if entry.released:
            self.diag("the context was already deleted (SEC_E_OK, as the page says)")
        entry.released = True
        return S.SEC_E_OK

    @export(*SSPI_MODULES)
    def QueryContextAttributesW(self, phContext: int, ulAttribute: int, pBuffer: int) -> int:
        """Only SECPKG_ATTR_SIZES is modelled.

        A not-valid handle gets 0x80100003, the value this page gives for
        SEC_E_INVALID_HANDLE (winerror.h says 0x80090301): the model follows
        its docs. The page also ties that code to "a handle to an incomplete
        context"; the model still answers SIZES for a partial context, whose
        sizes are the package's and known from the first leg.
        """
        ulAttribute &= U32
        key = self.read_handle(phContext)
        context = self.live_context(key)
        if context is None:
            self.diag(self._describe(key, "security context"))
            return S.SEC_E_INVALID_HANDLE_AS_DOCUMENTED_0x80100003
        if ulAttribute != SECPKG_ATTR_SIZES:
            self.diag(f"attribute {ulAttribute} is not modelled (only SECPKG_ATTR_SIZES)")
            return S.SEC_E_UNSUPPORTED_FUNCTION
        if pBuffer == 0:
            self.diag("pBuffer is NULL")
            return S.SEC_E_INTERNAL_ERROR
        max_token, max_signature, block, trailer = context.package.sizes
        self.write_record(pBuffer, "SecPkgContext_Sizes", cbMaxToken=max_token, cbMaxSignature=max_signature,
                          cbBlockSize=block, cbSecurityTrailer=trailer)
        return S.SEC_E_OK

    @export(*SSPI_MODULES)
    def FreeContextBuffer(self, pvContextBuffer: int) -> int:
        """Frees what the model allocated for a caller (tokens, query results); anything else fails."""
        if self.take_buffer(pvContextBuffer):
            return S.SEC_E_OK
        self.diag(f"0x{pvContextBuffer:X} is not a buffer the model allocated for the caller")
        return S.SEC_E_INVALID_HANDLE

    # -- kernel-mode async calls --------------------------------------------------------------
    def async_call(self, address: int) -> AsyncCall | None:
        return self.sspi.async_calls.get(address) if address else None

    def _claim(self, address: int) -> AsyncCall | None:
        """The async context a new call will use, if it is valid and free (diagnosed otherwise)."""
        call = self.async_call(address)
        if call is None:
            self.diag(f"0x{address:X} is not an async context from SspiCreateAsyncContext")
        elif call.state != "idle":
            self.diag(f"the async context already holds a call ({call.function}, {call.state}); one call per "
                      f"context, reused only through SspiReinitAsyncContext after it completed")
            return None
        return call

    def _queue(self, call: AsyncCall, operation: Callable[[], int]) -> int:
        call.state, call.function, call.operation = "queued", self._function, operation
        call.status = S.SEC_I_ASYNC_CALL_PENDING
        return S.SEC_E_OK

    def _complete(self, call: AsyncCall) -> None:
        """Run a queued call's operation: its out-parameters are written now, and its status is kept."""
        operation, call.operation = call.operation, None
        saved = self._function
        self._function = f"{call.function} (completing)"
        call.state, call.status = "complete", S.SEC_E_INTERNAL_ERROR  # if the operation faults
        try:
            call.status = operation() if operation else S.SEC_E_OK
        finally:
            self._function = saved

    @export(*KSECDD)
    def SspiCreateAsyncContext(self) -> int:
        address = self.memory.alloc(ASYNC_CONTEXT_SIZE, b"SspiAsyncContext(model)")
        self.sspi.async_calls[address] = AsyncCall(address)
        return address

    @export(*KSECDD)
    def SspiFreeAsyncContext(self, Handle: int) -> int:
        """A call still queued runs first: a caller may free the context right after queueing a deletion."""
        call = self.async_call(Handle)
        if call is None:
            if Handle:
                self.diag(f"0x{Handle:X} is not an async context from SspiCreateAsyncContext")
            return 0
        if call.state in ("queued", "running"):
            self._complete(call)
        del self.sspi.async_calls[Handle]
        self.memory.free(Handle)
        return 0

    @export(*KSECDD)
    def SspiReinitAsyncContext(self, Handle: int) -> int:
        """Makes a completed context reusable; the callback stays ("Only the context state is altered").

        The page: "If the context is invalid or currently in use, an error
        will be returned." It names no code: an unknown context gets
        STATUS_INVALID_PARAMETER, one whose call has not completed
        STATUS_DEVICE_BUSY.
        """
        call = self.async_call(Handle)
        if call is None:
            self.diag(f"0x{Handle:X} is not an async context from SspiCreateAsyncContext")
            return S.STATUS_INVALID_PARAMETER
        if call.state in ("queued", "running"):
            self.diag(f"the async context's call ({call.function}) has not completed")
            return S.STATUS_DEVICE_BUSY
        call.state, call.status, call.function = "idle", S.SEC_E_OK, ""
        return S.STATUS_SUCCESS

    @export(*KSECDD)
    def SspiGetAsyncCallStatus(self, Handle: int) -> int:
        """The first poll after queueing finds the call in progress; the next one completes it."""
        call = self.async_call(Handle)
        if call is None:
            self.diag(f"0x{Handle:X} is not an async context from SspiCreateAsyncContext")
            return S.SEC_E_INVALID_HANDLE
        if call.state == "idle":
            self.diag("no call was queued on this async context")
            return S.SEC_E_OK
        if call.state == "queued":
            call.state = "running"
            return S.SEC_I_ASYNC_CALL_PENDING
        if call.state == "running":
            self._complete(call)
        return call.status

    @export(*KSECDD)
    def SspiAsyncContextRequiresNotify(self, AsyncContext: int) -> int:
        call = self.async_call(AsyncContext)
        return 1 if call is not None and call.callback else 0

    @export(*KSECDD)
    def SspiSetAsyncNotifyCallback(self, Context: int, Callback: int, CallbackData: int) -> int:
        """Keeps the callback, which the model never calls: it runs no caller code. Callers poll instead."""
        call = self.async_call(Context)
        if call is None:
            self.diag(f"0x{Context:X} is not an async context from SspiCreateAsyncContext")
            return S.SEC_E_INVALID_HANDLE
        call.callback, call.callback_data = Callback, CallbackData
        return S.SEC_E_OK

    @export(*KSECDD)
    def SspiAcquireCredentialsHandleAsyncW(self, AsyncContext: int, pszPrincipal: int, pszPackage: int,
                                           fCredentialUse: int, pvLogonId: int, pAuthData: int, pGetKeyFn: int,
                                           pvGetKeyArgument: int, phCredential: int, ptsExpiry: int) -> int:
        """Queued; completes as AcquireCredentialsHandleW would. The page lists no invalid-handle code for a
        bad async context, so that gets its catch-all, SEC_E_INTERNAL_ERROR."""
        call = self._claim(AsyncContext)
        if call is None:
            return S.SEC_E_INTERNAL_ERROR
        self.read_unicode_string(pszPrincipal)
        package = self.read_unicode_string(pszPackage)
        if phCredential == 0:
            self.diag("phCredential is NULL: nowhere to return the handle")
            return S.SEC_E_INTERNAL_ERROR
        return self._queue(call, lambda: self.acquire_credentials(package, fCredentialUse & U32, pAuthData,
                                                                  phCredential, ptsExpiry))

    @export(*KSECDD)
    def SspiInitializeSecurityContextAsyncW(self, AsyncContext: int, phCredential: int, phContext: int,
                                            pszTargetName: int, fContextReq: int, Reserved1: int,
                                            TargetDataRep: int, pInput: int, Reserved2: int, phNewContext: int,
                                            pOutput: int, pfContextAttr: int, ptsExpiry: int) -> int:
        """Queued; completes as InitializeSecurityContextW would.

        This page lists SEC_E_INVALID_HANDLE (as 0x80100003) among what the
        call itself returns, so handles are checked when the call is queued:
        a credential that is not live, or a context given but not live, is
        refused then, as is a bad async context.
        """
        invalid = S.SEC_E_INVALID_HANDLE_AS_DOCUMENTED_0x80100003
        call = self._claim(AsyncContext)
        if call is None:
            return invalid
        if self.live_credential(self.read_handle(phCredential)) is None:
            self.diag(self._describe(self.read_handle(phCredential), "credential"))
            return invalid
        if phContext and self.live_context(self.read_handle(phContext)) is None:
            self.diag(self._describe(self.read_handle(phContext), "security context"))
            return invalid
        target = self.read_unicode_string(pszTargetName)
        if pfContextAttr == 0:
            self.diag("pfContextAttr is NULL")
            return S.SEC_E_INTERNAL_ERROR
        return self._queue(call, lambda: self.initialize_context(invalid, phCredential, phContext, target,
                                                                 fContextReq & U32, pInput, phNewContext, pOutput,
                                                                 pfContextAttr, ptsExpiry))

    @export(*KSECDD)
    def SspiDeleteSecurityContextAsync(self, AsyncContext: int, phContext: int) -> int:
        """Queued; the handle is read now (the caller may free the context and its handle at once, M2) and
        the deletion's outcome, as DeleteSecurityContext's, is reported by SspiGetAsyncCallStatus."""
        call = self._claim(AsyncContext)
        if call is None:
            return S.SEC_E_INVALID_HANDLE
        key = self.read_handle(phContext)
        return self._queue(call, lambda: self.delete_context(key, deleted_ok=False))

    @export(*KSECDD)
    def SspiFreeCredentialsHandleAsync(self, AsyncContext: int, phCredential: int) -> int:
        """Queued like SspiDeleteSecurityContextAsync; completes as FreeCredentialsHandle would."""
        call = self._claim(AsyncContext)
        if call is None:
            return S.SEC_E_INVALID_HANDLE
        key = self.read_handle(phCredential)
        return self._queue(call, lambda: self.free_credentials(key))
