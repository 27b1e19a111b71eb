"""The first-leg tokens a client security package sends, shaped like the real ones.

The model has no server to talk to, so nothing checks these bytes but a
reader: they only need to look like what each package's first
InitializeSecurityContext leg produces (a TLS ClientHello record for
Schannel, an NTLM NEGOTIATE_MESSAGE, a SPNEGO NegTokenInit offering NTLM
for Negotiate), so that a test or a person looking at a token sees the
right kind of thing. The "random" bytes come from a counter, so runs are
reproducible.
"""

from __future__ import annotations

import hashlib
import struct

#: TLS 1.2 cipher suites a Windows client offers first (ECDHE with AES-GCM and AES-CBC).
_CIPHER_SUITES = (0xC02C, 0xC02B, 0xC030, 0xC02F, 0xC024, 0xC023, 0xC028, 0xC027)
#: NTLMSSP_NEGOTIATE flags of a Windows client's NEGOTIATE_MESSAGE (Unicode, NTLM, sign, seal,
#: always sign, extended session security, 128-bit, key exchange, 56-bit, version).
_NTLM_NEGOTIATE_FLAGS = 0xE2088297
#: OIDs, DER-encoded without tag and length.
_OID_SPNEGO = bytes.fromhex("2b0601050502")          # 1.3.6.1.5.5.2
_OID_NTLMSSP = bytes.fromhex("2b06010401823702020a")  # 1.3.6.1.4.1.311.2.2.10


def pseudo_random(seed: str, size: int) -> bytes:
    """`size` reproducible bytes derived from `seed`."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack(">HH", kind, len(body)) + body


def tls_client_hello(target: str | None, seed: str) -> bytes:
    """A TLS record holding a TLS 1.2 ClientHello, with SNI for `target` when it is a host name."""
    extensions = b""
    host = (target or "").strip()
    if host and not host.replace(".", "").isdigit():
        name = host.encode("idna") if host.isascii() else host.encode("utf-8")
        entry = b"\x00" + struct.pack(">H", len(name)) + name
        extensions += _extension(0x0000, struct.pack(">H", len(entry)) + entry)            # server_name
    groups = (0x001D, 0x0017, 0x0018)                                                     # x25519, P-256, P-384
    extensions += _extension(0x000A, struct.pack(">H", 2 * len(groups)) + struct.pack(f">{len(groups)}H", *groups))
    extensions += _extension(0x000B, b"\x01\x00")                                          # ec_point_formats
    algorithms = (0x0804, 0x0805, 0x0401, 0x0501)                                          # rsa_pss, rsa_pkcs1
    extensions += _extension(0x000D, struct.pack(">H", 2 * len(algorithms))
                             + struct.pack(f">{len(algorithms)}H", *algorithms))
    extensions += _extension(0x0017, b"")                                                  # extended_master_secret
    extensions += _extension(0xFF01, b"\x00")                                              # renegotiation_info
    suites = struct.pack(">H", 2 * len(_CIPHER_SUITES)) + struct.pack(f">{len(_CIPHER_SUITES)}H", *_CIPHER_SUITES)
    body = (b"\x03\x03" + pseudo_random(seed, 32) + b"\x00" + suites + b"\x01\x00"
            + struct.pack(">H", len(extensions)) + extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


def ntlm_negotiate() -> bytes:
    """An NTLM NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1): no domain or workstation, version 10.0."""
    empty_field = struct.pack("<HHI", 0, 0, 0)
    version = struct.pack("<BBHBBBB", 10, 0, 19041, 0, 0, 0, 15)  # major, minor, build, reserved, NTLM revision 15
    return b"NTLMSSP\x00" + struct.pack("<II", 1, _NTLM_NEGOTIATE_FLAGS) + empty_field + empty_field + version


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        length = bytes([size])
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def spnego_init(inner: bytes) -> bytes:
    """A GSS-API InitialContextToken with a SPNEGO NegTokenInit offering NTLM and carrying `inner`."""
    mech_types = _der(0xA0, _der(0x30, _der(0x06, _OID_NTLMSSP)))
    mech_token = _der(0xA2, _der(0x04, inner))
    neg_token_init = _der(0xA0, _der(0x30, mech_types + mech_token))
    return _der(0x60, _der(0x06, _OID_SPNEGO) + neg_token_init)
