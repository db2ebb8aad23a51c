"""After the last block: plan the shards, then pack each one in its own task.

The plan (``curation.dataset.shard_plan``) is made by one task that reads the kept videos'
sample lists from the run store and stored as ``shards/_plan.json``, and each shard's list of
samples apart (``work/shard_plan/<shard>.json``); then every shard is packed by a task that reads
its list, then its samples' members from the videos' sample archives, and commits the tar and its
index (``ShardWriter``). A resumed run keeps every shard whose index exists under the same plan;
when the plan changed, every file under ``shards/`` is removed first. The driver only sees the
shards' names (not their samples: ten a video, ~2 KB a video of tuples) and one manifest row per
shard.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace

from curation.dataset.shard_plan import PlannedShard, ShardPlan, plan_shards
from curation.dataset.shard_writer import SHARDS_DIR, ShardSettings, ShardWriter, committed_shards, staging_folder
from curation.runtime.products import SampleSet
from curation.runtime.resources import Resources
from curation.store.artefacts import BlobArchive
from curation.store.concurrent_reads import read_concurrently, store_readers
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from schemas.shard_index import ShardIndex, index_path_of
from schemas.tables import ShardRow

PLAN_FILE = f"{SHARDS_DIR}/_plan.json"
SAMPLES_DIR = "work/shard_plan"  # each planned shard's samples, for the task that packs it
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
    shard: PlannedShard  # without its samples: the task reads them (``SAMPLES_DIR``)
    settings: ShardSettings


def make_plan(request: PlanRequest) -> list[PlannedShard]:
    """Plan the shards and store the plan; stale shards of another plan are removed first.
    Returns the shards without their samples."""
    store = RunStore(request.run_uri)
    ledger = Ledger(store)
    fields = ledger.records_fields(sorted(request.video_ids), request.block, {"samples": SampleSet})
    sample_sets = ((v, f["samples"]) for v, f in sorted(fields.items()) if f is not None)
    plan = plan_shards(((v, s) for v, s in sample_sets if s is not None), request.settings)
    changed = not store.exists(PLAN_FILE) or json.loads(store.read_bytes(PLAN_FILE)).get("digest") != plan.digest()
    if changed:
        for relative in committed_shards(store):
            store.remove(relative)
        store.remove(SAMPLES_DIR)

    def save_samples(number: int) -> None:
        shard = plan.shards[number]
        store.write_bytes(_samples_path(shard), json.dumps(shard.samples).encode())

    # Every time, before the plan (which marks them written): a plan stored by a version that kept
    # no lists apart has them written here. A few hundred objects at 10^5 videos, several at once.
    read_concurrently(save_samples, range(len(plan.shards)), store_readers(store.remote))
    if changed:
        store.write_bytes(PLAN_FILE, plan.to_json())
    return [replace(shard, samples=[]) for shard in plan.shards]


def _samples_path(shard: PlannedShard) -> str:
    return f"{SAMPLES_DIR}/{shard.path.removeprefix(SHARDS_DIR + '/').removesuffix('.tar')}.json"


def read_plan(store: RunStore) -> ShardPlan | None:
    return ShardPlan.from_json(store.read_bytes(PLAN_FILE)) if store.exists(PLAN_FILE) else None


def pack_shard(request: PackRequest) -> ShardRow:
    """Write one planned shard unless it is already committed; returns its manifest row."""
    store = RunStore(request.run_uri)
    shard = request.shard
    index_path = index_path_of(shard.path)
    if store.exists(index_path) and store.exists(shard.path):
        return _row_from_index(store, shard, index_path)
    planned = [(video_id, key) for video_id, key in json.loads(store.read_bytes(_samples_path(shard)))]
    with staging_folder(store) as staging:
        writer = ShardWriter(store, request.settings, staging)
        return writer.write_shard(shard.bucket, shard.number, _samples(store, request.block, planned))


def _samples(store: RunStore, block: int, planned: list[tuple[str, str]]) -> Iterator[tuple[str, dict[str, bytes]]]:
    ledger = Ledger(store)
    archives: dict[str, tuple[SampleSet, BlobArchive]] = {}
    try:
        for video_id, key in planned:
            if video_id not in archives:
                samples = ledger.record_field(video_id, block, "samples", SampleSet)
                archives[video_id] = (samples, BlobArchive(store.uri, samples.archive))
            samples, archive = archives[video_id]
            entry = next(e for e in samples.entries if e.key == key)
            yield key, {ext: archive.get(entry.member_name(ext)) for ext in entry.member_sizes}
    finally:
        for _samples_of, archive in archives.values():
            archive.__exit__()


def _row_from_index(store: RunStore, shard: PlannedShard, index_path: str) -> ShardRow:
    return ShardIndex.from_json(store.read_bytes(index_path), index_path).manifest_row(shard.path, index_path)
