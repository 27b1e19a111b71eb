"""The wine adapter on Wine itself: faults, hangs, stubs, processes, workers, the suites.

Every test here drives the real Wine (Debian `wine64`); without it they
skip with the command that installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pagemaker import page

ROOT = Path(__file__).resolve().parents[1]

wine = pytest.importorskip("specproof_adapters.wine")
from specproof_adapters.wine import WineAdapter  # noqa: E402
from specproof_adapters.wine.procs import processes_of  # noqa: E402
from specproof_adapters.wine.toolchain import cache_root  # noqa: E402

_available = WineAdapter.availability()
pytestmark = pytest.mark.skipif(not _available.usable, reason=f"Wine is not usable here: {_available.reason}; "
                                                              f"install: {_available.fix}")


def wine_processes_of_runs_by(pid: int) -> list[int]:
    """Wine processes of every prefix copy that process `pid` made (copies are named `<pid>-...`)."""
    instances = cache_root() / "instances"
    found = []
    for folder in instances.glob(f"{pid}-*") if instances.is_dir() else ():
        found += processes_of(folder)
    for folder in instances.glob(f"trash-{pid}-*") if instances.is_dir() else ():
        found += processes_of(folder)
    return found


@pytest.fixture(scope="module")
def adapter():
    made = WineAdapter()
    yield made
    made.close()


# -- the adapter itself ------------------------------------------------------------------------

def test_info_reports_wine_windows_and_kernel_routines_in_process(adapter):
    info = adapter.info()
    assert info.name == "wine" and info.version[0].isdigit()
    assert info.details["windows"].startswith("10.0."), info  # the template prefix is set to Windows 10
    assert "Wine" in info.platform and info.architecture == "x86_64"
    assert info.kernel_mode is False and info.kernel_in_process is True
    assert "helper's process" in info.details["kernel_mode"]


def test_kernel_modules_resolve_from_wine_and_a_missing_one_is_said(adapter):
    """ntoskrnl.exe from the system folder, a .sys from the drivers folder, stubs read from the files."""
    assert adapter.resolve("ntoskrnl.exe", "KeQueryTickCount").stub is False
    assert adapter.resolve("hal.dll", "KeQueryPerformanceCounter") is not None
    assert adapter.resolve("ksecdd.sys", "SspiDeleteSecurityContextAsync").stub is True
    assert adapter.resolve("hidclass.sys", "HidRegisterMinidriver") is not None  # imports hidparse.sys, a driver too
    assert adapter.survey("ntoskrnl.exe", "InsertTailList") == "missing"  # inline in wdm.h: no export
    assert adapter.resolve("fwpkclnt.sys", "IPsecSaContextExpire0") is None
    assert adapter.ships("fwpkclnt.sys") is False and adapter.ships("ntoskrnl.exe") is True
    assert adapter.ships("nosuch.dll") is None  # a prefix may hold a user-mode DLL Wine lacks


def test_a_call_returns_its_value_and_memory_round_trips(adapter):
    lstrlen = adapter.resolve("kernel32.dll", "lstrlenA")
    block = adapter.alloc(16)
    adapter.write(block, b"specproof\0")
    assert adapter.read(block, 10) == b"specproof\0"
    result = adapter.call(lstrlen.address, [block], 5)
    assert result.value == 9 and result.fault is None
    adapter.free(block)


def test_a_call_gives_the_last_error_it_set_and_none_when_it_set_none(adapter):
    """The helper sets a sentinel last error just before each call: a function that leaves it is told apart."""
    close = adapter.resolve("kernel32.dll", "CloseHandle")
    failed = adapter.call(close.address, [0x1234], 5)
    assert failed.value == 0 and failed.last_error == 6  # FALSE, ERROR_INVALID_HANDLE
    ticks = adapter.resolve("kernel32.dll", "GetTickCount")
    assert adapter.call(ticks.address, [], 5).last_error is None
    set_error = adapter.resolve("kernel32.dll", "SetLastError")
    assert adapter.call(set_error.address, [0], 5).last_error == 0, "ERROR_SUCCESS set is not 'not set'"


def test_missing_and_stub_exports_are_told_apart_without_a_call(adapter):
    assert adapter.resolve("secur32.dll", "NoSuchFunctionAnywhere") is None
    stub = adapter.resolve("secur32.dll", "SaslAcceptSecurityContext")  # a __wine_stub_ in secur32
    present = adapter.resolve("secur32.dll", "DeleteSecurityContext")
    assert stub is not None and stub.stub
    assert present is not None and not present.stub
    assert adapter.survey("sspicli.dll", "SspiLocalFree") == "present"  # secur32 forwards it; sspicli has it


def test_calling_a_stub_faults_with_wine_s_stub_code_and_names_it(adapter):
    stub = adapter.resolve("secur32.dll", "SaslAcceptSecurityContext")
    result = adapter.call(stub.address, [], 5)
    assert result.fault is not None and result.fault.code == 0x80000100
    assert any("SaslAcceptSecurityContext" in line for line in result.diagnostics)
    adapter.next_test()
    assert adapter.call(adapter.resolve("kernel32.dll", "GetCurrentProcessId").address, [], 5).value


def test_a_fault_is_reported_and_the_helper_is_replaced_before_the_next_test(adapter):
    tick = adapter.resolve("kernel32.dll", "GetTickCount")
    assert adapter.call(tick.address, [], 5).value is not None  # a helper is running, whichever test ran first
    before = adapter.restarts
    result = adapter.call(0x10, [], 5)  # no code at address 0x10
    assert result.fault is not None and result.fault.code == 0xC0000005
    adapter.next_test()
    tick = adapter.resolve("kernel32.dll", "GetTickCount")
    assert adapter.call(tick.address, [], 5).value is not None
    assert adapter.restarts == before + 1


def test_fixme_stubs_are_found_from_the_diagnostics(adapter):
    # FwpmEngineOpen0 exists in Wine 8 but only prints `fixme: ... stub` and fails
    engine_open = adapter.resolve("fwpuclnt.dll", "FwpmEngineOpen0")
    handle = adapter.alloc(8)
    result = adapter.call(engine_open.address, [0, 0xFFFFFFFF, 0, 0, handle], 5)
    assert result.value != 0
    assert "FwpmEngineOpen0" in result.stub and "fixme:" in result.stub


def test_a_hanging_call_times_out_within_the_limit_and_the_next_call_works(adapter):
    sleep = adapter.resolve("kernel32.dll", "Sleep")
    started = time.monotonic()
    result = adapter.call(sleep.address, [0xFFFFFFFF], 1.0)  # Sleep(INFINITE)
    assert result.timed_out and time.monotonic() - started < 3.0
    tick = adapter.resolve("kernel32.dll", "GetTickCount")
    assert adapter.call(tick.address, [], 5).value is not None


def test_a_thousand_faults_in_a_row_leave_no_stray_processes():
    made = WineAdapter()
    prefix = made.ready_prefix().path
    for _ in range(1000):
        assert made.call(0x10, [], 5).fault is not None
        made.next_test()  # as between tests: the faulted helper is replaced
    assert made.restarts >= 1000
    assert made.call(made.resolve("kernel32.dll", "GetTickCount").address, [], 5).value is not None
    made.close()
    assert processes_of(prefix) == []


# -- runs through pytest -----------------------------------------------------------------------

PROBE = textwrap.dedent('''
    import os
    from pathlib import Path
    import pytest
    from specproof.testing import case, value, expect_returns

    @case("synchapi/Sleep", "sleep-forever", rule="curated", expect="returns")
    def test_sleep_forever(api):
        api.Sleep(dwMilliseconds=value(0xFFFFFFFF, "INFINITE"))

    @case("sysinfoapi/GetTickCount", "after-timeout", rule="curated", expect="returns")
    def test_tick_after_timeout(api):
        assert api.GetTickCount().value is not None

    @case("winbase/RtlZeroMemory", "fault", rule="curated", expect="returns")
    def test_zero_unmapped_memory(api):
        api.RtlZeroMemory(Destination=value(0x10), Length=value(64))

    @case("sysinfoapi/GetTickCount", "after-fault", rule="curated", expect="returns")
    def test_tick_after_fault(api):
        assert api.GetTickCount().value is not None

    @pytest.fixture(autouse=True)
    def where_this_worker_runs(specproof_adapter):
        yield
        where = Path(os.environ["PROBE_OUT"]) / os.environ.get("PYTEST_XDIST_WORKER", "main")
        where.write_text(str(specproof_adapter.ready_prefix().path))
''')


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Path:
    """A spec set for three kernel32 functions (ingested from pages written here) and a test file."""
    from specproof.ingest import ingest

    root = tmp_path_factory.mktemp("probe")
    pages = root / "pages"
    pages.mkdir()
    made = {
        "Sleep": ("synchapi", "### -param dwMilliseconds [in]\n\nThe time interval, in milliseconds.",
                  "This function does not return a value."),
        "GetTickCount": ("sysinfoapi", "", "The return value is the number of milliseconds since the system started."),
        "RtlZeroMemory": ("winbase", "### -param Destination [out]\n\nA pointer to the block.\n\n"
                                     "### -param Length [in]\n\nThe size of the block.", "None"),
    }
    for api, (header, params, returns) in made.items():
        (pages / f"nf-{header}-{api.lower()}.md").write_bytes(page(
            api=api, header=header, lib="Kernel32.lib", dll="Kernel32.dll", params=params, returns=returns,
            remarks="Nothing more."))
    report = ingest([pages], root / "specs", workers=1)
    assert not report.failed, report.failed
    (root / "test_probe.py").write_text(PROBE)
    return root


def run_probe(probe: Path, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    results = tmp_path / "results"
    # the probe's workers name themselves by PYTEST_XDIST_WORKER: not the one of an outer xdist run
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}, "PROBE_OUT": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "pytest", str(probe / "test_probe.py"), "-p", "no:cacheprovider",
                           "-q", "--adapter", "wine", "--specs", str(probe / "specs"), "--call-timeout", "2",
                           "--results", str(results), "--run-id", "probe", "--rootdir", str(probe), *args],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    lines = results / "probe" / "results.jsonl"
    records = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    return done, records


def test_fault_gives_crash_hang_gives_timeout_and_the_next_tests_run(probe: Path, tmp_path: Path):
    done, records = run_probe(probe, tmp_path)
    outcome = {r["case"]: r for r in records}
    assert outcome["sleep-forever"]["outcome"] == "timeout", done.stdout[-3000:]
    assert outcome["sleep-forever"]["duration"] < 2.0 + 2.0  # the limit, plus the kill and restart
    assert outcome["after-timeout"]["outcome"] == "pass"
    assert outcome["fault"]["outcome"] == "crash"
    assert "0xC0000005" in outcome["fault"]["message"]
    assert outcome["after-fault"]["outcome"] == "pass"
    prefix = Path((tmp_path / "main").read_text())
    assert processes_of(prefix) == [] and not prefix.exists()


def test_two_workers_use_separate_prefixes_and_merge_into_one_run(probe: Path, tmp_path: Path):
    done, records = run_probe(probe, tmp_path, "-n", "2")
    assert sorted(r["case"] for r in records) == ["after-fault", "after-timeout", "fault", "sleep-forever"]
    prefixes = {p.name: Path(p.read_text()) for p in tmp_path.glob("gw*")}
    assert sorted(prefixes) == ["gw0", "gw1"], done.stdout[-3000:]
    assert prefixes["gw0"] != prefixes["gw1"]
    for prefix in prefixes.values():
        assert processes_of(prefix) == [] and not prefix.exists()
    run = json.loads((tmp_path / "results" / "probe" / "run.json").read_text())
    assert run["counts"] == {"crash": 1, "pass": 2, "timeout": 1}


def test_interrupted_run_leaves_no_wine_process(tmp_path: Path):
    results = tmp_path / "results"
    child = subprocess.Popen([sys.executable, "-m", "pytest", str(ROOT / "conformance" / "sspi"), "-p",
                              "no:cacheprovider", "-q", "--adapter", "wine", "--results", str(results),
                              "--run-id", "interrupted"], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    lines = results / "interrupted" / "results.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (not lines.exists() or lines.read_text().count("\n") < 10):
        time.sleep(0.05)
    assert wine_processes_of_runs_by(child.pid), "the run started no Wine process"
    child.send_signal(signal.SIGINT)
    child.wait(timeout=120)
    assert wine_processes_of_runs_by(child.pid) == []
    assert lines.read_text().count("\n") >= 10  # what was produced is kept


def test_ctrl_c_on_specproof_run_closes_wine_and_the_run(tmp_path: Path):
    """Ctrl-C to `specproof run` reaches pytest, which closes the prefix; the run is closed as interrupted."""
    results = tmp_path / "results"
    run = subprocess.Popen([sys.executable, "-m", "specproof", "run", "--adapter", "wine", "--results", str(results),
                            "--run-id", "stopped", "--suites", str(ROOT / "conformance" / "sspi")], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = results / "stopped" / "results.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (not lines.exists() or lines.read_text().count("\n") < 10):
        time.sleep(0.05)
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    assert len(children) == 1, "specproof run has its pytest process"
    pytest_pid = int(children[0])
    assert wine_processes_of_runs_by(pytest_pid), "the run started no Wine process"
    run.send_signal(signal.SIGINT)
    output, _ = run.communicate(timeout=120)
    assert wine_processes_of_runs_by(pytest_pid) == []
    assert not list((cache_root() / "instances").glob(f"{pytest_pid}-*")), "the prefix copy is gone"
    meta = json.loads((results / "stopped" / "run.json").read_text())
    assert meta["interrupted"] and meta["exit_status"] == 2
    assert "specproof run --adapter wine --resume stopped" in output


def test_killed_run_leaves_no_wine_process_for_long(tmp_path: Path):
    child = subprocess.Popen([sys.executable, "-m", "pytest", str(ROOT / "conformance" / "sspi"), "-p",
                              "no:cacheprovider", "-q", "--adapter", "wine", "--no-results"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not wine_processes_of_runs_by(child.pid):
        time.sleep(0.05)
    time.sleep(1.0)
    assert wine_processes_of_runs_by(child.pid)
    child.kill()  # nothing can clean up: the helper sees its stdin close, the server's persistence runs out
    child.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and wine_processes_of_runs_by(child.pid):
        time.sleep(0.2)
    assert wine_processes_of_runs_by(child.pid) == []


# -- the committed suites on Wine ----------------------------------------------------------------

def test_the_suites_run_on_wine_with_only_expected_departures(tmp_path: Path):
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-p", "no:cacheprovider",
                           "-q", "--adapter", "wine", "--results", str(results), "--run-id", "suites"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:]
    records = [json.loads(line) for line in (results / "suites" / "results.jsonl").read_text().splitlines()]
    by_case = {r["id"].split("::")[1]: r for r in records}
    assert by_case["test_DeleteSecurityContext__partial_context"]["outcome"] == "pass"
    assert by_case["test_DeleteSecurityContext__delete_twice"]["outcome"] == "xfail"  # SEC_E_INVALID_HANDLE
    # the seeds' kernel-mode functions: a ksecdd.sys stub, and a module Wine does not ship
    seed = {r["case"]: r for r in records if r["function"] == "SspiDeleteSecurityContextAsync"}
    assert seed and all(r["outcome"] == "not-implemented" for r in seed.values())
    assert seed["kernel-export"]["message"] == "SspiDeleteSecurityContextAsync in ksecdd.sys is a stub"
    seed = {r["case"]: r for r in records if r["function"] == "IPsecSaContextExpire0"}
    assert seed and all(r["outcome"] == "not-implemented" for r in seed.values())
    assert "the implementation has no fwpkclnt.sys" in seed["kernel-export"]["message"]
    # kernel routines that need no driver run in the helper's process, with ntoskrnl.exe loaded
    wdm = [r for r in records if r["spec"].startswith("wdm/")]
    curated = [r for r in wdm if r["rule"] == "curated"]
    assert len(curated) >= 20 and all(r["outcome"] == "pass" for r in curated), \
        [(r["id"], r["outcome"], r.get("message")) for r in curated if r["outcome"] != "pass"]
    inline = by_case["test_InsertTailList__kernel_export"]
    assert inline["outcome"] == "not-applicable" and "inline in wdm.h" in inline["message"]
    needs = by_case["test_IoCreateDevice__null_pointer_driverobject"]
    assert needs["outcome"] == "not-applicable" and "needs a DRIVER_OBJECT" in needs["message"]
    stubbed = by_case["test_SaslEnumerateProfilesW__export"]
    assert stubbed["outcome"] == "not-implemented" and "stub" in stubbed["message"]
    run = json.loads((results / "suites" / "run.json").read_text())
    assert run["implementation"]["name"] == "wine" and run["implementation"]["kernel_mode"] is False
    assert run["implementation"]["kernel_in_process"] is True


def test_exports_lists_present_stub_and_missing_in_user_and_kernel_mode():
    done = subprocess.run([sys.executable, "-m", "specproof", "exports", "--adapter", "wine", "specs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in done.stdout.splitlines()
             if line.count("│") == 6]
    rows = {(header, function): (mode, module, status) for header, function, mode, module, status in cells}
    assert rows["sspi", "DeleteSecurityContext"] == ("user", "Secur32.dll", "present")
    assert rows["sspi", "SaslEnumerateProfilesW"][2] == "stub"
    assert rows["sspi", "SaslGetContextOption"][2] == "missing"
    assert rows["sspi", "SspiDeleteSecurityContextAsync"] == ("kernel", "ksecdd.sys", "stub")  # the seed: sspi.h
    assert rows["fwpmk", "IPsecSaContextExpire0"] == ("kernel", "fwpkclnt.sys", "missing")  # Wine has none
    assert rows["fwpmu", "IPsecSaContextExpire0"][:2] == ("user", "Fwpuclnt.dll")  # its user-mode twin
    assert done.stdout.strip().splitlines()[-1].startswith("wine: ")
    per_module = subprocess.run([sys.executable, "-m", "specproof", "exports", "--adapter", "wine", "--by-module",
                                 "--mode", "kernel", "specs"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                                env={**os.environ, "COLUMNS": "200"})
    counted = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.split("│")[1:-1]]
                                                 for line in per_module.stdout.splitlines() if line.count("│") == 8)}
    assert counted["fwpkclnt.sys"] == ["0", "0", "1", "0", "0", "1"]  # present stub missing inline static all
    assert counted["ntoskrnl.exe"][3] == "5"  # the list routines wdm.h defines inline
    assert "kernel32.dll" not in counted


def test_adapters_says_how_to_install_wine_when_it_is_missing():
    done = subprocess.run([sys.executable, "-m", "specproof", "adapters"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "SPECPROOF_WINE": "/nonexistent/wine64", "COLUMNS": "400"})
    row = next(line for line in done.stdout.splitlines() if line.startswith("│ wine"))
    assert "│ no" in row
    assert "apt-get install -y --no-install-recommends wine64 gcc-mingw-w64-x86-64 winbind" in row


def test_protocol_check_passes_on_the_helper_under_wine():
    from click.testing import CliRunner

    from specproof.cli import main

    done = CliRunner().invoke(main, ["protocol-check", "wine"])
    assert done.exit_code == 0, done.output
    assert "wine: 20 of 20 checks conform" in done.output
    assert "PASS an oversized line is refused: err line too long" in done.output


def test_a_kernel_routine_that_faults_or_blocks_costs_its_call_only(adapter):
    """Kernel routines run in the helper's process: a bad pointer is a fault of that call, a wait that never
    ends is a timeout, and the next call is answered by a fresh helper."""
    def kernel(name: str) -> int:
        return adapter.resolve("ntoskrnl.exe", name).address

    faulted = adapter.call(kernel("KeReadStateEvent"), [0xDEADBEEFBAADF00D], 10)
    assert faulted.fault is not None and faulted.fault.code == 0xC0000005, faulted
    adapter.next_test()
    event = adapter.alloc(24)  # a KEVENT
    assert adapter.call(kernel("KeInitializeEvent"), [event, 0, 0], 10).fault is None  # NotificationEvent, FALSE
    started = time.monotonic()
    blocked = adapter.call(kernel("KeWaitForSingleObject"), [event, 0, 0, 0, 0], 1.0)  # no timeout: waits forever
    assert blocked.timed_out and time.monotonic() - started < 30
    counter = adapter.alloc(8)
    assert adapter.call(kernel("KeQueryTickCount"), [counter], 10).fault is None
    assert int.from_bytes(adapter.read(counter, 8), "little") > 0


def test_the_corpus_kernel_pages_run_on_wine_with_a_reason_for_everything_that_does_not(tmp_path: Path):
    """Kernel-mode pages the kit was not written for (the corpus's windows-driver-docs-ddi pages, ACX, KMDF,
    NDIS, filter manager, HID ...): no kit error, and every test that does not run says specifically why."""
    from conftest import CORPUS, need_shared

    need_shared()
    specs, suites, results = tmp_path / "specs", tmp_path / "suites", tmp_path / "results"
    subprocess.run([sys.executable, "-m", "specproof", "ingest", str(CORPUS / "wdk-ddi"), "--out", str(specs)],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    suites.mkdir()
    shutil.copytree(ROOT / "conformance" / "fixtures", suites / "fixtures")
    shutil.copy(ROOT / "conformance" / "conftest.py", suites / "conftest.py")
    subprocess.run([sys.executable, "-m", "specproof", "generate", "--specs", str(specs), "--out", str(suites)],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    subprocess.run([sys.executable, "-m", "specproof", "run", "--adapter", "wine", "--specs", str(specs), "--suites",
                    str(suites), "--results", str(results), "--run-id", "ddi"], cwd=ROOT, capture_output=True,
                   timeout=900)
    records = [json.loads(line) for line in (results / "ddi" / "results.jsonl").read_text().splitlines()]
    kernel = [r for r in records if r["mode"] == "kernel"]
    assert len(kernel) >= 40 and not [r for r in records if r["outcome"] == "error"]
    assert any(r["outcome"] == "pass" for r in kernel)  # ntoskrnl.exe's routines run
    for record in kernel:
        if record["outcome"] in ("not-applicable", "not-implemented"):
            assert "cannot run kernel-mode code" not in record["message"], record
            assert any(word in record["message"] for word in ("is not exported", "is a stub", "needs ", "IRQL",
                                                              "inline in")), record
