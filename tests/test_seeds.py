"""The three seed pages, one per format, read into the specs the later stages need."""

from __future__ import annotations

import pytest

from conftest import SEEDS, need_shared
from specproof.readers import read_page
from specproof.readers.spec_builder import build_spec


def seed(name: str, sdk):
    need_shared()
    path = SEEDS / name
    return build_spec(read_page(path.read_bytes(), f"seeds/{name}"), sdk)


def by_key(spec):
    return {(c.name or c.family or c.label, c.phase): c for c in spec.returns.codes}


def test_seed_000_wdk_ddi_ipsec_sa_context_expire(sdk):
    spec = seed("000_8e5e2b8ae35af5a7.txt", sdk)
    assert (spec.api, spec.header, spec.library, spec.mode) == ("IPsecSaContextExpire0", "fwpmk.h", "fwpkclnt.lib",
                                                                "kernel")
    assert spec.source.format == "wdk-ddi" and spec.requirements.irql == "<= PASSIVE_LEVEL"
    assert [(p.name, p.direction) for p in spec.signature.params] == [("engineHandle", "in"), ("id", "in")]
    codes = by_key(spec)
    ok = codes[("ERROR_SUCCESS", "call")]
    assert ok.value == 0 and ok.success
    assert codes[("FWP_E_*", "call")].range == (0x80320001, 0x80320039)
    assert codes[("RPC_*", "call")].range == (0x80010001, 0x80010122)
    assert codes[("NTSTATUS", "call")].open
    assert len(codes) == 4
    remarks = [c for c in spec.clauses if c.section == "remarks"]
    assert [c.text for c in remarks][:2] == [
        "When an SA context is expired, the corresponding outbound SA gets deleted immediately, whereas the "
        "inbound SA deletion is postponed for a minute.",
        "This allows the processing of any inbound IPsec protected traffic that may still be on the wire."]
    assert len(remarks) == 6
    assert next(c for c in remarks if c.text.startswith("The caller needs DELETE")).kind == "obligation"


def test_seed_001_learn_text_sspi_delete_security_context_async(sdk):
    spec = seed("001_8dd8282e63fb9a14.txt", sdk)
    assert spec.source.format == "learn-text"
    assert (spec.api, spec.header, spec.mode) == ("SspiDeleteSecurityContextAsync", "sspi.h", "kernel")
    assert "kernel-mode drivers only" in spec.mode_reason
    assert spec.signature.returns == "SECURITY_STATUS" and spec.signature.types_from == "page"
    assert [(p.name, p.type) for p in spec.signature.params] == [
        ("AsyncContext", "SspiAsyncContext*"), ("phContext", "PCtxtHandle")]
    assert spec.signature.params[1].doc == "Handle of the security context to delete."
    codes = by_key(spec)
    assert codes[("SEC_E_OK", "call")].origin == "prose" and codes[("SEC_E_OK", "call")].success
    pending = codes[("SEC_I_ASYNC_CALL_PENDING", "completion")]
    assert pending.origin == "prose" and pending.reported_by == "SspiGetAsyncCallStatus" and pending.value == 0x00090368
    invalid = codes[("SEC_E_INVALID_HANDLE", "completion")]
    assert invalid.origin == "table" and invalid.value == 0x80090301
    assert any("no longer valid" in c.text for c in spec.clauses if c.section == "remarks")


def test_seed_002_sdk_api_delete_security_context(sdk):
    spec = seed("002_aa38bc7e6d5110ab.txt", sdk)
    assert spec.source.format == "sdk-api" and spec.source.date == "2018-11-09"
    assert (spec.dll, spec.library, spec.include_header, spec.mode) == ("Secur32.dll", "Secur32.lib", "Security.h",
                                                                        "user")
    assert [(p.name, p.direction, p.type) for p in spec.signature.params] == [("phContext", "in", "PCtxtHandle")]
    assert spec.signature.returns == "SECURITY_STATUS" and spec.signature.types_from == "sdk-headers"
    codes = by_key(spec)
    assert codes[("SEC_E_OK", "call")].value == 0 and codes[("SEC_E_OK", "call")].success
    assert codes[("SEC_E_INVALID_HANDLE", "call")].value == 0x80090301
    assert not codes[("SEC_E_INVALID_HANDLE", "call")].success
    deleted = [c for c in spec.clauses if "already been deleted" in c.text]
    assert len(deleted) == 1 and deleted[0].kind == "normative" and deleted[0].id == codes[("SEC_E_OK", "call")].clause


@pytest.mark.parametrize("name", ["000_8e5e2b8ae35af5a7.txt", "001_8dd8282e63fb9a14.txt", "002_aa38bc7e6d5110ab.txt"])
def test_clause_digests_are_stable_and_ids_unique(sdk, name):
    first, second = seed(name, sdk), seed(name, sdk)
    assert first == second
    assert len({c.id for c in first.clauses}) == len(first.clauses)
