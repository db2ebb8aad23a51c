"""After the last block: plan the shards, then pack each one in its own task.

The plan (``curation.dataset.shard_plan``) is made by one task that reads the kept videos'
sample lists from the run store and stored as ``shards/_plan.json``; then every shard is packed
by a task that reads its samples' members from the videos' sample archives and commits the tar
and its index (``ShardWriter``). A resumed run keeps every shard whose index exists under the
same plan; when the plan changed, every file under ``shards/`` is removed first. The driver only
sees the plan's shard list and one manifest row per shard.
"""

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from curation.dataset.shard_plan import PlannedShard, ShardPlan, plan_shards
from curation.dataset.shard_writer import SHARDS_DIR, ShardSettings, ShardWriter, committed_shards
from curation.runtime.products import SampleSet
from curation.runtime.resources import Resources
from curation.store.artefacts import BlobArchive
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore

PLAN_FILE = f"{SHARDS_DIR}/_plan.json"
PACK_RESOURCES = Resources(cpus=0.5)


@dataclass(frozen=True)
class PlanRequest:
    run_uri: str
    block: int
    video_ids: tuple[str, ...]  # kept videos with samples
    settings: ShardSettings


@dataclass(frozen=True)
class PackRequest:
    run_uri: str
    block: int
    shard: PlannedShard
    settings: ShardSettings


def make_plan(request: PlanRequest) -> list[PlannedShard]:
    """Plan the shards and store the plan; stale shards of another plan are removed first."""
    store = RunStore(request.run_uri)
    ledger = Ledger(store)
    fields = ledger.records_fields(sorted(request.video_ids), request.block, {"samples": SampleSet})
    sample_sets = ((v, f["samples"]) for v, f in sorted(fields.items()) if f is not None)
    plan = plan_shards(((v, s) for v, s in sample_sets if s is not None), request.settings)
    if not store.exists(PLAN_FILE) or json.loads(store.read_bytes(PLAN_FILE)).get("digest") != plan.digest():
        for relative in committed_shards(store):
            store.remove(relative)
        store.write_bytes(PLAN_FILE, plan.to_json())
    return plan.shards


def read_plan(store: RunStore) -> ShardPlan | None:
    return ShardPlan.from_json(store.read_bytes(PLAN_FILE)) if store.exists(PLAN_FILE) else None


def pack_shard(request: PackRequest) -> dict[str, Any]:
    """Write one planned shard unless it is already committed; returns its manifest row."""
    store = RunStore(request.run_uri)
    shard = request.shard
    index_path = shard.path.removesuffix(".tar") + ".json"
    if store.exists(index_path) and store.exists(shard.path):
        return _row_from_index(store, shard, index_path)
    staging = tempfile.mkdtemp(prefix="lpm-shards-") if store.remote else store.writable_path(SHARDS_DIR)
    os.makedirs(staging, exist_ok=True)
    writer = ShardWriter(store, request.settings, staging)
    return writer.write_shard(shard.bucket, shard.number, _samples(store, request.block, shard))


def _samples(store: RunStore, block: int, shard: PlannedShard) -> Iterator[tuple[str, dict[str, bytes]]]:
    ledger = Ledger(store)
    archives: dict[str, tuple[SampleSet, BlobArchive]] = {}
    try:
        for video_id, key in shard.samples:
            if video_id not in archives:
                samples = ledger.record_field(video_id, block, "samples", SampleSet)
                archives[video_id] = (samples, BlobArchive(store.uri, samples.archive))
            samples, archive = archives[video_id]
            entry = next(e for e in samples.entries if e.key == key)
            yield key, {ext: archive.get(entry.member_name(ext)) for ext in entry.member_sizes}
    finally:
        for _samples_of, archive in archives.values():
            archive.__exit__()


def _row_from_index(store: RunStore, shard: PlannedShard, index_path: str) -> dict[str, Any]:
    index = json.loads(store.read_bytes(index_path))
    return {
        "shard": index["shard"],
        "path": shard.path,
        "bucket": index["bucket"],
        "n_samples": index["n_samples"],
        "bytes": index["bytes"],
        "sha256": index["sha256"],
        "index_path": index_path,
    }
