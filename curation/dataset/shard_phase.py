"""After the last block: pack every kept video's samples into shards, once per plan.

The plan is the sorted list of finished videos with the size of their final records, plus the
shard settings. When ``shards/_complete.json`` holds the same plan, the shards are already
written (a resumed run skips the phase); otherwise every file under ``shards/`` is removed
(orphans of a killed attempt included) and the shards are written again, deterministically.
"""

import hashlib
import json
import os
import tempfile
from typing import Any

from curation.dataset.shard_writer import SHARDS_DIR, ShardSettings, ShardWriter, committed_shards
from curation.run.ledger import Ledger, block_dir
from curation.run.run_store import RunStore

COMPLETE_MARKER = f"{SHARDS_DIR}/_complete.json"


def _plan_hash(store: RunStore, video_ids: list[str], block: int, settings: ShardSettings) -> str:
    digest = hashlib.sha256(json.dumps(settings.__dict__, sort_keys=True).encode())
    for video_id in video_ids:
        record = f"{block_dir(block)}/{video_id}.pkl"
        size = len(store.read_bytes(record)) if store.remote else store.local_path(record).stat().st_size
        digest.update(f"{video_id}:{size}\n".encode())
    return digest.hexdigest()


def pack_shards(
    store: RunStore, ledger: Ledger, block: int, video_ids: list[str], settings: ShardSettings
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """(shards manifest rows, segment key -> (shard path, key))."""
    video_ids = sorted(video_ids)
    plan = _plan_hash(store, video_ids, block, settings)
    if store.exists(COMPLETE_MARKER):
        marker = json.loads(store.read_bytes(COMPLETE_MARKER))
        if marker.get("plan") == plan:
            return marker["rows"], {k: tuple(v) for k, v in marker["locations"].items()}
    for relative in committed_shards(store):
        if store.remote:
            store.fs.rm(store.path(relative))
        else:
            os.unlink(store.local_path(relative))
    if store.remote:
        staging = tempfile.mkdtemp(prefix="lpm-shards-")
    else:
        staging = str(store.local_path(SHARDS_DIR))
        os.makedirs(staging, exist_ok=True)
    writer = ShardWriter(store, settings, staging)
    for video_id in video_ids:
        work = ledger.finished_video(video_id, block)
        if work is None or work.state != "kept":
            continue
        segments = {s.get("key"): s for s in work.segments if s.get("key")}
        for key, members in sorted(work.extras.get("samples", []), key=lambda km: km[0]):
            writer.add(writer.bucket_of(segments[key]), key, members)
    rows = writer.close()
    locations = writer.locations
    store.write_bytes(COMPLETE_MARKER, json.dumps({"plan": plan, "rows": rows, "locations": locations}).encode())
    return rows, locations
