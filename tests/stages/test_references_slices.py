"""The references decision is stored cut by video: a video's part holds the pools of its tracks'
owners alone, a track with no candidate of its own included, and applies as the whole does."""

from pathlib import Path

from annotators.identity.reference_candidate import ReferenceCandidate
from curation.run.decision_parts import DecisionParts
from curation.run.run_scope_steps import DecideRequest, StoredDecision, decide_and_store
from curation.runtime.video_work import VideoWork
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from schemas.tables import SegmentRow, TrackRow
from stages.references import ReferencesStage, ReferencesSummary

HINT = ReferencesStage.decision_hint()


def _candidate(video: str, track: str, owner: str, t: float, score: float) -> ReferenceCandidate:
    return ReferenceCandidate(
        id=f"{track}@{t:.3f}", owner=owner, identity_id=owner if owner.startswith("person") else None,
        video_id=video, track_id=track, t=t, score=score, view_bin=f"v{int(t) % 3}",
        expression_bin=f"e{int(t) % 2}", archive=f"work/artefacts/{video}/crops.npz",
        crop_name=f"{int(t * 25):06d}-0", sharpness=1.0, face_height_px=200.0, yaw=0.0, pitch=0.0)


def _work(video: str, tracks: list[tuple[str, str | None]]) -> VideoWork:
    work = VideoWork(uri=f"file://{video}.mp4", video_id=video, run_uri="unused")
    work.tracks = [TrackRow(track_id=t, identity_id=identity) for t, identity in tracks]
    work.segments = [SegmentRow(segment_id=f"{t}-g0", track_id=t, t_start=1.0, t_end=2.0) for t, _ in tracks]
    return work


def test_a_video_part_holds_its_owners_pools_and_applies_as_the_whole(tmp_path: Path) -> None:
    stage = ReferencesStage(refs_per_segment=2, margin_s=0.1)
    # v0: a track of person-1 with candidates, and one of person-2 with none (its pool is v1's);
    # v1: person-2 with candidates; v2: a track with no identity, its own owner.
    works = {
        "v0": _work("v0", [("v0/t0", "person-1"), ("v0/t1", "person-2")]),
        "v1": _work("v1", [("v1/t0", "person-2")]),
        "v2": _work("v2", [("v2/t0", None)]),
    }
    candidates = {
        "v0": [_candidate("v0", "v0/t0", "person-1", t, 0.5 + t / 10) for t in (0.5, 3.0, 4.0)],
        "v1": [_candidate("v1", "v1/t0", "person-2", t, 0.4 + t / 10) for t in (0.5, 5.0)],
        "v2": [_candidate("v2", "v2/t0", "v2/t0", t, 0.3) for t in (3.0, 6.0)],
    }
    ledger = Ledger(RunStore(str(tmp_path)))
    for video, work in works.items():
        owners = sorted({t.identity_id or t.track_id for t in work.tracks})
        ledger.save_summary(video, 0, ReferencesSummary(candidates[video], owners))
    decide_and_store(DecideRequest(stage, str(tmp_path), 0, tuple(sorted(works))))

    parts = StoredDecision(str(tmp_path), "references", hint=HINT)()
    whole = StoredDecision(str(tmp_path), "references", whole=True, hint=HINT)()
    assert isinstance(parts, DecisionParts) and set(whole) == {"person-1", "person-2", "v2/t0"}
    assert set(parts.for_video("v0")) == {"person-1", "person-2"}
    assert set(parts.for_video("v2")) == {"v2/t0"}
    for video, work in works.items():
        sliced = stage.apply(_work(video, [(t.track_id, t.identity_id) for t in work.tracks]),
                             parts.for_video(video))
        entire = stage.apply(work, whole)
        assert sliced.segment_references == entire.segment_references
    # person-2's track in v0 has no candidate of its own: its references come from v1
    assert {r.video_id for r in works["v0"].segment_references["v0/t1-g0"]} == {"v1"}


def test_a_summary_from_before_owners_were_named_loads_the_whole_decision(tmp_path: Path) -> None:
    stage = ReferencesStage()
    ledger = Ledger(RunStore(str(tmp_path)))
    ledger.save_summary("v0", 0, [_candidate("v0", "v0/t0", "v0/t0", 3.0, 0.5)])  # a list: the old shape
    decide_and_store(DecideRequest(stage, str(tmp_path), 0, ("v0",)))
    decision = StoredDecision(str(tmp_path), "references", hint=HINT)()
    assert not isinstance(decision, DecisionParts) and set(decision) == {"v0/t0"}
    assert decision["v0/t0"] == [_candidate("v0", "v0/t0", "v0/t0", 3.0, 0.5)]
