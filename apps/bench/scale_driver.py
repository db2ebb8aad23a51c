"""The driver of one ``bench scale`` measurement, in a process of its own so its memory is its own.

``python -m apps.bench.scale_driver RUN_STORE WORKFLOW WORKERS SHARD_BYTES pack|plan`` runs, on the
replicated store, what the pipeline's driver runs after the per-video blocks (the same functions),
on an embedded Ray with WORKERS CPUs, and prints one JSON object: peak RSS, seconds per phase,
bytes. ``plan`` plans the shards without packing them (the manifests then place every sample by
the plan and have no shards table).
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil

from apps.bench.rss_sampler import RssSampler
from apps.bench.scale_bench import summary_blocks
from curation.config.workflow import load_workflow
from curation.dataset.shard_phase import PACK_RESOURCES, PlanRequest, make_plan
from curation.execution.ray_executor import RayExecutor
from curation.ingest.content_id import InputIdentity
from curation.run.pipeline import RunRequest, resume_block, write_manifests, write_shards
from curation.run.run_scope_steps import DecideRequest, decide_and_store
from curation.run.video_index import VideoIndex
from curation.runtime.run_scope_stage import RunScopeStage
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore


def measure(run_uri: str, workflow_name: str, workers: int, shard_bytes: int, pack: bool = True) -> dict[str, Any]:
    from stages.workflow_stages import WORKFLOW_STAGES

    # the shards of a real run (the default workflow's 1 GB), whatever the source run used
    workflow = load_workflow(workflow_name, WORKFLOW_STAGES, [f"samples.shard_target_bytes={shard_bytes}"])
    blocks, final = summary_blocks(workflow)
    store = RunStore(run_uri)
    ledger = Ledger(store)
    executor = RayExecutor(workers=workers)
    seconds: dict[str, float] = {}

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds[name] = round(time.perf_counter() - started, 2)

    start_mb = psutil.Process().memory_info().rss / 2**20
    with RssSampler(interval=0.05, children=False) as rss, VideoIndex() as index:
        with phase("outcomes"):
            # what the pipeline's driver holds at a resume after the blocks: the input list (one
            # input a video here), each input's identity and each video's outcome (in its index)
            uris = [f"bench://{video_id}.mp4" for video_id in sorted(ledger.finished_video_ids(final))]
            if not uris:
                raise RuntimeError(f"{run_uri}: no finished video listed in block {final}")
            index.add_inputs(uris)
            index.set_identities(InputIdentity(uri, _video_id(uri), None, None) for uri in uris)
            index.choose_primaries()
            resume_block(ledger, index, final, retry_failed=False)
            # a size that grows with the video, as a file's does
            index.set_identities(
                InputIdentity(f"bench://{o.video_id}.mp4", o.video_id, int(o.duration_s * 250_000), None)
                for o in index.outcomes()
            )
        run_stages = [s for s in workflow.stages if isinstance(s, RunScopeStage)]
        decision_load: dict[str, Any] = {}
        for stage in run_stages:
            with phase(stage.name):
                request = DecideRequest(stage, run_uri, blocks[stage.name], tuple(index.video_ids()))
                list(executor.map(decide_and_store, [request], stage.decide_resources()))
                del request
            decision_load[stage.name] = _decision_load(run_uri, stage.name, _middle(index))
        request = RunRequest(input="", out=run_uri, workflow=workflow)
        if pack:
            with phase("shards"):
                shard_rows = write_shards(request, store, executor, final, index, lambda *_: None)
        else:
            with phase("shard_plan"):
                shard_rows = None
                _plan_shards(workflow, store, executor, final, index)
        with phase("manifests"):
            accounting, tables, _seconds_out = write_manifests(
                store, executor, uris, index, shard_rows, run_stages, final, lambda *_: None
            )
        n_videos = index.n_videos
    return {
        "videos": n_videos,
        "driver_start_rss_mb": round(start_mb, 1),
        "driver_peak_rss_mb": round(rss.peak_process_mb, 1),
        "phase_seconds": seconds,
        # a run-wide barrier: every video's summary read, the decision made and stored
        "barrier_stages": [stage.name for stage in run_stages],
        "barrier_seconds": {stage.name: seconds[stage.name] for stage in run_stages},
        "shards_packed": pack,
        # an actor of the next block loading the decision for one video (a process of its own)
        "decision_load_peak_rss_mb": {name: row["load_peak_rss_growth_mb"] for name, row in decision_load.items()},
        "decision_sliced": {name: row["sliced"] for name, row in decision_load.items()},
        "bytes_written": {folder: _bytes(store, folder) for folder in ("shards", "manifest", "work/decisions")},
        "tables": tables,
        "kept": accounting.kept,
    }


def _plan_shards(workflow: Any, store: RunStore, executor: RayExecutor, final: int, index: VideoIndex) -> int:
    source = next(s for s in workflow.stages if hasattr(s, "shard_settings"))
    with_samples = tuple(index.with_outcome("kept", with_samples=True))
    plan_request = PlanRequest(store.uri, final, with_samples, source.shard_settings())
    return len(next(iter(executor.map(make_plan, [plan_request], PACK_RESOURCES))))


def _video_id(uri: str) -> str:
    return uri.removeprefix("bench://").removesuffix(".mp4")


def _middle(index: VideoIndex) -> str:
    ids = index.video_ids()
    return ids[len(ids) // 2]


def _decision_load(run_uri: str, stage: str, video_id: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "apps.bench.decision_load", run_uri, stage, video_id],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _bytes(store: RunStore, folder: str) -> int:
    if store.remote:
        path = store.path(folder)
        return int(store.fs.du(path)) if store.fs.exists(path) else 0
    root = store.local_path(folder)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _dirs, files in os.walk(root) for f in files)


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] != ["plan"])))
