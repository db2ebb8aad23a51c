"""A decision stored cut by video: an actor reads its video's bucket, never the whole decision."""

from pathlib import Path

import numpy as np
import pytest

from annotators.identity.identity_clusterer import IDENTITY_DISTANCE_THRESHOLDS
from curation.run.decision_parts import PART_BUCKETS, DecisionParts, MissingPartError, bucket_of, save_parts
from curation.run.run_scope_steps import DecideRequest, StoredDecision, decide_and_store
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from stages.identity import IdentityDecision, IdentityStage, IdentityTrackSummary

KIND = next(iter(IDENTITY_DISTANCE_THRESHOLDS))


def test_buckets_spread_videos_and_an_actor_reads_one_bucket_at_a_time(tmp_path: Path) -> None:
    ledger = Ledger(RunStore(str(tmp_path)))
    parts = {f"video{i:05d}": IdentityDecision({f"video{i:05d}/t0": f"id{i % 7}"}) for i in range(2000)}
    written = save_parts(ledger, "identity", "plan1", parts)
    assert written == PART_BUCKETS  # 2000 videos fill every bucket
    sizes = sorted(sum(bucket_of(v) == b for v in parts) for b in range(PART_BUCKETS))
    assert sizes[0] >= 1 and sizes[-1] <= 3 * len(parts) / PART_BUCKETS  # no bucket holds a crowd

    reads = []
    store_read = RunStore.read_bytes

    def counting(self: RunStore, relative: str) -> bytes:
        reads.append(relative)
        return store_read(self, relative)

    actor = DecisionParts(str(tmp_path), "identity", "plan1", IdentityStage.decision_hint())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunStore, "read_bytes", counting)
        assert actor.for_video("video00042") == parts["video00042"]
        assert actor.for_video("video00042") == parts["video00042"]  # the bucket in hand: no read
    assert reads == [f"work/decisions/identity.parts/{bucket_of('video00042'):03d}.json"]
    with pytest.raises(MissingPartError, match="no part for video video99999"):
        actor.for_video("video99999")  # not a video the decision covered (its bucket exists)
    with pytest.raises(MissingPartError, match="bucket"):
        DecisionParts(str(tmp_path), "identity", "another plan").for_video("video00042")  # a stale part


def _summary(video: str, n_tracks: int) -> list[IdentityTrackSummary]:
    return [IdentityTrackSummary(f"{video}/t{t}", video, 0.0, 5.0, np.eye(8)[t % 4], KIND, "weak", n_segments=1,
                                 seconds=5.0) for t in range(n_tracks)]


def test_the_identity_decision_is_stored_in_parts_that_apply_as_the_whole_does(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path))
    ledger = Ledger(store)
    videos = [f"v{i}" for i in range(12)]
    for video in videos:
        ledger.save_summary(video, 0, _summary(video, 3))
    stage = IdentityStage()
    decide_and_store(DecideRequest(stage, str(tmp_path), 0, tuple(videos)))

    hint = stage.decision_hint()
    loaded = StoredDecision(str(tmp_path), "identity", hint=hint)()
    whole = StoredDecision(str(tmp_path), "identity", whole=True, hint=hint)()
    assert isinstance(loaded, DecisionParts) and isinstance(whole, IdentityDecision) and whole.rows
    for video in videos:
        part = loaded.for_video(video)
        assert part.of_track == {t: i for t, i in whole.of_track.items() if t.startswith(f"{video}/")}
        assert len(part.of_track) == 3 and part.rows == []
    assert ledger.decision_plan("identity") == (ledger.decision("identity")[0], True)
    ledger.forget_decision("identity")
    assert ledger.decision_plan("identity") is None and not store.exists("work/decisions/identity.parts")
