"""Start a two-node Ray cluster on 127.0.0.1, run ``lpm-curate run`` on it, report, shut it down.

Run as a subprocess by ``test_two_node_cluster.py`` (a second Ray cannot live in the test process,
which holds the shared Ray session). Usage: ``python two_node_driver.py INPUT OUT``; prints one
JSON object. Each node's raylet is watched while the run goes on: the titles of the worker
processes it starts (``ray::MapBatches(...)``) show which node ran what. The cluster's processes
are ended through their own handles (``Cluster.shutdown``), never by name.
"""

import json
import subprocess
import sys
import time

import psutil
from ray._private import ray_constants
from ray.cluster_utils import Cluster

NODE_ARGS = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
RUN_TIMEOUT_S = 240


def _raylet(node: object) -> psutil.Process:
    return psutil.Process(node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid)  # type: ignore[attr-defined]


def _busy_titles(raylet: psutil.Process) -> set[str]:
    titles = set()
    for child in raylet.children(recursive=True):
        try:
            title = " ".join(child.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if title.startswith("ray::") and not title.startswith("ray::IDLE"):
            titles.add(title.split(" ", 1)[0])
    return titles


def main(source: str, out: str) -> dict:
    cluster = Cluster(initialize_head=True, head_node_args=dict(NODE_ARGS))
    try:
        worker = cluster.add_node(**NODE_ARGS)
        cluster.wait_for_nodes()
        raylets = {"head": _raylet(cluster.head_node), "worker": _raylet(worker)}
        seen: dict[str, set[str]] = {name: set() for name in raylets}
        command = [
            sys.executable,
            "-m",
            "curation.cli.main",
            "run",
            "--input",
            source,
            "--out",
            out,
            "--workflow",
            "ingest",
            "--ray-address",
            cluster.address,
        ]
        run = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while run.poll() is None and time.monotonic() < deadline:
            for name, raylet in raylets.items():
                seen[name] |= _busy_titles(raylet)
            time.sleep(0.02)
        if run.poll() is None:
            run.kill()
        stdout, stderr = run.communicate(timeout=60)
        return {
            "address": cluster.address,
            "nodes": len(cluster.list_all_nodes()),
            "returncode": run.returncode,
            "stdout": stdout.decode(errors="replace")[-3000:],
            "stderr": stderr.decode(errors="replace")[-3000:],
            "titles": {name: sorted(titles) for name, titles in seen.items()},
        }
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
