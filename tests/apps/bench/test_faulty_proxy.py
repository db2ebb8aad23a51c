"""The fault proxy's stall is met once: a client killed alone while it waits has met it (a watchdog
stopped it), a client that dies with its machine (here: its parent shell, one process group) has not,
nor has an orphan (its parent died first; init adopted it), and the next request for the path
stalls instead. Real sockets, real client processes."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from apps.bench.faulty_proxy import MACHINE_GONE_S, FaultPlan, faulty_proxy

BODY = b"block record " * 100
STALL_S = 20.0  # long enough that every kill below falls inside the stall


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


@contextmanager
def _upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _machine(url: str, status: Path) -> Iterator[subprocess.Popen]:
    """A shell in a process group of its own (the machine) whose child fetches ``url``; the shell
    writes the child's exit status to ``status`` and stays up, as a node outlives its workers."""
    fetch = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=60).read()"
    script = f'"{sys.executable}" -c "{fetch}"; echo $? > "{status}"; sleep 120'
    machine = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    try:
        yield machine
    finally:
        with suppress(ProcessLookupError):
            os.killpg(machine.pid, signal.SIGKILL)
        machine.wait(timeout=30)


def _client_of(machine: subprocess.Popen) -> psutil.Process:
    deadline = time.monotonic() + 30
    while not (children := psutil.Process(machine.pid).children()):
        assert time.monotonic() < deadline, "the client process never started"
        time.sleep(0.05)
    return children[0]


def _wait_for(condition, what: str, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize("machine_dies", [True, False], ids=["machine dies", "client stopped alone"])
def test_a_stall_counts_once_met_and_is_drawn_again_when_its_client_dies_with_its_machine(
    machine_dies: bool, tmp_path: Path
) -> None:
    plan = FaultPlan(stall_path="GET /work/block0/", stall_times=1, stall_s=STALL_S)
    first, second = tmp_path / "first", tmp_path / "second"
    with _upstream() as upstream, faulty_proxy(upstream, plan) as proxy:
        url = f"{proxy.url}/work/block0/abc.json"
        with _machine(url, first) as machine:
            client = _client_of(machine)
            _wait_for(lambda: plan.stalled_parents == ["sh"], "the stalled client's parent was not found")
            if machine_dies:
                os.killpg(machine.pid, signal.SIGKILL)
                _wait_for(lambda: plan.seen["stalls_lost"] == 1, "the lost stall was not noticed", STALL_S / 2)
                assert plan.seen["stalls"] == 0
            else:
                client.kill()
                _wait_for(first.exists, "the shell did not go on")
                time.sleep(MACHINE_GONE_S + 2)  # past the proxy's decision
                assert plan.seen["stalls"] == 1 and plan.seen["stalls_lost"] == 0, plan.seen

        # The next request for the path: stalled again after a lost stall (its client is then
        # stopped alone, which meets it), passed on at once after a met one.
        started = time.monotonic()
        with _machine(url, second) as machine:
            if machine_dies:
                client = _client_of(machine)
                _wait_for(lambda: len(plan.stalled_parents) == 2, "the next request did not stall")
                client.kill()
                _wait_for(second.exists, "the shell did not go on")
                time.sleep(MACHINE_GONE_S + 2)
            else:
                _wait_for(second.exists, "the second request did not end", STALL_S / 2)
                assert second.read_text().strip() == "0" and time.monotonic() - started < STALL_S / 2
    assert plan.seen["stalls"] == 1, plan.seen
    assert [fault for _, fault in plan.drawn] == (
        ["stalls", "stall lost", "stalls"] if machine_dies else ["stalls", "pass"]
    )


def test_a_stall_met_by_an_orphan_is_drawn_again(tmp_path: Path) -> None:
    # A worker whose raylet died before its read stalled: init has adopted it, and init runs on, but
    # its machine is gone; it hangs up without any watchdog having waited out the stall.
    plan = FaultPlan(stall_path="GET /work/block0/", stall_times=1, stall_s=STALL_S)
    pid_file = tmp_path / "client.pid"
    with _upstream() as upstream, faulty_proxy(upstream, plan) as proxy:
        fetch = (f"import os, time, urllib.request; time.sleep(1); "
                 f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
                 f"urllib.request.urlopen({proxy.url + '/work/block0/abc.json'!r}, timeout=60).read()")  # fmt: skip
        # The shell starts the client in the background and exits at once: the client is orphaned.
        subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{fetch}" &'], check=True)
        _wait_for(lambda: len(plan.stalled_parents) == 1, "the orphan's read did not stall")
        client = psutil.Process(int(pid_file.read_text()))
        assert client.ppid() == 1, "the client was adopted by a subreaper, not init: not this test's case"
        client.kill()
        _wait_for(lambda: plan.seen["stalls_lost"] == 1, "the orphan's stall was counted as met", STALL_S / 2)
    assert plan.seen["stalls"] == 0 and [fault for _, fault in plan.drawn] == ["stalls", "stall lost"]
