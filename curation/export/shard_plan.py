"""Which samples go to which shard of an export, known before a byte is written.

A shard's size is the sum of its members' tar blocks (a 512-byte header plus the data padded to
512 bytes; the shard writer's tar headers are plain USTAR), read from the source indexes, and a
shard closes once it reaches the target, as in a run. Knowing the plan up front is what lets a
re-run after a kill keep the shards already committed (same number, same keys, intact bytes) and
write only the rest.
"""

import hashlib
from dataclasses import dataclass

from curation.dataset.shard_reader import load_index
from curation.dataset.shard_writer import SHARDS_DIR, shard_name
from curation.store.run_store import RunStore
from schemas.shard_index import ShardSample, index_path_of
from schemas.tables import ShardRow

TAR_BLOCK = 512


@dataclass(frozen=True)
class PlannedSample:
    segment_id: str
    source_shard: str
    key: str


def member_blocks(size: int) -> int:
    return TAR_BLOCK + -(-size // TAR_BLOCK) * TAR_BLOCK


def plan_shards(source: RunStore, chosen: list[PlannedSample], target_bytes: int) -> list[list[PlannedSample]]:
    indexes: dict[str, dict[str, ShardSample]] = {}
    plan: list[list[PlannedSample]] = []
    current: list[PlannedSample] = []
    size = 0
    for sample in chosen:
        if sample.source_shard not in indexes:
            index = load_index(source, sample.source_shard)
            indexes[sample.source_shard] = {s.key: s for s in index.samples}
        members = indexes[sample.source_shard][sample.key].members
        current.append(sample)
        size += sum(member_blocks(m.size) for m in members.values())
        if size >= target_bytes:
            plan.append(current)
            current, size = [], 0
    if current:
        plan.append(current)
    return plan


def committed_shard(dest: RunStore, number: int, samples: list[PlannedSample]) -> ShardRow | None:
    """The shards-manifest row of shard ``number`` when it is already written whole with exactly
    these samples (its index lists their keys and its bytes match the index's SHA-256), else None."""
    relative = f"{SHARDS_DIR}/{shard_name('', number)}"
    index_path = index_path_of(relative)
    if not (dest.exists(relative) and dest.exists(index_path)):
        return None
    try:
        index = load_index(dest, relative)
        data = dest.read_bytes(relative)
    except (OSError, ValueError):
        return None
    if index.keys() != [s.key for s in samples]:
        return None
    if len(data) != index.bytes or hashlib.sha256(data).hexdigest() != index.sha256:
        return None
    return index.manifest_row(relative, index_path)
