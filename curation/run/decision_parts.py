"""A run-wide decision cut into per-video parts, stored in buckets, read a bucket at a time.

At 20k identities over 100k tracks the identity decision is a JSON of hundreds of MB; every actor
of the next block loaded all of it to look up its own video's few tracks. A stage that can say
what one video needs of its decision (``RunScopeStage.video_decision``) has those parts stored in
``PART_BUCKETS`` buckets by a hash of the video id (``work/decisions/<stage>.parts/<bucket>``);
an actor reads the bucket of the video in hand, keeps only the last one, and never holds the
whole decision. The whole decision is still stored: the manifest phase writes its run-level rows.
"""

import hashlib
import types
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from curation.store.concurrent_reads import read_concurrently, store_readers
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore

PART_BUCKETS = 256  # at 10^5 videos ~400 videos a bucket; at 10^3 a few


def bucket_of(video_id: str) -> int:
    return int(hashlib.sha256(video_id.encode()).hexdigest()[:8], 16) % PART_BUCKETS


def parts_name(stage: str, bucket: int) -> str:
    return f"{stage}.parts/{bucket:03d}"


def save_parts(ledger: Ledger, stage: str, plan: str, parts: dict[str, Any]) -> int:
    """Store every video's part in its bucket (buckets without videos are not written), several
    at once: one after another, 256 buckets of two objects are ~10 s of round trips on S3."""
    buckets: dict[int, dict[str, Any]] = defaultdict(dict)
    for video_id, part in parts.items():
        buckets[bucket_of(video_id)][video_id] = part

    def save(bucket: int) -> None:
        ledger.save_decision(parts_name(stage, bucket), plan, buckets[bucket], parts=None)

    read_concurrently(save, sorted(buckets), store_readers(ledger.store.remote))  # any store call, bounded
    return len(buckets)


class MissingPartError(LookupError):
    """A video the decision has no part for: it was not among the videos the decision covered."""


@dataclass
class DecisionParts:
    """What an actor holds instead of a whole decision (picklable: it travels to Ray workers)."""

    run_uri: str
    stage: str
    plan: str
    hint: Any = Any  # the stage's decision type (``RunScopeStage.decision_hint``): a part has its shape
    _bucket: int | None = field(default=None, repr=False)
    _videos: dict[str, Any] = field(default_factory=dict, repr=False)

    def for_video(self, video_id: str) -> Any:
        bucket = bucket_of(video_id)
        if bucket != self._bucket:
            bucket_hint = types.GenericAlias(dict, (str, self.hint))  # a bucket: video id -> its part
            stored = Ledger(RunStore(self.run_uri)).decision(parts_name(self.stage, bucket), bucket_hint)
            if stored is None or stored[0] != self.plan:
                raise MissingPartError(f"no part of the {self.stage} decision for bucket {bucket} (video {video_id})")
            self._bucket, self._videos = bucket, stored[1]
        if video_id not in self._videos:
            raise MissingPartError(f"the {self.stage} decision has no part for video {video_id}")
        return self._videos[video_id]
