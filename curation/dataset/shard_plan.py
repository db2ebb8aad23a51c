"""The shard plan: which sample goes to which shard, fixed before any shard is written.

Made from the kept videos' sample lists (keys, buckets and member sizes, read from their records
in the run store) and the shard settings, in a fixed order (sorted video ids, then keys): each
bucket's open shard takes samples until its tar reaches ``target_bytes``, exactly as a serial
writer would fill it. Every shard can then be packed by its own task, and the shards are the
same bytes whatever runs them, however many workers, and after any kill and resume.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from curation.dataset.shard_writer import SHARDS_DIR, ShardSettings, shard_name, tar_member_bytes
from curation.runtime.products import SampleSet


@dataclass
class PlannedShard:
    bucket: str
    number: int
    samples: list[tuple[str, str]] = field(default_factory=list)  # (video_id, key)

    @property
    def path(self) -> str:
        return f"{SHARDS_DIR}/{shard_name(self.bucket, self.number)}"


@dataclass
class ShardPlan:
    settings: ShardSettings
    shards: list[PlannedShard]

    def digest(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()

    def locations(self) -> dict[str, str]:
        """Sample key -> its shard's path."""
        return {key: shard.path for shard in self.shards for _video, key in shard.samples}

    def to_json(self) -> bytes:
        return json.dumps({"digest": self.digest(), **asdict(self)}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "ShardPlan":
        raw = json.loads(data)
        return cls(
            settings=ShardSettings(**raw["settings"]),
            shards=[
                PlannedShard(s["bucket"], s["number"], [tuple(x) for x in s["samples"]]) for s in raw["shards"]
            ],
        )


def plan_shards(sample_sets: Iterable[tuple[str, SampleSet]], settings: ShardSettings) -> ShardPlan:
    """``sample_sets``: (video_id, its samples) in sorted video-id order."""
    shards: list[PlannedShard] = []
    open_shards: dict[str, tuple[PlannedShard, int]] = {}
    numbers: dict[str, int] = {}
    for video_id, samples in sample_sets:
        for entry in sorted(samples.entries, key=lambda e: e.key):
            shard, size = open_shards.get(entry.bucket, (None, 0))
            if shard is None:
                shard = PlannedShard(entry.bucket, numbers.get(entry.bucket, 0))
                numbers[entry.bucket] = shard.number + 1
                shards.append(shard)
            shard.samples.append((video_id, entry.key))
            size += sum(tar_member_bytes(n) for n in entry.member_sizes.values())
            if size >= settings.target_bytes:
                open_shards.pop(entry.bucket, None)
            else:
                open_shards[entry.bucket] = (shard, size)
    return ShardPlan(settings, shards)
