"""The command line of the wire protocol: `specproof agent serve` and `specproof protocol-check`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from .auth import TokenError, read_token


@click.group()
def agent() -> None:
    """Serve an installed adapter over the wire protocol (adapters/PROTOCOL.md)."""


@agent.command()
@click.option("--adapter", "adapter_name", required=True, metavar="NAME",
              help="The adapter to serve: an installed adapter's name or package.module:Class.")
@click.option("--listen", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT",
              help="Where to listen (port 0: any free one). Other than loopback needs --token-file and TLS.")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A token clients must prove they hold (a file only you can read).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--specs", "specs_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("specs"), show_default=True, help="The served spec set: only its functions resolve.")
@click.option("--max-clients", type=int, default=None, help="Clients at once (default 8).")
@click.option("--max-memory", type=int, default=None, help="Bytes one client may hold allocated (default 64 MiB).")
@click.option("--idle-timeout", type=float, default=None, help="Seconds a silent client keeps its adapter (600).")
def serve(adapter_name: str, listen: str, token_file: Path | None, tls_cert: Path | None, tls_key: Path | None,
          specs_root: Path, max_clients: int | None, max_memory: int | None, idle_timeout: float | None) -> None:
    """Serve ADAPTER: each client gets its own instance, released when it disconnects or idles out."""
    from ..adapter import registry
    from ..adapter.specindex import SpecIndex
    from .agent import MAX_CLIENTS, MAX_MEMORY, IDLE_TIMEOUT, Agent, AgentConfig, AgentRefused

    console = Console(stderr=True)
    host, _, port = listen.rpartition(":")
    try:
        token = read_token(token_file) if token_file else None
        registry.factory(adapter_name)  # unknown names fail now, not at the first client
        index = SpecIndex(specs_root)
        served = {name: index.modules(name) for name in index.names()}
        if not served:
            raise AgentRefused(f"{specs_root} holds no specs: nothing could be resolved")
        config = AgentConfig(make_adapter=lambda: registry.create(adapter_name), adapter_name=adapter_name,
                             served=served, host=host.strip("[]") or "127.0.0.1", port=int(port), token=token,
                             tls_cert=tls_cert, tls_key=tls_key, max_clients=max_clients or MAX_CLIENTS,
                             max_memory=max_memory or MAX_MEMORY, idle_timeout=idle_timeout or IDLE_TIMEOUT)
        server = Agent(config)
    except (TokenError, AgentRefused, registry.AdapterNotFound, ValueError) as error:
        console.print(f"[red]agent:[/] {escape(str(error))}")
        sys.exit(2)
    console.print(f"agent: serving {escape(adapter_name)} ({len(served)} functions) on {server.url}"
                  f"{' with TLS' if tls_cert else ''}{' and a token' if token else ''}", highlight=False)
    print(server.url, flush=True)  # on stdout alone: what a script reads to find the port
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@click.command("protocol-check")
@click.argument("endpoint")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--tls-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The CA that signed the endpoint's certificate (turns TLS on).")
@click.option("--function", default="GetTickCount", show_default=True, help="An export to resolve and call.")
@click.option("--module", default="kernel32.dll", show_default=True)
@click.option("--ssh-option", "ssh_options", multiple=True, metavar="WORDS",
              help="Options for ssh, with ssh://: shell words, e.g. --ssh-option '-F lab_config' (repeatable; "
                   "default $SPECPROOF_SSH_OPTIONS).")
@click.option("--ssh-shell", type=click.Choice(["cmd", "posix"]), default=None,
              help="The remote login shell, with ssh:// (default $SPECPROOF_SSH_SHELL, else cmd).")
def protocol_check(endpoint: str, token_file: Path | None, tls_ca: Path | None, function: str, module: str,
                   ssh_options: tuple[str, ...], ssh_shell: str | None) -> None:
    """Drive ENDPOINT through the whole protocol and say what conforms: tcp://HOST:PORT (an agent, a
    service), ssh://[USER@]HOST[:PORT] (the kit's helper on that machine), `wine` (the kit's helper under
    Wine), or `pipe:COMMAND` (a program that speaks on stdio)."""
    from .channels import ProcessChannel, SocketChannel
    from .check import run_checks
    from .client import Endpoint

    console = Console()
    token = None
    try:
        token = read_token(token_file) if token_file else None
    except TokenError as error:
        console.print(f"[red]protocol-check:[/] {escape(str(error))}")
        sys.exit(2)
    cleanup = []
    if endpoint.startswith("tcp://"):
        from .channels import parse_url

        try:
            host, port = parse_url(endpoint)
        except ValueError as error:
            console.print(f"[red]protocol-check:[/] {escape(str(error))}")
            sys.exit(2)

        def connect() -> Endpoint:
            return Endpoint(SocketChannel(host, port, tls=str(tls_ca) if tls_ca else False))
    elif endpoint.startswith("pipe:"):
        argv = shlex.split(endpoint[5:])

        def connect() -> Endpoint:
            return Endpoint(ProcessChannel(argv, where=argv[0] if argv else "the program"))
    elif endpoint.startswith("ssh://"):
        from specproof_adapters.native.adapter import helper_exe

        from .ssh import SSHLink

        try:
            words = [word for option in ssh_options for word in shlex.split(option)] if ssh_options else None
            link = SSHLink(endpoint, helper_exe, words, ssh_shell)
            link.ensure_helper()  # a host key, key or shell problem is said once, here
        except (ValueError, RuntimeError, OSError) as error:
            console.print(f"[red]protocol-check:[/] {escape(str(error))}")
            sys.exit(2)
        console.print(f"{escape(link.where)}: the helper is {escape(link.ready or '')}"
                      f"{' (copied now)' if link.uploads else ''}", highlight=False)
        connect = link.open
    elif endpoint == "wine":
        from specproof_adapters.wine import WineAdapter

        wine = WineAdapter(pin="no")
        cleanup.append(wine.close)
        connect = wine.new_helper
    else:
        console.print(f"[red]protocol-check:[/] {escape(endpoint)} is not tcp://HOST:PORT, ssh://[USER@]HOST[:PORT], "
                      "wine or pipe:COMMAND")
        sys.exit(2)
    try:
        checks = run_checks(connect, function, module, token)
    finally:
        for done in cleanup:
            done()
    for check in checks:
        mark = "[green]PASS[/]" if check.passed else "[red]FAIL[/]"
        console.print(f"{mark} {escape(check.name)}: {escape(check.detail)}", highlight=False)
    failed = [c for c in checks if not c.passed]
    console.print(f"{escape(endpoint)}: {len(checks) - len(failed)} of {len(checks)} checks conform"
                  + (f"; {len(failed)} do not" if failed else ""), highlight=False)
    sys.exit(1 if failed else 0)
