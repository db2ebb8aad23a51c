"""``lpm-curate bench scale``: does the driver stay small, and do run-wide steps keep up, at N videos?

For each N, ``scale_replicas`` writes N videos' stored products (replicated from a real analysed
run, fresh ids) into a run store; then a fresh process, the driver, runs what the pipeline runs
after its per-video blocks, through the real Ray executor on an embedded Ray: it reads every
video's outcome (what a resumed run's driver holds), makes each run-scope stage's decision as a
task (identity, dedup, references), plans and packs the shards, and writes every manifest. Its
resident memory is sampled all along. Figures: the driver's peak RSS per N and its growth from the
smallest N to the largest, seconds per phase, bytes written, identity + dedup seconds at the
largest N.

Planting is setup, not measured, and at 10^5 videos it takes longer than the phases measured
after it: with ``--keep`` and a ``--workdir``, an object store's replicas are kept with a note
(``bench_planted.json``, written last), and a later run with the same settings drives the same
replicas again (what an earlier drive wrote removed first) instead of planting them anew;
``--plant-only`` plants (or checks) them and drives nothing.
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
from curation.dataset.shard_phase import PLAN_FILE, SAMPLES_DIR
from curation.manifests.manifest_writer import MANIFEST_DIR
from curation.run.run_info import read_run_info
from curation.run.run_scope_steps import split_blocks
from curation.store.ledger import DECISIONS_DIR
from curation.store.run_store import RunStore

PLANTED_NOTE = "bench_planted.json"
# what a drive writes into the replicated store (decisions, the shard plan, the manifests): gone
# before the replicas are driven again, so every drive starts from what planting left
DRIVER_OUTPUTS = (DECISIONS_DIR, SAMPLES_DIR, PLAN_FILE, MANIFEST_DIR)


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
    plant_only: bool = False,
) -> dict[str, Any]:
    from stages.workflow_stages import WORKFLOW_STAGES

    source_store = RunStore(source)
    info = read_run_info(source_store)
    if not info or not info.complete or info.workflow_name is None:
        raise ValueError(f"{source} is not a complete run directory")
    workflow = load_workflow(info.workflow_name, WORKFLOW_STAGES)
    if workflow.fingerprint() != info.workflow_fingerprint:
        raise ValueError(f"{source} was made by another version of workflow {workflow.name!r}; make a new source run")
    blocks, final = summary_blocks(workflow)
    templates = make_templates(source_store, blocks, final, tracks, segments)
    settings = {"source": source_store.uri, "workflow_fingerprint": workflow.fingerprint(), "tracks": tracks,
                "segments": segments, "templates": len(templates)}
    per_n: dict[str, Any] = {}
    if plant_only and (store != "s3-files" or not keep):
        raise ValueError("planting alone is for s3rver's replicas, kept in files for a later drive (--keep)")
    if store in ("s3", "s3-files"):
        from apps.bench.local_s3 import environment, s3_endpoint, s3_filesystem

        # s3-files: a server that keeps its objects as files (10^5 videos' do not fit in memory)
        files = Path(workdir or tempfile.mkdtemp(prefix="lpm-bench-s3-")) / "s3" if store == "s3-files" else None
        with s3_endpoint(files) as env, environment(env):
            if not s3_filesystem(env).exists("bench"):  # kept from an earlier run
                s3_filesystem(env).mkdir("bench")
            for n in sorted(counts):
                replicas = RunStore(f"s3://bench/n{n}")
                planting = _planted(templates, source_store, replicas, blocks, final, n, settings)
                if plant_only:
                    per_n[str(n)] = planting
                else:
                    per_n[str(n)] = {**_measure_on_s3(replicas.uri, workflow.name, workers, shard_bytes, env,
                                                      latency_ms, n), **planting}
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
    if plant_only:
        return {"source": source, "store": store, "planted_only": True, "per_n": per_n}
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


def _planted(templates: list[Any], source: RunStore, replicas: RunStore, blocks: dict[str, int], final: int, n: int,
             settings: dict[str, Any]) -> dict[str, Any]:
    """N replicas in ``replicas``: planted now, or found there whole (planted with these settings by
    an earlier run, what its drive wrote removed)."""
    try:
        note = json.loads(replicas.read_bytes(PLANTED_NOTE))
    except FileNotFoundError:
        note = None
    if note is not None:
        if note["settings"] != {**settings, "videos": n}:
            raise ValueError(f"{replicas.uri} holds replicas planted with {note['settings']}, not "
                             f"{ {**settings, 'videos': n} }: give another --workdir")
        for output in DRIVER_OUTPUTS:
            replicas.remove(output)
        print(f"bench scale: N={n} reusing the replicas planted at {replicas.uri}", file=sys.stderr, flush=True)
        return {"planted_people": note["planted_people"], "plant_seconds": note["plant_seconds"],
                "planted_earlier": True}
    replicas.remove("")  # a planting that was killed half way
    started = time.perf_counter()
    _ids, planted = replicate(templates, source, replicas, blocks, final, n)
    plant_s = round(time.perf_counter() - started, 1)
    note = {"settings": {**settings, "videos": n}, "planted_people": planted, "plant_seconds": plant_s}
    replicas.write_bytes(PLANTED_NOTE, json.dumps(note, indent=1).encode())
    return {"planted_people": planted, "plant_seconds": plant_s, "planted_earlier": False}


def _measure_on_s3(uri: str, workflow: str, workers: int, shard_bytes: int, env: dict[str, str], latency_ms: float,
                   n: int) -> dict[str, Any]:
    """The driver on N planted replicas, through a proxy that delays every request by
    ``latency_ms``; the requests it made are counted at the proxy."""
    from apps.bench.faulty_proxy import FaultPlan, faulty_proxy

    plan = FaultPlan(slow_fraction=1.0 if latency_ms > 0 else 0.0, slow_s=latency_ms / 1000)
    with faulty_proxy(env["AWS_ENDPOINT_URL"], plan) as proxy:
        # the shards are planned, not packed: see scale_replicas
        row = _drive(uri, workflow, workers, shard_bytes, pack=False, env={"AWS_ENDPOINT_URL": proxy.url})
    return {**row, "store_requests": plan.seen["requests"], "requests_per_video": round(plan.seen["requests"] / n, 2)}


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
