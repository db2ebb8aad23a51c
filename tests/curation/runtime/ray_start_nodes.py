"""A Ray cluster on 127.0.0.1 started the way an operator starts one: ``ray start ... --block``.

``ray_start_cluster()`` starts a head and one worker node with the real command line, each in a
process group of its own (``start_new_session``), with token authentication on and the token in
the nodes' environment, waits until the GCS lists both nodes alive, and yields what a client
needs. It stops the nodes by their process groups' ids, never ``ray stop`` (which stops every Ray
on the machine, other people's included). A private ``RAY_TMPDIR`` keeps the sockets, logs and
address file out of ``/tmp/ray``: nothing else on the machine finds this cluster, and it finds
nothing else.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil

START_TIMEOUT_S = 120.0
# ``ray start`` drains a node for up to 30 s on SIGTERM; a test's cluster has nothing to save.
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class StartedCluster:
    address: str  # host:port of the GCS, what --ray-address takes
    token: str
    dashboard_url: str | None  # http://127.0.0.1:PORT when started with a dashboard
    client_env: dict[str, str]  # RAY_TMPDIR and friends, without the auth variables
    logs: Path  # where each node's `ray start` output goes (head.log, worker.log)
    nodes: dict[str, int]  # "head"/"worker" -> pid of its `ray start`, also its process group's id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray() -> str:
    return str(Path(sys.executable).with_name("ray"))


def raylet_of(node_pid: int) -> psutil.Process:
    """The raylet that the `ray start` process ``node_pid`` started."""
    return next(p for p in psutil.Process(node_pid).children(recursive=True) if p.name() == "raylet")


def kill_node(cluster: StartedCluster, name: str) -> None:
    """The node gone at once, as a reclaimed machine goes: SIGKILL to its whole process group."""
    with suppress(ProcessLookupError):
        os.killpg(cluster.nodes[name], signal.SIGKILL)


def _alive_nodes(address: str, token: str) -> int:
    import grpc
    from ray.core.generated import gcs_pb2, gcs_service_pb2, gcs_service_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            reply = stub.GetAllNodeInfo(
                gcs_service_pb2.GetAllNodeInfoRequest(), timeout=5, metadata=(("authorization", f"Bearer {token}"),)
            )
        except grpc.RpcError:
            return 0
    return sum(node.state == gcs_pb2.GcsNodeInfo.ALIVE for node in reply.node_info_list)


@contextmanager
def _node(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the node's process group, SIGKILL what is left of it after a grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextmanager
def ray_start_cluster(
    node_env: dict[str, dict[str, str]] | None = None,
    dashboard: bool = False,
    base_env: dict[str, str] | None = None,
) -> Iterator[StartedCluster]:
    """Head and worker, one CPU each, with token auth on; ``node_env`` adds variables per node
    (``{"head": {...}, "worker": {...}}``), ``base_env`` replaces ``os.environ`` as the base."""
    token = secrets.token_hex(16)
    port = free_port()
    address = f"127.0.0.1:{port}"
    node_env = node_env or {}
    with ExitStack() as stack:
        ray_tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="lpm-ray-", dir="/tmp"))
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lpm-ray-logs-")))
        # The plain command lines of docs/cluster.md: Ray resolves 127.0.0.1 in an address to this
        # machine's IP, where the nodes then listen and find each other.
        client_env = {"RAY_TMPDIR": ray_tmp}
        env = {**(base_env if base_env is not None else os.environ), **client_env}
        # Set, it makes `ray start --address` refuse to join ("not supported on Windows and OSX").
        env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        env.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token})
        # Each node's dashboard agent (which `ray job submit` hands jobs to) listens on 52365 by
        # default: a second node on this host, or anyone else's Ray here, takes it first and the
        # agent never comes up ("No available agent to submit job"). A free port each.
        head = [_ray(), "start", "--head", "--port", str(port), "--num-cpus", "1", "--block",
                "--disable-usage-stats", "--dashboard-agent-listen-port", str(free_port())]
        dashboard_url = None
        if dashboard:
            dashboard_port = free_port()
            head += ["--include-dashboard", "true", "--dashboard-host", "127.0.0.1",
                     "--dashboard-port", str(dashboard_port)]
            dashboard_url = f"http://127.0.0.1:{dashboard_port}"
        else:
            head += ["--include-dashboard", "false"]
        worker = [_ray(), "start", "--address", address, "--num-cpus", "1", "--block",
                  "--disable-usage-stats", "--dashboard-agent-listen-port", str(free_port())]
        head_process = stack.enter_context(_node(head, {**env, **node_env.get("head", {})}, logs / "head.log"))
        _wait(lambda: _alive_nodes(address, token) >= 1, head_process, logs / "head.log")
        worker_process = stack.enter_context(_node(worker, {**env, **node_env.get("worker", {})}, logs / "worker.log"))
        _wait(lambda: _alive_nodes(address, token) >= 2, worker_process, logs / "worker.log")
        if dashboard_url:
            _wait(lambda: _dashboard_up(dashboard_url, token), head_process, logs / "head.log")
        nodes = {"head": head_process.pid, "worker": worker_process.pid}
        yield StartedCluster(address, token, dashboard_url, client_env, logs, nodes)


def _dashboard_up(url: str, token: str) -> bool:
    import urllib.request

    request = urllib.request.Request(f"{url}/api/version", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _wait(ready, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"`ray start` did not bring the node up: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
