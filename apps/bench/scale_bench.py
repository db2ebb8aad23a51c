"""``lpm-curate bench scale``: does the driver stay small, and do run-wide steps keep up, at N videos?

For each N, ``scale_replicas`` writes N videos' stored products (replicated from a real analysed
run, fresh ids) into a run store; then a fresh process, the driver, runs what the pipeline runs
after its per-video blocks, through the real Ray executor on an embedded Ray: it reads every
video's outcome (what a resumed run's driver holds), makes each run-scope stage's decision as a
task (identity, dedup, references), plans and packs the shards, and writes every manifest. Its
resident memory is sampled all along. Figures: the driver's peak RSS per N and its growth from the
smallest N to the largest, seconds per phase, bytes written, identity + dedup seconds at the
largest N.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from apps.bench.scale_replicas import make_templates, replicate
from curation.config.workflow import Workflow, load_workflow
from curation.run.run_info import read_run_info
from curation.run.run_scope_steps import split_blocks
from curation.store.run_store import RunStore


def run_scale_bench(
    source: str,
    counts: list[int],
    workdir: str | None = None,
    workers: int = 2,
    tracks: int = 5,
    segments: int = 10,
    keep: bool = False,
    shard_bytes: int = 1_000_000_000,
    store: str = "local",
    latency_ms: float = 0.0,
) -> dict[str, Any]:
    from stages.workflow_stages import WORKFLOW_STAGES

    source_store = RunStore(source)
    info = read_run_info(source_store)
    if not info or info.get("state") != "complete":
        raise ValueError(f"{source} is not a complete run directory")
    workflow = load_workflow(info["workflow"]["name"], WORKFLOW_STAGES)
    if workflow.fingerprint() != info.get("workflow_fingerprint"):
        raise ValueError(f"{source} was made by another version of workflow {workflow.name!r}; make a new source run")
    blocks, final = summary_blocks(workflow)
    templates = make_templates(source_store, blocks, final, tracks, segments)
    per_n: dict[str, Any] = {}
    if store in ("s3", "s3-files"):
        from apps.bench.local_s3 import environment, s3_endpoint, s3_filesystem

        # s3-files: a server that keeps its objects as files (10^5 videos' do not fit in memory)
        files = Path(workdir or tempfile.mkdtemp(prefix="lpm-bench-s3-")) / "s3" if store == "s3-files" else None
        with s3_endpoint(files) as env, environment(env):
            s3_filesystem(env).mkdir("bench")
            for n in sorted(counts):
                per_n[str(n)] = _measure_on_s3(templates, source_store, workflow.name, blocks, final, n, workers,
                                               shard_bytes, env, latency_ms)
                print(f"bench scale: N={n} {json.dumps(per_n[str(n)])}", file=sys.stderr, flush=True)
                if not keep:  # moto holds its objects in memory
                    s3_filesystem(env).rm(f"bench/n{n}", recursive=True)
    else:
        root = Path(workdir or tempfile.mkdtemp(prefix="lpm-bench-scale-"))
        for n in sorted(counts):
            target = root / f"n{n}"
            shutil.rmtree(target, ignore_errors=True)
            _ids, planted = replicate(templates, source_store, RunStore(str(target)), blocks, final, n)
            per_n[str(n)] = {**_drive(str(target), workflow.name, workers, shard_bytes, pack=True),
                             "planted_people": planted}
            if not keep:
                shutil.rmtree(target, ignore_errors=True)
    smallest, largest = per_n[str(min(counts))], per_n[str(max(counts))]
    barriers_at_max = {p: largest["phase_seconds"][p] for p in largest.get("barrier_stages", [])}
    return {
        "source": source,
        "store": store,
        "latency_ms": latency_ms,
        "source_videos": len(templates),
        "tracks_per_video": tracks,
        "segments_per_video": segments,
        "workers": workers,
        "shard_bytes": shard_bytes,
        "per_n": per_n,
        "driver_rss_growth_mb": largest["driver_peak_rss_mb"] - smallest["driver_peak_rss_mb"],
        "identity_dedup_seconds_at_max": largest["phase_seconds"].get("identity", 0.0)
        + largest["phase_seconds"].get("dedup", 0.0),
        "decision_load_peak_rss_mb_at_max": largest.get("decision_load_peak_rss_mb", {}),
        "barrier_seconds_max_at_max": max(barriers_at_max.values(), default=0.0),
    }


def _measure_on_s3(
    templates: list[Any], source: RunStore, workflow: str, blocks: dict[str, int], final: int, n: int, workers: int,
    shard_bytes: int, env: dict[str, str], latency_ms: float,
) -> dict[str, Any]:
    """N replicas planted straight into moto (not measured), then the driver through a proxy that
    delays every request by ``latency_ms``; the requests it made are counted at the proxy."""
    from apps.bench.faulty_proxy import FaultPlan, faulty_proxy

    uri = f"s3://bench/n{n}"
    started = time.perf_counter()
    _ids, planted = replicate(templates, source, RunStore(uri), blocks, final, n)
    plant_s = time.perf_counter() - started
    plan = FaultPlan(slow_fraction=1.0 if latency_ms > 0 else 0.0, slow_s=latency_ms / 1000)
    with faulty_proxy(env["AWS_ENDPOINT_URL"], plan) as proxy:
        # the shards are planned, not packed: see scale_replicas
        row = _drive(uri, workflow, workers, shard_bytes, pack=False, env={"AWS_ENDPOINT_URL": proxy.url})
    return {**row, "planted_people": planted, "plant_seconds": round(plant_s, 1),
            "store_requests": plan.seen["requests"], "requests_per_video": round(plan.seen["requests"] / n, 2)}


def _drive(uri: str, workflow: str, workers: int, shard_bytes: int, pack: bool,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "apps.bench.scale_driver", uri, workflow, str(workers), str(shard_bytes),
         "pack" if pack else "plan"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the driver on {uri} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary_blocks(workflow: Workflow) -> tuple[dict[str, int], int]:
    """(run-scope stage -> the block whose workers store its summaries, the last block)."""
    blocks = split_blocks(workflow.stages)
    return {run.name: i for i, (_stages, run) in enumerate(blocks) if run is not None}, len(blocks) - 1
