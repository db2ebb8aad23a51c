"""After the last block: pack every kept video's samples into shards, once per plan.

The plan is the sorted list of finished videos plus the shard settings. When
``shards/_complete.json`` holds the same plan, the shards are already
written (a resumed run skips the phase); otherwise every file under ``shards/`` is removed
(orphans of a killed attempt included) and the shards are written again, deterministically.
"""

import hashlib
import json
import os
import tempfile
from typing import Any

from curation.dataset.shard_writer import SHARDS_DIR, ShardSettings, ShardWriter, committed_shards
from curation.run.ledger import Ledger
from curation.run.run_store import RunStore

COMPLETE_MARKER = f"{SHARDS_DIR}/_complete.json"


def _plan_hash(video_ids: list[str], settings: ShardSettings) -> str:
    """The shards follow from the finished videos and the settings alone: the records themselves are
    deterministic for a workflow fingerprint (a resumed run refuses another fingerprint), while their
    pickled bytes are not (they differ between executors)."""
    payload = {"settings": settings.__dict__, "videos": sorted(video_ids)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def pack_shards(
    store: RunStore, ledger: Ledger, block: int, video_ids: list[str], settings: ShardSettings
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """(shards manifest rows, segment key -> (shard path, key))."""
    video_ids = sorted(video_ids)
    plan = _plan_hash(video_ids, settings)
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
