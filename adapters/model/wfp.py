"""Windows Filtering Platform: filter engine sessions and IPsec SA contexts, as their pages describe them.

Fwpuclnt.dll and its kernel twin fwpkclnt.sys export the same functions
and share one engine here. The pages document three families of failure:
FWP_E_* (0x80320001-0x80320039), RPC_* (0x80010001-0x80010122, "failure
to communicate with the remote or local firewall engine") and, for the
kernel pages, any NTSTATUS. The model picks, for each failure, the named
code in those ranges whose meaning fits:
- a session handle that is not open (never opened, closed, NULL, garbage):
  RPC_E_DISCONNECTED, "the object invoked has disconnected from its
  clients": the caller cannot reach the engine through that handle;
- a required pointer given as NULL: FWP_E_NULL_POINTER;
- an SA context id the engine does not know: FWP_E_NOT_FOUND;
- an argument the page restricts (serverName "must be NULL", the allowed
  authentication services): FWP_E_INVALID_PARAMETER.
The model checks no access rights: every caller has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from specproof.adapter.structs import layout

from . import status as S
from .core import ModelCore, export
from .memory import ModelFault

WFP_MODULES = ("Fwpuclnt.dll", "fwpkclnt.sys")

RPC_C_AUTHN_WINNT = 10
RPC_C_AUTHN_DEFAULT = 0xFFFFFFFF
FWPM_SESSION_FLAG_DYNAMIC = 0x1
FWP_IP_VERSIONS = (0, 1)  # FWP_IP_VERSION_V4, FWP_IP_VERSION_V6
IPSEC_TRAFFIC_TYPES = (0, 1)  # IPSEC_TRAFFIC_TYPE_TRANSPORT, IPSEC_TRAFFIC_TYPE_TUNNEL
#: SEC_WINNT_AUTH_IDENTITY_W on x64: three (pointer, length) pairs and Flags.
AUTH_IDENTITY_SIZE = 48
#: IPSEC_SA_CONTEXT1 on x64: saContextId, inboundSa, outboundSa.
IPSEC_SA_CONTEXT1_SIZE = 24


@dataclass
class Engine:
    handle: int
    session_key: bytes
    dynamic: bool
    open: bool = True


@dataclass
class SaContext:
    id: int
    traffic: bytes
    expired: bool = False


@dataclass
class WfpState:
    engines: dict[int, Engine] = field(default_factory=dict)
    sa_contexts: dict[int, SaContext] = field(default_factory=dict)
    last_handle: int = 0x10000
    last_id: int = 0

    def new_handle(self) -> int:
        """Session handles are never reused, so a closed one stays closed."""
        self.last_handle += 4
        return self.last_handle

    def new_id(self) -> int:
        self.last_id += 1
        return self.last_id


class WfpFunctions(ModelCore):
    """The WFP exports; methods are named exactly like the functions they model."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.wfp = WfpState()

    def open_engine(self, handle: int) -> Engine | None:
        """The open session behind `handle`, or None (diagnosed)."""
        engine = self.wfp.engines.get(handle)
        if engine is not None and engine.open:
            return engine
        if engine is not None:
            self.diag(f"engine handle 0x{handle:X} was closed")
        else:
            self.diag(f"engine handle 0x{handle:X} is not an open session")
        return None

    def _sa_context(self, id: int) -> SaContext | None:
        context = self.wfp.sa_contexts.get(id)
        if context is None:
            self.diag(f"no IPsec SA context with id {id}")
        return context

    # -- sessions ---------------------------------------------------------------------------
    @export(*WFP_MODULES)
    def FwpmEngineOpen0(self, serverName: int, authnService: int, authIdentity: int, session: int,
                        engineHandle: int) -> int:
        authnService &= 0xFFFFFFFF
        if engineHandle == 0:
            self.diag("engineHandle is NULL")
            return S.FWP_E_NULL_POINTER
        if serverName != 0:
            self.diag("serverName must be NULL (the model has no remote engine)")
            return S.FWP_E_INVALID_PARAMETER
        if authnService not in (RPC_C_AUTHN_WINNT, RPC_C_AUTHN_DEFAULT):
            self.diag(f"authnService {authnService:#x} is neither RPC_C_AUTHN_WINNT nor RPC_C_AUTHN_DEFAULT")
            return S.FWP_E_INVALID_PARAMETER
        if authIdentity:
            self.memory.read(authIdentity, AUTH_IDENTITY_SIZE)  # read, as the RPC client would; not checked
        key, dynamic = bytes(16), False
        if session:
            fields = self.read_record(session, "FWPM_SESSION0")
            key = self.memory.read(session + layout("FWPM_SESSION0").offset("sessionKey"), 16)
            dynamic = bool(fields.flags & FWPM_SESSION_FLAG_DYNAMIC)
        if any(key) and any(e.open and e.session_key == key for e in self.wfp.engines.values()):
            self.diag("a session with this sessionKey is already open")
            return S.FWP_E_ALREADY_EXISTS
        handle = self.wfp.new_handle()
        self.memory.write_u64(engineHandle, handle)
        self.wfp.engines[handle] = Engine(handle, key, dynamic)
        return S.ERROR_SUCCESS

    @export(*WFP_MODULES)
    def FwpmEngineClose0(self, engineHandle: int) -> int:
        engine = self.open_engine(engineHandle)
        if engine is None:
            return S.RPC_E_DISCONNECTED
        engine.open = False
        return S.ERROR_SUCCESS

    # -- IPsec SA contexts --------------------------------------------------------------------
    @export(*WFP_MODULES)
    def IPsecSaContextCreate0(self, engineHandle: int, outboundTraffic: int, inboundFilterId: int, id: int) -> int:
        """A new SA context; the model caches no inbound filter, so *inboundFilterId is 0 (as the page allows)."""
        engine = self.open_engine(engineHandle)
        if engine is None:
            return S.RPC_E_DISCONNECTED
        if outboundTraffic == 0 or id == 0:
            self.diag(f"{'outboundTraffic' if outboundTraffic == 0 else 'id'} is NULL")
            return S.FWP_E_NULL_POINTER
        if engine.dynamic:
            self.diag("the session is dynamic (FWPM_SESSION_FLAG_DYNAMIC)")
            return S.FWP_E_DYNAMIC_SESSION_IN_PROGRESS
        image = self.memory.read(outboundTraffic, layout("IPSEC_TRAFFIC0").size)
        traffic = layout("IPSEC_TRAFFIC0").unpack(image)
        if traffic.ipVersion not in FWP_IP_VERSIONS or traffic.trafficType not in IPSEC_TRAFFIC_TYPES:
            self.diag(f"ipVersion {traffic.ipVersion} or trafficType {traffic.trafficType} is not a valid value")
            return S.FWP_E_INVALID_ENUMERATOR
        new_id = self.wfp.new_id()
        self.memory.write_u64(id, new_id)
        if inboundFilterId:
            self.memory.write_u64(inboundFilterId, 0)
        self.wfp.sa_contexts[new_id] = SaContext(new_id, image)
        return S.ERROR_SUCCESS

    @export(*WFP_MODULES)
    def IPsecSaContextExpire0(self, engineHandle: int, id: int) -> int:
        """Marks the context expired; the model holds no SAs, so nothing else changes. Expiring twice is fine."""
        if self.open_engine(engineHandle) is None:
            return S.RPC_E_DISCONNECTED
        context = self._sa_context(id)
        if context is None:
            return S.FWP_E_NOT_FOUND
        context.expired = True
        return S.ERROR_SUCCESS

    @export(*WFP_MODULES)
    def IPsecSaContextGetById1(self, engineHandle: int, id: int, saContext: int) -> int:
        """A model-allocated IPSEC_SA_CONTEXT1 (no inbound or outbound SA), freed with FwpmFreeMemory0."""
        if self.open_engine(engineHandle) is None:
            return S.RPC_E_DISCONNECTED
        if saContext == 0:
            self.diag("saContext is NULL")
            return S.FWP_E_NULL_POINTER
        context = self._sa_context(id)
        if context is None:
            return S.FWP_E_NOT_FOUND
        block = self.give_buffer(context.id.to_bytes(8, "little") + bytes(IPSEC_SA_CONTEXT1_SIZE - 8))
        try:
            self.memory.write_u64(saContext, block)
        except ModelFault:
            self.take_buffer(block)
            raise
        return S.ERROR_SUCCESS

    @export(*WFP_MODULES)
    def IPsecSaContextDeleteById0(self, engineHandle: int, id: int) -> int:
        engine = self.open_engine(engineHandle)
        if engine is None:
            return S.RPC_E_DISCONNECTED
        if engine.dynamic:
            self.diag("the session is dynamic (FWPM_SESSION_FLAG_DYNAMIC)")
            return S.FWP_E_DYNAMIC_SESSION_IN_PROGRESS
        if self._sa_context(id) is None:
            return S.FWP_E_NOT_FOUND
        del self.wfp.sa_contexts[id]
        return S.ERROR_SUCCESS

    @export(*WFP_MODULES)
    def FwpmFreeMemory0(self, p: int) -> int:
        """Frees *p if the model allocated it for the caller, then sets *p to NULL (void: returns nothing)."""
        if p == 0:
            return 0
        pointer = self.memory.read_u64(p)
        if pointer == 0:
            return 0
        if self.take_buffer(pointer):
            self.memory.write_u64(p, 0)
        else:
            self.diag(f"0x{pointer:X} is not memory the model allocated for the caller")
        return 0
