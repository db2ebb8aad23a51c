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
import shutil
import subprocess
import sys
import tempfile
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
    root = Path(workdir or tempfile.mkdtemp(prefix="lpm-bench-scale-"))
    per_n: dict[str, Any] = {}
    for n in sorted(counts):
        target = root / f"n{n}"
        shutil.rmtree(target, ignore_errors=True)
        _ids, planted = replicate(templates, source_store, RunStore(str(target)), blocks, final, n)
        done = subprocess.run(
            [sys.executable, "-m", "apps.bench.scale_driver", str(target), workflow.name, str(workers),
             str(shard_bytes)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the driver at N={n} failed: {done.stderr[-3000:]}")
        per_n[str(n)] = {**json.loads(done.stdout.strip().splitlines()[-1]), "planted_people": planted}
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
    smallest, largest = per_n[str(min(counts))], per_n[str(max(counts))]
    return {
        "source": source,
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
    }


def summary_blocks(workflow: Workflow) -> tuple[dict[str, int], int]:
    """(run-scope stage -> the block whose workers store its summaries, the last block)."""
    blocks = split_blocks(workflow.stages)
    return {run.name: i for i, (_stages, run) in enumerate(blocks) if run is not None}, len(blocks) - 1
