"""Who may call: the token an agent and its clients share, and the challenge that proves it.

An endpoint that calls arbitrary addresses with arbitrary memory is remote
code execution by design, so a networked one asks for proof. The token never
travels: at `hello` the agent sends a fresh random nonce, the client answers
with HMAC-SHA256(token, nonce + context), and the agent compares that with its
own in constant time. A token file others can read is refused, like SSH's
private keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

#: Bound into every answer, so an HMAC made for another purpose with the same token proves nothing here.
CONTEXT = b"specproof-wire/1 hello"
NONCE_BYTES = 32
MIN_TOKEN_BYTES = 16


class TokenError(ValueError):
    """A token file that cannot be used; the message names the file and what to do."""


def read_token(path: Path) -> bytes:
    """The token in `path` (surrounding whitespace dropped): at least 16 bytes, in a file only its owner
    can read or write."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes().strip()
    except OSError as error:
        raise TokenError(f"{path}: cannot read the token file ({error.strerror or error})") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(f"{path}: the token file can be read or written by others (mode {stat.S_IMODE(mode):o}); "
                         f"run `chmod 600 {path}`")
    if len(data) < MIN_TOKEN_BYTES:
        raise TokenError(f"{path}: the token is {len(data)} bytes; use at least {MIN_TOKEN_BYTES} "
                         "(e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`)")
    return data


def new_token_file(path: Path) -> bytes:
    """Write a fresh random token to `path`, readable by its owner only."""
    token = secrets.token_hex(32).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(token + b"\n")
    os.chmod(path, 0o600)
    return token


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def response(token: bytes, nonce: str) -> str:
    """The client's answer to the challenge `nonce`."""
    return hmac.new(token, bytes.fromhex(nonce) + CONTEXT, hashlib.sha256).hexdigest()


def verify(token: bytes, nonce: str, answer: str) -> bool:
    """Whether `answer` is the response to `nonce` under `token`, compared in constant time."""
    return hmac.compare_digest(response(token, nonce), answer.strip().lower())
