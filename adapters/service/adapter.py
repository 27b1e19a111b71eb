"""`--adapter service --url tcp://HOST:PORT [--token-file F] [--tls-ca F]`: an endpoint over TCP.

The endpoint is `specproof agent serve` in front of any adapter, or a third
party's service written in any language (adapters/PROTOCOL.md). The token,
when there is one, proves the client at `hello` without travelling; TLS
(`--tls-ca`, the CA file that signed the agent's certificate) keeps the
traffic private.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from specproof.adapter.contract import Availability
from specproof.protocol.auth import read_token
from specproof.protocol.channels import SocketChannel, parse_url
from specproof.protocol.client import Endpoint
from specproof.protocol.remote import RemoteAdapter

URL_ENV = "SPECPROOF_SERVICE_URL"


class ServiceAdapter(RemoteAdapter):
    """Any endpoint that speaks the wire protocol over TCP."""

    name: ClassVar[str] = "service"
    #: It needs --url: `specproof run` never picks it by default.
    needs_endpoint: ClassVar[bool] = True

    def __init__(self, url: str | None = None, token_file: str | None = None, tls_ca: str | None = None,
                 retry: str = "30", **options: str) -> None:
        url = url or os.environ.get(URL_ENV)
        if not url:
            raise RuntimeError(f"the service adapter needs the endpoint: --url tcp://HOST:PORT (or ${URL_ENV})")
        try:
            host, port = parse_url(url)
        except ValueError as error:
            raise RuntimeError(f"--url: {error}") from None
        token = read_token(Path(token_file)) if token_file else None
        tls: bool | str = tls_ca or False

        def connect() -> Endpoint:
            endpoint = Endpoint(SocketChannel(host, port, tls=tls))
            endpoint.hello(token)
            return endpoint

        super().__init__(connect, retry=float(retry), transport="tcp" + ("+tls" if tls else ""))
        self.url = url

    @staticmethod
    def availability() -> Availability:
        return Availability(True, "usable with --url tcp://HOST:PORT (an agent: `specproof agent serve`)")
