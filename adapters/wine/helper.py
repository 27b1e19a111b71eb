"""The Wine helper: helper.c run under Wine as a child process, spoken to through the wire protocol.

The protocol (its lines, the client and its errors) is the kit's own, in
`specproof.protocol`; this module only starts the helper. The helper's
stdout and stderr are one pipe, so what Wine prints (`fixme:`, `err:`,
"Call from ... to unimplemented function") while a command runs arrives
before that command's answer, as its diagnostics; one pipe also means one
read per round trip.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from specproof.protocol.channels import ProcessChannel
from specproof.protocol.client import Endpoint
from specproof.protocol.wire import COMMAND_TIMEOUT


class HelperInfo(NamedTuple):
    """What the helper's `hello` reports about the Wine it runs in."""

    #: Wine's own version (`wine_get_version`), e.g. "8.0"; "unknown" when ntdll does not say.
    wine: str
    #: The Windows version Wine presents (`RtlGetVersion`): major.minor.build, e.g. "10.0.19045".
    windows: str
    #: The helper's architecture, e.g. "x86_64".
    architecture: str


class Helper(Endpoint):
    """One running helper under Wine, spoken to over its pipes."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        super().__init__(ProcessChannel(argv, env, cwd, where="the Wine helper"))

    @property
    def process(self):
        return self.channel.process

    def wine_info(self, timeout: float | None = COMMAND_TIMEOUT) -> HelperInfo:
        """The Wine and Windows versions the helper runs under, and its architecture (from `hello`)."""
        fields = self.hello(timeout=timeout).fields
        return HelperInfo(fields.get("version", "unknown"), fields.get("windows", "unknown"),
                          fields.get("arch", "unknown"))
