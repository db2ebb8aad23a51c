"""Start a two-node Ray cluster on 127.0.0.1, run ``lpm-curate run`` on it, report, shut it down.

Run as a subprocess by the two-node tests (a second Ray cannot live in the test process, which
holds the shared Ray session). Usage::

    python two_node_driver.py INPUT OUT [--workflow W] [--cache-root DIR] [--kill-worker-after S]

prints one JSON object. Each node's raylet is watched while the run goes on: the titles of the
worker processes it starts (``ray::Stages[...]``, the actor pools) show which node ran what. With
``--cache-root`` each node gets its own ``LPM_CACHE_DIR`` under it (``head``/``worker``), so a
stage can only read media its own node fetched. ``--kill-worker-after S`` removes the worker node
(its raylet and every worker process it started) S seconds after it first runs a stage, and then
lets the run go on or fail on the head node alone. The cluster's processes are ended through
their own handles (``Cluster.shutdown`` / ``remove_node``), never by name.
"""

import argparse
import json
import subprocess
import sys
import time

import psutil
from ray._private import ray_constants
from ray.cluster_utils import Cluster

NODE_ARGS = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
RUN_TIMEOUT_S = 420
# After the kill the run either goes on on the head node or stalls waiting for the lost actors;
# the test only needs it stopped part-way, which the rerun must then finish.
KILLED_RUN_GRACE_S = 20
# How often the nodes' process titles are read: each read walks the raylets' process trees, and at
# 50 reads a second that took CPU from the run on this 2-core machine.
POLL_S = 0.1


def _raylet(node: object) -> psutil.Process:
    return psutil.Process(node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid)  # type: ignore[attr-defined]


def _busy_titles(raylet: psutil.Process) -> set[str]:
    titles = set()
    try:
        children = raylet.children(recursive=True)
    except psutil.NoSuchProcess:
        return titles
    for child in children:
        try:
            title = " ".join(child.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if title.startswith("ray::") and not title.startswith("ray::IDLE"):
            titles.add(title.split(" ", 1)[0])
    return titles


def _node_args(cache_root: str | None, name: str) -> dict:
    args = dict(NODE_ARGS)
    if cache_root:
        args["env_vars"] = {"LPM_CACHE_DIR": f"{cache_root}/{name}"}
    return args


def main(source: str, out: str, workflow: str, cache_root: str | None, kill_after: float | None) -> dict:
    cluster = Cluster(initialize_head=True, head_node_args=_node_args(cache_root, "head"))
    try:
        worker = cluster.add_node(**_node_args(cache_root, "worker"))
        cluster.wait_for_nodes()
        raylets = {"head": _raylet(cluster.head_node), "worker": _raylet(worker)}
        seen: dict[str, set[str]] = {name: set() for name in raylets}
        command = [
            sys.executable,
            "-m",
            "apps.cli.main",
            "run",
            "--input",
            source,
            "--out",
            out,
            "--workflow",
            workflow,
            "--ray-address",
            cluster.address,
        ]
        run = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        worker_busy_since = None
        killed = False
        while run.poll() is None and time.monotonic() < deadline:
            for name, raylet in raylets.items():
                titles = _busy_titles(raylet)
                seen[name] |= titles
                if name == "worker" and worker_busy_since is None and any(t.startswith("ray::Stages[") for t in titles):
                    worker_busy_since = time.monotonic()
            if (
                kill_after is not None
                and not killed
                and worker_busy_since is not None
                and time.monotonic() - worker_busy_since >= kill_after
            ):
                cluster.remove_node(worker, allow_graceful=False)
                killed = True
                deadline = min(deadline, time.monotonic() + KILLED_RUN_GRACE_S)
            time.sleep(POLL_S)
        if run.poll() is None:
            run.kill()
        stdout, stderr = run.communicate(timeout=60)
        return {
            "address": cluster.address,
            "nodes": 2,
            "killed_worker": killed,
            "returncode": run.returncode,
            "stdout": stdout.decode(errors="replace")[-3000:],
            "stderr": stderr.decode(errors="replace")[-3000:],
            "titles": {name: sorted(titles) for name, titles in seen.items()},
        }
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("out")
    parser.add_argument("--workflow", default="ingest")
    parser.add_argument("--cache-root", default=None)
    parser.add_argument("--kill-worker-after", type=float, default=None)
    args = parser.parse_args()
    print(json.dumps(main(args.input, args.out, args.workflow, args.cache_root, args.kill_worker_after)))
