"""Start a two-node Ray cluster on this host with the real `ray start` command lines (token auth
on), run ``lpm-curate run`` on it, report, shut it down.

Run as a subprocess by the two-node tests (a second Ray cannot live in the test process, which
holds the shared Ray session). Usage::

    python two_node_driver.py INPUT OUT [--workflow W] [--cache-root DIR] [--kill-worker-after S]
        [--kill-worker-on-run N] [--after-kill-s S] [--video-timeout-s S] [--node-cache-gb GB]

prints one JSON object. Each node's raylet is watched while the run goes on: the titles of the
worker processes it starts (``ray::Stages[...]``, the actor pools) show which node ran what. With
``--cache-root`` each node gets its own ``LPM_CACHE_DIR`` under it (``head``/``worker``), so a
stage can only read media its own node fetched. ``--kill-worker-after S`` kills the worker node
(its `ray start`, raylet and every worker process, one process group) S seconds after it first
runs a stage, and then lets the run go on or fail on the head node alone (for ``--after-kill-s``,
20 s by default); ``--kill-worker-on-run N`` kills it instead as soon as the N-th of its worker
processes is seen holding a video (titled ``ray::Stages[...].run``, or from the class name's last
dot on: ``ray::summarize].run``): it dies with a video in flight. ``--video-timeout-s`` and
``--node-cache-gb`` are passed to ``lpm-curate run``. The nodes are stopped by their process
groups' ids (``ray_start_nodes``), never by name or ``ray stop``.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import psutil
from ray_start_nodes import kill_node, ray_start_cluster, raylet_of

RUN_TIMEOUT_S = 420
# After the kill the run either goes on on the head node or stalls waiting for the lost actors;
# the test only needs it stopped part-way, which the rerun must then finish.
KILLED_RUN_GRACE_S = 20
# How often the nodes' process titles are read: each read walks the raylets' process trees, and at
# 50 reads a second that took CPU from the run on this 2-core machine.
POLL_S = 0.1


def _busy_titles(raylet: psutil.Process) -> dict[int, str]:
    """pid -> title of each Ray process of the node that is not idle; an actor running a method is
    titled ``ray::Class.method`` (``ray::Stages[...].run`` while it holds a video)."""
    titles = {}
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
            titles[child.pid] = title.split(" ", 1)[0]
    return titles


def main(
    source: str,
    out: str,
    workflow: str,
    cache_root: str | None,
    kill_after: float | None,
    kill_on_run: int | None = None,
    after_kill_s: float = KILLED_RUN_GRACE_S,
    run_options: tuple[str, ...] = (),
) -> dict:
    node_env = {name: {"LPM_CACHE_DIR": f"{cache_root}/{name}"} for name in ("head", "worker")} if cache_root else {}
    with ray_start_cluster(node_env) as cluster:
        raylets = {name: raylet_of(pid) for name, pid in cluster.nodes.items()}
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
            *run_options,
        ]
        # The driver has the token alone: it turns token mode on itself (curation/execution/ray_auth.py).
        env = {**os.environ, **cluster.client_env, "RAY_AUTH_TOKEN": cluster.token}
        run = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        worker_busy_since = None
        worker_runners: set[int] = set()  # worker processes seen holding a video
        killed = False
        while run.poll() is None and time.monotonic() < deadline:
            for name, raylet in raylets.items():
                titles = _busy_titles(raylet)
                seen[name] |= set(titles.values())
                if name != "worker":
                    continue
                if worker_busy_since is None and any(t.startswith("ray::Stages[") for t in titles.values()):
                    worker_busy_since = time.monotonic()
                # Ray titles a running method after the class name's last dot: a pool of stages
                # ending in "identity.summarize" runs as "ray::summarize].run".
                worker_runners |= {pid for pid, t in titles.items() if t.endswith("].run")}
            busy_long_enough = (
                kill_after is not None
                and worker_busy_since is not None
                and time.monotonic() - worker_busy_since >= kill_after
            )
            running_enough = kill_on_run is not None and len(worker_runners) >= kill_on_run
            if not killed and (busy_long_enough or running_enough):
                kill_node(cluster, "worker")
                killed = True
                deadline = min(deadline, time.monotonic() + after_kill_s)
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("out")
    parser.add_argument("--workflow", default="ingest")
    parser.add_argument("--cache-root", default=None)
    parser.add_argument("--kill-worker-after", type=float, default=None)
    parser.add_argument("--kill-worker-on-run", type=int, default=None)
    parser.add_argument("--after-kill-s", type=float, default=KILLED_RUN_GRACE_S)
    parser.add_argument("--video-timeout-s", default=None)
    parser.add_argument("--node-cache-gb", default=None)
    args = parser.parse_args()
    options = tuple(
        item
        for flag, value in (("--video-timeout-s", args.video_timeout_s), ("--node-cache-gb", args.node_cache_gb))
        if value is not None
        for item in (flag, value)
    )
    report = main(args.input, args.out, args.workflow, args.cache_root, args.kill_worker_after,
                  args.kill_worker_on_run, args.after_kill_s, options)  # fmt: skip
    print(json.dumps(report))
