"""The model adapter, through the adapter contract: memory, exports, calls, and what the functions do."""

from __future__ import annotations

import time

import pytest

from specproof.adapter.codebook import CodeBook
from specproof.adapter.structs import layout
from specproof.adapter.contract import ACCESS_VIOLATION, UNIMPLEMENTED_STUB, Adapter, CallResult, Fault
from specproof_adapters.model import INFINITE, ModelAdapter, ModelFault
from specproof_adapters.model.adapter import CODE_BASE
from specproof_adapters.model.memory import GUARD, HEAP_BASE

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
QCA_INVALID_HANDLE = 0x80100003  # the value QueryContextAttributesW's page gives SEC_E_INVALID_HANDLE
STATUS_DEVICE_BUSY = 0x80000011
STATUS_INVALID_PARAMETER = 0xC000000D
FWP_E_NOT_FOUND = 0x80320008
FWP_E_ALREADY_EXISTS = 0x80320009
FWP_E_DYNAMIC_SESSION_IN_PROGRESS = 0x8032000B
FWP_E_NULL_POINTER = 0x8032001C
FWP_E_INVALID_PARAMETER = 0x80320035
RPC_E_DISCONNECTED = 0x80010108
ISC_RET_ALLOCATED_MEMORY = 0x100
GARBAGE = 0xDEADBEEFBAADF00D
SCHANNEL = "Microsoft Unified Security Protocol Provider"
K = CodeBook().constant  # constants from the SDK headers
REQUEST = K("ISC_REQ_ALLOCATE_MEMORY") | K("ISC_REQ_CONFIDENTIALITY") | K("ISC_REQ_STREAM") | K("ISC_REQ_MANUAL_CRED_VALIDATION")


# -- helpers ---------------------------------------------------------------------------------------
@pytest.fixture
def model():
    adapter = ModelAdapter()
    yield adapter
    adapter.close()


def call(adapter: ModelAdapter, function: str, *args: int, module: str | None = None,
         timeout: float = 2.0) -> CallResult:
    export = adapter.resolve(module, function)
    assert export is not None, f"{function} is not exported"
    return adapter.call(export.address, list(args), timeout)


def value(adapter: ModelAdapter, function: str, *args: int, module: str | None = None) -> int:
    result = call(adapter, function, *args, module=module)
    assert result.fault is None and not result.timed_out, result
    return result.value


def put(adapter: ModelAdapter, data: bytes) -> int:
    address = adapter.alloc(len(data))
    adapter.write(address, data)
    return address


def wide(adapter: ModelAdapter, text: str) -> int:
    return put(adapter, (text + "\0").encode("utf-16-le"))


def struct(adapter: ModelAdapter, name: str, **fields: int | bytes) -> int:
    """A structure laid out as the SDK headers do, in the model's memory."""
    return put(adapter, layout(name).pack(**fields))


def u32(adapter: ModelAdapter, address: int) -> int:
    return int.from_bytes(adapter.read(address, 4), "little")


def u64(adapter: ModelAdapter, address: int) -> int:
    return int.from_bytes(adapter.read(address, 8), "little")


def unicode_string(adapter: ModelAdapter, text: str) -> int:
    data = text.encode("utf-16-le")
    buffer = put(adapter, data)
    return put(adapter, len(data).to_bytes(2, "little") * 2 + bytes(4) + buffer.to_bytes(8, "little"))


def credentials(adapter: ModelAdapter, package: str = SCHANNEL, use: int = K("SECPKG_CRED_OUTBOUND")) -> int:
    handle = adapter.alloc(16)
    auth = 0
    if package == SCHANNEL:
        auth = struct(adapter, "SCHANNEL_CRED", dwVersion=K("SCHANNEL_CRED_VERSION"),
                      dwFlags=K("SCH_CRED_NO_DEFAULT_CREDS") | K("SCH_CRED_MANUAL_CRED_VALIDATION"))
    status = value(adapter, "AcquireCredentialsHandleW", 0, wide(adapter, package), use, 0, auth, 0, 0, handle,
                   adapter.alloc(8))
    assert status == SEC_E_OK
    return handle


def first_leg(adapter: ModelAdapter, credential: int, request: int = REQUEST, target: str = "host.example",
              buffer_size: int = 0) -> tuple[int, int, int, int]:
    """(status, context handle address, token SecBuffer address, pfContextAttr address)."""
    pv = adapter.alloc(buffer_size) if buffer_size else 0
    buffer = struct(adapter, "SecBuffer", cbBuffer=buffer_size, BufferType=K("SECBUFFER_TOKEN"), pvBuffer=pv)
    output = struct(adapter, "SecBufferDesc", ulVersion=K("SECBUFFER_VERSION"), cBuffers=1, pBuffers=buffer)
    context, attributes = adapter.alloc(16), adapter.alloc(4)
    status = value(adapter, "InitializeSecurityContextW", credential, 0, wide(adapter, target), request, 0,
                   K("SECURITY_NATIVE_DREP"), 0, 0, context, output, attributes, adapter.alloc(8))
    return status, context, buffer, attributes


def partial_context(adapter: ModelAdapter, package: str = SCHANNEL) -> int:
    status, context, _, _ = first_leg(adapter, credentials(adapter, package))
    assert status == SEC_I_CONTINUE_NEEDED
    return context


def token_of(adapter: ModelAdapter, buffer: int) -> bytes:
    described = layout("SecBuffer").unpack(adapter.read(buffer, 16))
    return adapter.read(described.pvBuffer, described.cbBuffer)


def handle_image(lower: int, upper: int) -> bytes:
    return layout("SecHandle").pack(dwLower=lower, dwUpper=upper)


# -- the contract ----------------------------------------------------------------------------------
def test_the_model_is_an_adapter_and_ignores_unknown_options():
    adapter = ModelAdapter(colour="blue", verbose="1")
    assert isinstance(adapter, Adapter)
    assert ModelAdapter.availability().usable is True
    info = adapter.info()
    assert (info.name, info.platform, info.architecture, info.kernel_mode) == (
        "model", "specproof model (Python)", "x86_64", True)
    import specproof

    assert info.version == specproof.__version__


# -- memory ----------------------------------------------------------------------------------------
def test_alloc_gives_aligned_blocks_high_up_with_gaps(model):
    first, second = model.alloc(5), model.alloc(40)
    assert first >= HEAP_BASE and first % 16 == 0 and second % 16 == 0
    assert second - first >= 5 + GUARD
    assert model.read(first, 5) == bytes(5)
    model.write(second + 8, b"abc")
    assert model.read(second + 7, 5) == b"\0abc\0"


@pytest.mark.parametrize("address", [0, 8, 0x1000, HEAP_BASE - 16])
def test_null_and_small_addresses_always_fault(model, address):
    with pytest.raises(ModelFault) as fault:
        model.read(address, 4)
    assert (fault.value.code, fault.value.address) == (ACCESS_VIOLATION, address)
    with pytest.raises(ModelFault):
        model.write(address, b"x")


def test_an_access_running_past_its_block_faults_at_the_first_bad_byte(model):
    block = model.alloc(16)
    with pytest.raises(ModelFault) as fault:
        model.read(block + 8, 16)
    assert fault.value.address == block + 16
    with pytest.raises(ModelFault) as fault:
        model.write(block + 16 + 1, b"x")  # the guard gap
    assert fault.value.address == block + 17


def test_freed_memory_faults_and_is_never_handed_out_again(model):
    block = model.alloc(32)
    model.free(block)
    with pytest.raises(ModelFault) as fault:
        model.read(block, 1)
    assert fault.value.address == block
    with pytest.raises(ModelFault):
        model.free(block)
    assert model.alloc(32) != block


def test_free_of_an_address_inside_a_block_faults(model):
    block = model.alloc(32)
    with pytest.raises(ModelFault):
        model.free(block + 16)
    with pytest.raises(ModelFault):
        model.free(0)


def test_unterminated_strings_fault_at_the_end_of_their_block(model):
    address = put(model, "abc".encode("utf-16-le"))
    assert model.memory.read_wstr(wide(model, "Schannel")) == "Schannel"
    with pytest.raises(ModelFault) as fault:
        model.memory.read_wstr(address)
    assert fault.value.address == address + 6


# -- exports and calls ---------------------------------------------------------------------------------
def test_resolve_finds_exports_by_module_case_insensitively(model):
    export = model.resolve("Secur32.dll", "DeleteSecurityContext")
    assert export is not None and export.stub is False
    assert model.resolve("SECUR32.DLL", "DeleteSecurityContext") == export
    assert model.resolve("sspicli.dll", "DeleteSecurityContext") == export
    assert model.resolve("secur32", "DeleteSecurityContext") == export
    assert model.resolve(None, "DeleteSecurityContext") == export
    assert model.resolve("ksecdd.sys", "SspiDeleteSecurityContextAsync") is not None
    assert model.resolve("fwpkclnt.sys", "IPsecSaContextExpire0") == model.resolve("Fwpuclnt.dll",
                                                                                   "IPsecSaContextExpire0")


def test_resolve_returns_none_for_what_is_not_exported(model):
    assert model.resolve("Secur32.dll", "NoSuchFunction") is None
    assert model.resolve(None, "NoSuchFunction") is None
    assert model.resolve("Fwpuclnt.dll", "DeleteSecurityContext") is None
    assert model.resolve("Secur32.dll", "SspiCreateAsyncContext") is None  # kernel only
    assert model.resolve("Secur32.dll", "deletesecuritycontext") is None  # symbols are case-sensitive


def test_export_addresses_are_distinct_and_outside_the_heap(model):
    addresses = [model.resolve(None, f).address for f in model.exports()]
    assert len(set(addresses)) == len(addresses) == len(model.declared_exports())
    assert min(addresses) >= CODE_BASE > model.alloc(1 << 20)


def test_a_call_to_an_address_that_is_no_export_faults_there(model):
    data = model.alloc(16)
    for address in (0, data, CODE_BASE + 1):
        result = model.call(address, [], 1.0)
        assert result.value is None and result.fault == Fault(ACCESS_VIOLATION, address)


def test_missing_arguments_are_zero(model):
    assert call(model, "DeleteSecurityContext").value == SEC_E_INVALID_HANDLE  # phContext = NULL


# -- credentials and the Schannel first leg --------------------------------------------------------
def test_schannel_first_leg_allocates_a_client_hello_token(model):
    credential = credentials(model)
    handle = layout("SecHandle").unpack(model.read(credential, 16))
    lower, upper = handle.dwLower, handle.dwUpper
    assert (lower, upper) != (0, 0)
    status, context, buffer, attributes = first_leg(model, credential)
    assert status == SEC_I_CONTINUE_NEEDED
    assert model.read(context, 16) != bytes(16)
    described = layout("SecBuffer").unpack(model.read(buffer, 16))
    assert described.BufferType == K("SECBUFFER_TOKEN")
    token = token_of(model, buffer)
    assert len(token) >= 100 and described.cbBuffer == len(token)
    assert token[:3] == b"\x16\x03\x01" and token[5] == 0x01  # TLS handshake record, ClientHello
    assert int.from_bytes(token[3:5], "big") == len(token) - 5
    assert b"host.example" in token  # server_name
    assert u32(model, attributes) == (ISC_RET_ALLOCATED_MEMORY | K("ISC_REQ_CONFIDENTIALITY") | K("ISC_REQ_STREAM")
                                      | K("ISC_REQ_MANUAL_CRED_VALIDATION"))
    assert value(model, "FreeContextBuffer", described.pvBuffer) == SEC_E_OK
    assert value(model, "FreeContextBuffer", described.pvBuffer) == SEC_E_INVALID_HANDLE
    with pytest.raises(ModelFault):
        model.read(described.pvBuffer, 1)
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK
    assert value(model, "FreeCredentialsHandle", credential) == SEC_E_OK


def test_first_leg_into_the_callers_buffer(model):
    credential = credentials(model)
    request = REQUEST & ~K("ISC_REQ_ALLOCATE_MEMORY")
    status, _, buffer, _ = first_leg(model, credential, request, buffer_size=16)
    assert status == SEC_E_INSUFFICIENT_MEMORY
    status, _, buffer, attributes = first_leg(model, credential, request, buffer_size=4096)
    assert status == SEC_I_CONTINUE_NEEDED
    token = token_of(model, buffer)
    assert token[:3] == b"\x16\x03\x01" and 100 <= len(token) < 4096
    assert u32(model, attributes) & ISC_RET_ALLOCATED_MEMORY == 0


def test_ntlm_and_negotiate_first_legs(model):
    _, _, buffer, _ = first_leg(model, credentials(model, "NTLM"))
    assert token_of(model, buffer)[:12] == b"NTLMSSP\x00\x01\x00\x00\x00"
    _, _, buffer, _ = first_leg(model, credentials(model, "Negotiate"))
    token = token_of(model, buffer)
    assert token[0] == 0x60 and b"NTLMSSP\x00" in token


def test_first_leg_refusals(model):
    credential = credentials(model)
    assert first_leg(model, credential, REQUEST | 0x1)[0] == SEC_E_UNSUPPORTED_FUNCTION  # ISC_REQ_DELEGATE
    no_token = struct(model, "SecBufferDesc", ulVersion=0, cBuffers=0, pBuffers=0)
    assert value(model, "InitializeSecurityContextW", credential, 0, 0, REQUEST, 0, 0, 0, 0, model.alloc(16),
                 no_token, model.alloc(4), 0) == SEC_E_INVALID_TOKEN
    for bad in (0, put(model, bytes(16)), put(model, handle_image(GARBAGE, GARBAGE))):
        assert first_leg(model, bad)[0] == SEC_E_INVALID_HANDLE
    assert value(model, "FreeCredentialsHandle", credential) == SEC_E_OK
    assert first_leg(model, credential)[0] == SEC_E_INVALID_HANDLE


def test_a_later_leg_with_a_token_the_model_cannot_understand(model):
    credential = credentials(model)
    context = partial_context(model)
    reply = put(model, b"\x16\x03\x03\x00\x04junk")
    buffer = struct(model, "SecBuffer", cbBuffer=9, BufferType=K("SECBUFFER_TOKEN"), pvBuffer=reply)
    inputs = struct(model, "SecBufferDesc", ulVersion=0, cBuffers=1, pBuffers=buffer)
    assert value(model, "InitializeSecurityContextW", credential, context, 0, REQUEST, 0, 0, inputs, 0, 0, 0,
                 model.alloc(4), 0) == SEC_E_INVALID_TOKEN
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK


def test_acquire_credentials_failures(model):
    handle = model.alloc(16)

    def acquire(package: int, use: int = K("SECPKG_CRED_OUTBOUND"), out: int = handle, auth: int = 0) -> int:
        return value(model, "AcquireCredentialsHandleW", 0, package, use, 0, auth, 0, 0, out, 0)

    assert acquire(wide(model, "NoSuchPackage")) == SEC_E_SECPKG_NOT_FOUND
    assert acquire(0) == SEC_E_SECPKG_NOT_FOUND
    assert acquire(wide(model, "schannel"), out=0) == SEC_E_INTERNAL_ERROR
    assert acquire(wide(model, "NTLM"), use=0) == SEC_E_UNKNOWN_CREDENTIALS
    assert acquire(wide(model, "Schannel"), use=K("SECPKG_CRED_INBOUND")) == SEC_E_NO_CREDENTIALS
    assert acquire(wide(model, "Schannel"), auth=put(model, (99).to_bytes(4, "little"))) == SEC_E_UNKNOWN_CREDENTIALS
    assert model.read(handle, 16) == bytes(16)  # nothing written by a failed call
    assert call(model, "AcquireCredentialsHandleW", 0, GARBAGE, 2, 0, 0, 0, 0, handle, 0).fault == Fault(
        ACCESS_VIOLATION, GARBAGE)


def test_free_credentials_handle(model):
    credential = credentials(model)
    assert value(model, "FreeCredentialsHandle", credential) == SEC_E_OK
    assert value(model, "FreeCredentialsHandle", credential) == SEC_E_INVALID_HANDLE
    assert value(model, "FreeCredentialsHandle", 0) == SEC_E_INVALID_HANDLE
    assert value(model, "FreeCredentialsHandle", put(model, bytes(16))) == SEC_E_INVALID_HANDLE


# -- DeleteSecurityContext and QueryContextAttributesW -----------------------------------------------
def test_delete_security_context_live_then_deleted(model):
    context = partial_context(model)
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK  # "already been deleted"


@pytest.mark.parametrize("image", [bytes(16), handle_image(GARBAGE, GARBAGE)], ids=["zeroed", "garbage"])
def test_delete_security_context_rejects_handles_that_are_not_valid(model, image):
    result = call(model, "DeleteSecurityContext", put(model, image))
    assert result.value == SEC_E_INVALID_HANDLE
    assert any("is not a live security context" in line for line in result.diagnostics)


def test_delete_security_context_null_and_bad_pointers(model):
    assert value(model, "DeleteSecurityContext", 0) == SEC_E_INVALID_HANDLE
    result = call(model, "DeleteSecurityContext", GARBAGE)
    assert result.value is None and result.fault == Fault(ACCESS_VIOLATION, GARBAGE)
    freed = model.alloc(16)
    model.free(freed)
    assert call(model, "DeleteSecurityContext", freed).fault == Fault(ACCESS_VIOLATION, freed)


def test_a_credential_handle_is_not_a_context(model):
    assert value(model, "DeleteSecurityContext", credentials(model)) == SEC_E_INVALID_HANDLE


def test_query_context_attributes_sizes_and_after_delete(model):
    context = partial_context(model, "NTLM")
    sizes = model.alloc(16)
    assert value(model, "QueryContextAttributesW", context, K("SECPKG_ATTR_SIZES"), sizes) == SEC_E_OK
    got = layout("SecPkgContext_Sizes").unpack(model.read(sizes, 16))
    assert (got.cbMaxToken, got.cbMaxSignature, got.cbBlockSize, got.cbSecurityTrailer) == (2888, 16, 0, 16)
    assert value(model, "QueryContextAttributesW", context, 1234, sizes) == SEC_E_UNSUPPORTED_FUNCTION
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK
    assert value(model, "QueryContextAttributesW", context, K("SECPKG_ATTR_SIZES"), sizes) == QCA_INVALID_HANDLE
    assert value(model, "QueryContextAttributesW", 0, K("SECPKG_ATTR_SIZES"), sizes) == QCA_INVALID_HANDLE


def test_free_context_buffer_refuses_what_the_model_did_not_allocate(model):
    assert value(model, "FreeContextBuffer", 0) == SEC_E_INVALID_HANDLE
    own = model.alloc(8)
    assert value(model, "FreeContextBuffer", own) == SEC_E_INVALID_HANDLE
    assert model.read(own, 8) == bytes(8)  # still the caller's


# -- kernel-mode async calls ---------------------------------------------------------------------------
def test_async_delete_polled_to_completion(model):
    context = partial_context(model)
    async_context = value(model, "SspiCreateAsyncContext")
    assert async_context >= HEAP_BASE
    assert value(model, "SspiDeleteSecurityContextAsync", async_context, context) == SEC_E_OK
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_I_ASYNC_CALL_PENDING
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_E_OK
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_E_OK
    sizes = model.alloc(16)
    assert value(model, "QueryContextAttributesW", context, 0, sizes) == QCA_INVALID_HANDLE  # deleted
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK  # already deleted
    # One call per context: reuse needs SspiReinitAsyncContext.
    assert value(model, "SspiDeleteSecurityContextAsync", async_context, context) == SEC_E_INVALID_HANDLE
    assert value(model, "SspiReinitAsyncContext", async_context) == 0
    assert value(model, "SspiDeleteSecurityContextAsync", async_context, context) == SEC_E_OK
    assert value(model, "SspiReinitAsyncContext", async_context) == STATUS_DEVICE_BUSY
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_I_ASYNC_CALL_PENDING
    # Unlike DeleteSecurityContext's page, this one does not say a deleted handle gives SEC_E_OK.
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_E_INVALID_HANDLE  # already deleted
    assert value(model, "SspiFreeAsyncContext", async_context) == 0
    with pytest.raises(ModelFault):
        model.read(async_context, 1)


@pytest.mark.parametrize("image", [None, bytes(16), handle_image(GARBAGE, GARBAGE)], ids=["null", "zeroed", "garbage"])
def test_async_delete_of_a_handle_that_is_not_valid(model, image):
    async_context = value(model, "SspiCreateAsyncContext")
    pointer = 0 if image is None else put(model, image)
    assert value(model, "SspiDeleteSecurityContextAsync", async_context, pointer) == SEC_E_OK  # queued
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_I_ASYNC_CALL_PENDING
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_E_INVALID_HANDLE


def test_async_calls_on_a_bad_async_context(model):
    context = partial_context(model)
    for bad in (0, put(model, bytes(16))):
        assert value(model, "SspiDeleteSecurityContextAsync", bad, context) == SEC_E_INVALID_HANDLE
        assert value(model, "SspiGetAsyncCallStatus", bad) == SEC_E_INVALID_HANDLE
        assert value(model, "SspiReinitAsyncContext", bad) == STATUS_INVALID_PARAMETER
        assert value(model, "SspiAsyncContextRequiresNotify", bad) == 0
        assert value(model, "SspiFreeAsyncContext", bad) == 0
    assert value(model, "DeleteSecurityContext", context) == SEC_E_OK  # untouched by the refused calls


def test_freeing_an_async_context_completes_its_queued_call(model):
    context = partial_context(model)
    async_context = value(model, "SspiCreateAsyncContext")
    assert value(model, "SspiDeleteSecurityContextAsync", async_context, context) == SEC_E_OK
    assert value(model, "SspiFreeAsyncContext", async_context) == 0
    assert value(model, "QueryContextAttributesW", context, 0, model.alloc(16)) == QCA_INVALID_HANDLE


def test_async_acquire_writes_the_handle_on_completion_and_shares_the_handle_table(model):
    async_context = value(model, "SspiCreateAsyncContext")
    callback = CODE_BASE - 0x1000
    assert value(model, "SspiSetAsyncNotifyCallback", async_context, callback, 0) == SEC_E_OK
    assert value(model, "SspiAsyncContextRequiresNotify", async_context) == 1
    handle = model.alloc(16)
    assert value(model, "SspiAcquireCredentialsHandleAsyncW", async_context, 0, unicode_string(model, "Schannel"),
                 K("SECPKG_CRED_OUTBOUND"), 0, 0, 0, 0, handle, 0) == SEC_E_OK
    assert model.read(handle, 16) == bytes(16)
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_I_ASYNC_CALL_PENDING
    assert value(model, "SspiGetAsyncCallStatus", async_context) == SEC_E_OK
    assert model.read(handle, 16) != bytes(16)
    assert first_leg(model, handle)[0] == SEC_I_CONTINUE_NEEDED  # the user-mode function knows the handle
    assert value(model, "SspiReinitAsyncContext", async_context) == 0
    assert value(model, "SspiAsyncContextRequiresNotify", async_context) == 1  # the callback stays
    assert value(model, "SspiFreeCredentialsHandleAsync", async_context, handle) == SEC_E_OK
    assert [value(model, "SspiGetAsyncCallStatus", async_context) for _ in range(2)] == [
        SEC_I_ASYNC_CALL_PENDING, SEC_E_OK]
    assert value(model, "FreeCredentialsHandle", handle) == SEC_E_INVALID_HANDLE


def test_async_acquire_of_an_unknown_package_fails_on_completion(model):
    async_context = value(model, "SspiCreateAsyncContext")
    assert value(model, "SspiAcquireCredentialsHandleAsyncW", async_context, 0, unicode_string(model, "Nope"),
                 K("SECPKG_CRED_OUTBOUND"), 0, 0, 0, 0, model.alloc(16), 0) == SEC_E_OK
    assert [value(model, "SspiGetAsyncCallStatus", async_context) for _ in range(2)] == [
        SEC_I_ASYNC_CALL_PENDING, SEC_E_SECPKG_NOT_FOUND]
    assert value(model, "SspiAcquireCredentialsHandleAsyncW", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) == SEC_E_INTERNAL_ERROR


# -- Windows Filtering Platform ------------------------------------------------------------------------
def open_engine(adapter: ModelAdapter, session: int = 0, module: str | None = None) -> tuple[int, int]:
    out = adapter.alloc(8)
    status = value(adapter, "FwpmEngineOpen0", 0, K("RPC_C_AUTHN_DEFAULT"), 0, session, out, module=module)
    return status, u64(adapter, out)


def create_sa_context(adapter: ModelAdapter, engine: int) -> tuple[int, int, int]:
    traffic = struct(adapter, "IPSEC_TRAFFIC0", ipVersion=K("FWP_IP_VERSION_V4"),
                     trafficType=K("IPSEC_TRAFFIC_TYPE_TRANSPORT"))
    inbound, out_id = put(adapter, b"\xff" * 8), adapter.alloc(8)
    status = value(adapter, "IPsecSaContextCreate0", engine, traffic, inbound, out_id)
    return status, u64(adapter, out_id), u64(adapter, inbound)


def test_wfp_engine_and_sa_context_lifecycle(model):
    status, engine = open_engine(model)
    assert status == 0 and engine not in (0, GARBAGE)
    status, sa_id, inbound = create_sa_context(model, engine)
    assert status == 0 and sa_id != 0 and inbound == 0
    assert value(model, "IPsecSaContextExpire0", engine, sa_id) == 0
    assert value(model, "IPsecSaContextExpire0", engine, sa_id + 1000) == FWP_E_NOT_FOUND
    out = model.alloc(8)
    assert value(model, "IPsecSaContextGetById1", engine, sa_id, out) == 0
    got = u64(model, out)
    assert u64(model, got) == sa_id and model.read(got + 8, 16) == bytes(16)
    assert value(model, "FwpmFreeMemory0", out) == 0
    assert u64(model, out) == 0
    with pytest.raises(ModelFault):
        model.read(got, 8)
    assert value(model, "IPsecSaContextGetById1", engine, 424242, out) == FWP_E_NOT_FOUND
    assert value(model, "IPsecSaContextDeleteById0", engine, sa_id) == 0
    assert value(model, "IPsecSaContextDeleteById0", engine, sa_id) == FWP_E_NOT_FOUND
    assert value(model, "IPsecSaContextExpire0", engine, sa_id) == FWP_E_NOT_FOUND
    assert value(model, "FwpmEngineClose0", engine) == 0
    assert value(model, "FwpmEngineClose0", engine) == RPC_E_DISCONNECTED


def test_wfp_calls_on_a_session_that_is_not_open(model):
    _, engine = open_engine(model)
    _, sa_id, _ = create_sa_context(model, engine)
    assert value(model, "FwpmEngineClose0", engine) == 0
    for handle in (engine, 0, GARBAGE):
        assert value(model, "IPsecSaContextExpire0", handle, sa_id) == RPC_E_DISCONNECTED
        assert value(model, "IPsecSaContextDeleteById0", handle, sa_id) == RPC_E_DISCONNECTED
        assert value(model, "FwpmEngineClose0", handle) == RPC_E_DISCONNECTED
    _, other = open_engine(model)
    assert other != engine
    assert value(model, "IPsecSaContextExpire0", other, sa_id) == 0  # SA contexts outlive the session


def test_wfp_kernel_twin_shares_the_engine(model):
    status, engine = open_engine(model, module="fwpkclnt.sys")
    assert status == 0
    _, sa_id, _ = create_sa_context(model, engine)
    assert value(model, "IPsecSaContextExpire0", engine, sa_id, module="fwpkclnt.sys") == 0
    assert value(model, "IPsecSaContextExpire0", engine, sa_id, module="Fwpuclnt.dll") == 0


def test_wfp_open_failures(model):
    out = model.alloc(8)
    assert value(model, "FwpmEngineOpen0", wide(model, "server"), 10, 0, 0, out) == FWP_E_INVALID_PARAMETER
    assert value(model, "FwpmEngineOpen0", 0, 0, 0, 0, out) == FWP_E_INVALID_PARAMETER
    assert value(model, "FwpmEngineOpen0", 0, 10, 0, 0, 0) == FWP_E_NULL_POINTER
    assert u64(model, out) == 0
    session = {"sessionKey": b"\x07" + bytes(15)}
    assert open_engine(model, struct(model, "FWPM_SESSION0", **session))[0] == 0
    assert open_engine(model, struct(model, "FWPM_SESSION0", **session))[0] == FWP_E_ALREADY_EXISTS


def test_wfp_dynamic_sessions_cannot_create_sa_contexts(model):
    status, engine = open_engine(model, struct(model, "FWPM_SESSION0", flags=0x1))
    assert status == 0
    assert create_sa_context(model, engine)[0] == FWP_E_DYNAMIC_SESSION_IN_PROGRESS
    assert value(model, "IPsecSaContextCreate0", engine, 0, 0, model.alloc(8)) == FWP_E_NULL_POINTER


# -- variants, timeouts and diagnostics -------------------------------------------------------------
class Hangs(ModelAdapter):
    def DeleteSecurityContext(self, phContext: int) -> int:
        self.wait(INFINITE)
        return 0


class Faults(ModelAdapter):
    def DeleteSecurityContext(self, phContext: int) -> int:
        return self.memory.read_u64(self.memory.read_u64(phContext))  # follows dwLower as a pointer


class Lies(ModelAdapter):
    def DeleteSecurityContext(self, phContext: int) -> int:
        return 0 if phContext else 0xC0000001  # SEC_E_OK for any handle; an undocumented code for NULL


class Lacks(ModelAdapter):
    missing = {"DeleteSecurityContext", "fwpkclnt.sys!IPsecSaContextExpire0"}
    stubs = {"QueryContextAttributesW"}


def test_a_variant_that_hangs_times_out_within_the_timeout():
    adapter = Hangs()
    started = time.monotonic()
    result = call(adapter, "DeleteSecurityContext", 0, timeout=0.2)
    elapsed = time.monotonic() - started
    assert result.timed_out is True and result.value is None and result.fault is None
    assert 0.2 <= elapsed < 1.0
    assert value(adapter, "FreeCredentialsHandle", 0) == SEC_E_INVALID_HANDLE  # the next call runs normally


def test_a_short_wait_inside_the_deadline_returns():
    class Waits(ModelAdapter):
        def DeleteSecurityContext(self, phContext: int) -> int:
            self.wait(10)
            return 0

    assert call(Waits(), "DeleteSecurityContext", 0, timeout=1.0).value == 0


def test_a_variant_that_faults_on_a_garbage_handle():
    adapter = Faults()
    result = call(adapter, "DeleteSecurityContext", put(adapter, handle_image(GARBAGE, GARBAGE)))
    assert result.fault == Fault(ACCESS_VIOLATION, GARBAGE) and result.value is None
    assert any("0xDEADBEEFBAADF00D" in line for line in result.diagnostics)


def test_a_variant_that_lies_and_one_that_returns_an_undocumented_code():
    adapter = Lies()
    assert value(adapter, "DeleteSecurityContext", put(adapter, handle_image(GARBAGE, GARBAGE))) == SEC_E_OK
    assert value(adapter, "DeleteSecurityContext", 0) == 0xC0000001


def test_a_variant_lacking_exports():
    adapter, full = Lacks(), ModelAdapter()
    assert adapter.resolve("Secur32.dll", "DeleteSecurityContext") is None
    assert adapter.resolve(None, "DeleteSecurityContext") is None
    old = full.resolve(None, "DeleteSecurityContext").address
    assert adapter.call(old, [0], 1.0).fault == Fault(ACCESS_VIOLATION, old)
    assert adapter.resolve("fwpkclnt.sys", "IPsecSaContextExpire0") is None
    assert adapter.resolve("Fwpuclnt.dll", "IPsecSaContextExpire0") is not None
    stub = adapter.resolve(None, "QueryContextAttributesW")
    assert stub is not None and stub.stub is True
    assert adapter.call(stub.address, [], 1.0).fault == Fault(UNIMPLEMENTED_STUB, stub.address)
    assert "variant" in adapter.info().details


def test_close_forgets_everything(model):
    context = partial_context(model)
    model.close()
    with pytest.raises(ModelFault):
        model.read(context, 16)
    assert value(model, "DeleteSecurityContext", put(model, bytes(16))) == SEC_E_INVALID_HANDLE
