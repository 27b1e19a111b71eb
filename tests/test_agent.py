"""`specproof agent serve` and the service adapter: who may call, what is refused, and the same outcomes.

The agents here are real: started in this process on a free loopback port
(or as `specproof agent serve` processes where a test kills one), reached
over TCP by the real client, the service adapter and `protocol-check`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from specproof.adapter.specindex import SpecIndex
from specproof.cli import main
from specproof.protocol.agent import Agent, AgentConfig, AgentRefused
from specproof.protocol.auth import TokenError, new_token_file, read_token
from specproof.protocol.channels import SocketChannel
from specproof.protocol.client import Endpoint
from specproof.protocol.wire import LINE_MAX_BYTES, EndpointGone, Refused
from specproof_adapters.model import ModelAdapter

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
_INDEX = SpecIndex(ROOT / "specs")
SERVED = {name: _INDEX.modules(name) for name in _INDEX.names()}


def model_agent(**overrides) -> Agent:
    config = AgentConfig(make_adapter=ModelAdapter, adapter_name="model", served=SERVED, log=lambda text: None)
    for key, value in overrides.items():
        setattr(config, key, value)
    return Agent(config).start()


@pytest.fixture
def agent():
    served = model_agent()
    yield served
    served.stop()


def connect(agent: Agent, token: bytes | None = None, tls: bool | str = False) -> Endpoint:
    host, port = agent.address
    endpoint = Endpoint(SocketChannel(host, port, tls=tls, server_name="localhost"))
    endpoint.hello(token)
    return endpoint


def results_of(folder: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (folder / "results.jsonl").read_text().splitlines())}


def run_suites(tmp_path: Path, run_id: str, *args: str, suites: str = "conformance") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "specproof", "run", "--results", str(tmp_path), "--run-id", run_id,
                           "--suites", str(ROOT / suites), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800, env={**os.environ, "PYTHONPATH": str(TESTS), "COLUMNS": "200"})


# -- who may call ----------------------------------------------------------------------------------------

def test_an_address_other_than_loopback_needs_a_token_and_tls(tmp_path: Path):
    with pytest.raises(AgentRefused, match=r"refusing to listen on 0\.0\.0\.0: .* needs a token and TLS "
                                           r"\(missing: --token-file and --tls-cert/--tls-key\)"):
        model_agent(host="0.0.0.0")
    token = new_token_file(tmp_path / "token")
    with pytest.raises(AgentRefused, match=r"missing: --tls-cert/--tls-key"):
        model_agent(host="0.0.0.0", token=token)
    done = CliRunner().invoke(main, ["agent", "serve", "--adapter", "model", "--listen", "0.0.0.0:0"])
    assert done.exit_code == 2 and "needs a token and TLS" in done.output


def test_a_token_file_others_can_read_is_refused(tmp_path: Path):
    path = tmp_path / "token"
    new_token_file(path)
    path.chmod(0o644)
    with pytest.raises(TokenError, match=r"can be read or written by others \(mode 644\); run `chmod 600"):
        read_token(path)
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(TokenError, match="use at least 16"):
        read_token(path)


def test_a_wrong_or_missing_token_is_refused_and_others_are_still_served(tmp_path: Path):
    token = new_token_file(tmp_path / "token")
    served = model_agent(token=token)
    try:
        with pytest.raises(Refused, match="wants a token"):
            connect(served)
        with pytest.raises((Refused, EndpointGone)) as wrong:
            connect(served, token=b"not-the-token-at-all-0123456789")
        assert "auth refused" in str(wrong.value) or isinstance(wrong.value, EndpointGone)
        good = connect(served, token=token)
        assert good.info.name == "model" and good.info.fields["kernel"] == "1"
        good.ping()
        good.stop()
    finally:
        served.stop()


def test_the_token_itself_never_travels(tmp_path: Path):
    """What the client sends at hello is an HMAC of the agent's fresh nonce: a recording of it opens nothing."""
    token = new_token_file(tmp_path / "token")
    served = model_agent(token=token)
    try:
        host, port = served.address
        with socket.create_connection((host, port)) as raw:
            raw.sendall(b"hello 1\n")
            challenge = raw.recv(4096).decode()
            assert challenge.startswith("\x1eauth ") and token.decode() not in challenge
        from specproof.protocol.auth import response
        recorded = response(token, challenge[6:].strip())
        with socket.create_connection((host, port)) as replay:
            replay.sendall(b"hello 1\n")
            replay.recv(4096)
            replay.sendall(f"auth {recorded}\n".encode())
            assert b"err auth refused" in replay.recv(4096)
    finally:
        served.stop()


# -- what is refused, and the agent going on -------------------------------------------------------------

def test_refusals_are_clear_and_the_agent_keeps_serving_others(agent: Agent):
    other = connect(agent)
    client = connect(agent)
    assert client.request("resolve kernel32.dll system", 10).text == "err system is not a function of the served specs"
    assert client.request("call 7ffa00001000", 10).text.startswith("err 0x7ffa00001000 is not an export this session")
    assert client.request("alloc zz", 10).text == "err usage: alloc <size>"
    assert client.request("call 10 @zz", 10).text.startswith("err usage: call")
    client.ping()  # a malformed command is refused, and the session goes on
    text, _ = client.request("write 10 " + "00" * (LINE_MAX_BYTES // 2), 10)
    assert text.startswith("err line too long")
    with pytest.raises(EndpointGone):  # breaking the protocol ends that client's session
        client.ping()
    other.ping()
    assert other.resolve("kernel32.dll", "GetTickCount") is not None
    other.stop()


def test_memory_and_clients_are_bounded(tmp_path: Path):
    served = model_agent(max_memory=4096, max_clients=1)
    try:
        first = connect(served)
        first.alloc(4000)
        assert first.request("alloc 100", 10).text.startswith("err memory limit: this session holds 4000 bytes")
        host, port = served.address
        second = Endpoint(SocketChannel(host, port))
        with pytest.raises((Refused, EndpointGone), match="too many clients|went away"):
            second.hello()
        first.stop()
    finally:
        served.stop()


def test_each_client_gets_its_own_adapter_released_when_it_leaves():
    made: list[ModelAdapter] = []

    class Counted(ModelAdapter):
        def __init__(self, **options):
            super().__init__(**options)
            made.append(self)

        def close(self):
            self.closed = True

    served = model_agent(make_adapter=Counted)
    try:
        one, two = connect(served), connect(served)
        block = one.alloc(8)
        one.write(block, b"one")
        assert two.request(f"free {block:x}", 10).text == "ok"  # not two's block: nothing is freed
        assert one.read(block, 3) == b"one"
        one.stop()
        two.stop()
        deadline = time.monotonic() + 5
        while not all(getattr(a, "closed", False) for a in made) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(made) == 2 and all(getattr(a, "closed", False) for a in made)
    finally:
        served.stop()



def _wine_or_skip():
    from specproof_adapters.wine import WineAdapter
    if not WineAdapter.availability().usable:
        pytest.skip("Wine is not installed")
    return WineAdapter


@pytest.mark.parametrize("adapter", ["model", "wine"])
def test_a_silent_client_is_told_and_released_while_a_busy_one_is_served(adapter: str):
    """The idle bound holds both where the agent relays (model) and where a helper was handed the
    connection (wine), which keeps it itself: the agent no longer sees that traffic."""
    make = ModelAdapter if adapter == "model" else _wine_or_skip()
    logged: list[str] = []
    served = Agent(AgentConfig(make_adapter=make, adapter_name=adapter, served=SERVED, idle_timeout=1.0,
                               log=logged.append)).start()
    try:
        silent, busy = connect(served), connect(served)
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # busy speaks every 0.3 s, silent says nothing
            assert busy.request("ping", 10).text == "ok"
            time.sleep(0.3)
        try:
            answer = silent.request("ping", 10).text
        except EndpointGone:
            answer = "gone"
        assert answer.startswith("err idle for 1") and answer.endswith("the session is closed"), answer
        with pytest.raises(EndpointGone):
            silent.request("ping", 10)
        assert busy.request("ping", 10).text == "ok"
        busy.stop()
        deadline = time.monotonic() + 5
        while sum("closed" in line for line in logged) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum("closed" in line for line in logged) == 2, logged
    finally:
        served.stop()



def test_an_agent_in_front_of_the_model_resolves_the_headers_inline_routines(agent: Agent):
    """`resolve inline <name>`: the model's run of an inline routine; a name the headers do not define inline,
    or that no served spec names, is missing or refused as any other."""
    client = connect(agent)
    insert = client.resolve("inline", "InitializeListHead")
    head = client.alloc(16)
    client.call(insert.address, [head])
    assert client.read(head, 16) == head.to_bytes(8, "little") * 2
    assert client.resolve("inline", "KeSetEvent") is None  # exported by ntoskrnl.exe, not inline
    assert client.request("resolve inline system", 10).text == "err system is not a function of the served specs"
    client.stop()

# -- tls --------------------------------------------------------------------------------------------------

def test_tls_with_a_token_end_to_end(tmp_path: Path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    token = new_token_file(tmp_path / "token")
    served = model_agent(token=token, tls_cert=cert, tls_key=key)
    try:
        endpoint = connect(served, token=token, tls=str(cert))
        assert endpoint.resolve("kernel32.dll", "GetTickCount") is not None
        endpoint.stop()
        host, port = served.address
        with pytest.raises((OSError, EndpointGone)):  # a plain-text client gets no session
            plain = Endpoint(SocketChannel(host, port))
            plain.hello(token, timeout=5)
    finally:
        served.stop()


# -- the same outcomes ------------------------------------------------------------------------------------

def _outcomes(folder: Path) -> dict[str, str]:
    return {key: record["outcome"] for key, record in results_of(folder).items()}


@pytest.mark.parametrize("adapter", ["model", "wine"])
def test_the_service_in_front_of_an_agent_gives_the_direct_adapters_outcomes(tmp_path: Path, adapter: str):
    if adapter == "wine":
        from specproof_adapters.wine import WineAdapter
        if not WineAdapter.availability().usable:
            pytest.skip("Wine is not installed")
    agent = subprocess.Popen([sys.executable, "-m", "specproof", "agent", "serve", "--adapter", adapter,
                              "--listen", "127.0.0.1:0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
    try:
        url = agent.stdout.readline().strip()
        assert url.startswith("tcp://127.0.0.1:")
        direct = run_suites(tmp_path, "direct", "--adapter", adapter)
        remote = run_suites(tmp_path, "remote", "--adapter", "service", "--url", url, "--impl", adapter)
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=60)
    assert direct.returncode == remote.returncode, remote.stdout[-3000:]
    assert _outcomes(tmp_path / "remote") == _outcomes(tmp_path / "direct")
    meta = json.loads((tmp_path / "remote" / "run.json").read_text())
    assert meta["implementation"]["details"]["transport"] == "tcp"
    assert meta["implementation"]["details"]["implementation"] == adapter


def test_an_agent_killed_in_a_run_costs_the_tests_it_was_in_and_the_run_goes_on(tmp_path: Path):
    port = _free_port()
    command = [sys.executable, "-m", "specproof", "agent", "serve", "--adapter", "broken_models:Slow", "--listen",
               f"127.0.0.1:{port}"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    agent = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    run = subprocess.Popen([sys.executable, "-m", "specproof", "run", "--adapter", "service", "--url",
                            f"tcp://127.0.0.1:{port}", "--impl", "model", "--results", str(tmp_path), "--run-id",
                            "killed", "--suites", str(ROOT / "conformance" / "sspi")], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env)
    lines = tmp_path / "killed" / "results.jsonl"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not lines.exists() or lines.read_text().count("\n") < 5):
            time.sleep(0.05)
        agent.kill()
        agent.wait()
        time.sleep(1.0)
        agent = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        output, _ = run.communicate(timeout=900)
    finally:
        agent.kill()
        agent.wait()
        if run.poll() is None:
            run.kill()
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert len(records) == len({r["id"] for r in records}) > 100, output[-2000:]
    failed = [r for r in records if r["outcome"] in ("crash", "error")]
    lost = [r for r in failed if "went away" in r.get("message", "") or "cannot reach" in r.get("message", "")]
    # the test in flight (if the kill fell in one) says the agent went away; no test fails otherwise
    assert len(lost) <= 2 and len(failed) == len(lost), [(r["id"], r["outcome"], r.get("message")) for r in failed]
    after = records[records.index(lost[-1]) + 1:] if lost else records[5:]
    assert after and sum(r["outcome"] == "pass" for r in after) > 20, "the run went on on the new agent"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- protocol-check ---------------------------------------------------------------------------------------

BROKEN = r'''
import sys
for line in sys.stdin:
    command = line.split(" ", 1)[0].strip()
    if command == "hello":
        print("\x1eok 1 name=broken version=0 arch=x86_64", flush=True)
    elif command == "exit":
        break
    elif command == "read":
        print("\x1eok 00", flush=True)  # one byte, whatever was asked
    else:
        print("\x1eok", flush=True)  # says yes to everything, malformed or not
'''


def test_protocol_check_passes_on_the_agent_and_fails_clearly_on_a_broken_endpoint(agent: Agent, tmp_path: Path):
    runner = CliRunner()
    host, port = agent.address
    good = runner.invoke(main, ["protocol-check", f"tcp://{host}:{port}"])
    assert good.exit_code == 0, good.output
    assert "20 of 20 checks conform" in good.output
    script = tmp_path / "broken.py"
    script.write_text(BROKEN)
    bad = runner.invoke(main, ["protocol-check", f"pipe:{sys.executable} {script}"])
    assert bad.exit_code == 1
    assert "FAIL memory: the endpoint gave an unexpected answer to 'alloc'" in bad.output
    assert "FAIL an unknown command is refused: ok" in bad.output
    assert "checks conform;" in bad.output and "do not" in bad.output


def test_an_agent_in_front_of_wine_hands_the_connection_to_a_helper_that_keeps_the_rules():
    """The fast path (ServesConnections): the helper answers the client itself and refuses as the agent would."""
    WineAdapter = _wine_or_skip()
    served = Agent(AgentConfig(make_adapter=WineAdapter, adapter_name="wine", served=SERVED, max_memory=4096,
                               log=lambda text: None)).start()
    try:
        client = connect(served)
        assert client.info.name == "wine" and "windows" in client.info.fields
        assert client.request("resolve kernel32.dll system", 30).text == \
            "err system is not a function of the served specs"
        assert client.request("call 10", 30).text == "err 0x10 is not an export this session resolved"
        tick = client.resolve("kernel32.dll", "GetTickCount", 30)
        assert client.call(tick.address, [], 30).value > 0
        # a routine the headers define inline, built for the helper and named in its policy
        initialize = client.resolve("inline", "InitializeListHead", 30)
        head = client.alloc(16, 30)
        client.call(initialize.address, [head], 30)
        assert client.read(head, 16) == head.to_bytes(8, "little") * 2  # Flink and Blink point to the head
        client.free(head, 30)
        block = client.alloc(4000, 30)
        assert client.request("alloc 100", 30).text.startswith("err memory limit: this session holds 4000 bytes")
        client.free(block, 30)
        client.alloc(100, 30)
        client.stop()
    finally:
        served.stop()


def test_an_endpoint_that_stays_away_costs_later_tests_little():
    """The first loss waits the retry time for the endpoint to come back; later tests try briefly."""
    from specproof.protocol import remote
    from specproof_adapters.service import ServiceAdapter

    adapter = ServiceAdapter(url=f"tcp://127.0.0.1:{_free_port()}", retry="4")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"cannot reach the endpoint .*tried for 4 s"):
        adapter.alloc(8)
    first = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"tried for {remote.DOWN_RETRY:g} s"):
        adapter.next_test()
    again = time.monotonic() - started
    assert 3.9 <= first < 8 and again < remote.DOWN_RETRY + 1.0 < first


@pytest.mark.parametrize(("url", "parsed"), [("tcp://127.0.0.1:9000", ("127.0.0.1", 9000)),
                                             ("tcp://[::1]:9000/", ("::1", 9000))])
def test_service_urls(url, parsed):
    from specproof.protocol.channels import parse_url
    assert parse_url(url) == parsed


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000", "tcp://127.0.0.1", "tcp://:9000", "tcp://h:99999",
                                 "tcp://h:9000/path"])
def test_a_url_that_is_not_tcp_host_port_is_refused(url):
    from specproof.protocol.channels import parse_url
    with pytest.raises(ValueError, match="is not tcp://HOST:PORT"):
        parse_url(url)


def test_specproof_adapters_says_how_to_use_the_remote_adapters():
    # a process of its own: the console takes its width from COLUMNS when it is made, at import
    done = subprocess.run([sys.executable, "-m", "specproof", "adapters"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "240"})
    assert done.returncode == 0, done.stderr
    assert "usable with --url tcp://HOST:PORT" in done.stdout
    assert "usable with --host [user@]host" in done.stdout  # the brackets are text, not markup


def test_a_connection_lost_during_a_test_ends_that_test_and_the_next_one_connects_again():
    from specproof_adapters.service import ServiceAdapter

    port = _free_port()
    command = [sys.executable, "-m", "specproof", "agent", "serve", "--adapter", "model", "--listen",
               f"127.0.0.1:{port}"]
    agent = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    agent.stdout.readline()
    adapter = ServiceAdapter(url=f"tcp://127.0.0.1:{port}", retry="20")
    try:
        adapter.next_test()
        block = adapter.alloc(16)
        adapter.write(block, b"kept")
        agent.kill()
        agent.wait()
        agent = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        agent.stdout.readline()
        with pytest.raises(RuntimeError, match=r"went away during this test .*the next test connects again"):
            adapter.read(block, 4)  # the block went with the old connection: no silent new one
        adapter.next_test()
        assert adapter.read(adapter.alloc(4), 4) == bytes(4)
        assert adapter.connections == 2
    finally:
        adapter.close()
        agent.kill()
        agent.wait()


def test_an_adapter_that_cannot_start_is_said_to_the_client_and_the_agent_goes_on():
    def broken():
        raise RuntimeError("adapter 'x' cannot run on this machine: no Wine")

    served = model_agent(make_adapter=broken)
    try:
        with pytest.raises((Refused, EndpointGone)) as refused:
            connect(served)
        assert isinstance(refused.value, EndpointGone) or "could not start" in str(refused.value)
        host, port = served.address
        with socket.create_connection((host, port)) as raw:
            raw.sendall(b"hello 1\n")
            assert b"err the model adapter could not start: adapter 'x' cannot run" in raw.recv(4096)
    finally:
        served.stop()
