"""The states stage's lip-sync verdict per speaking segment on real talking heads: a talking head
muxed with another person's voice (``bench dubbing``'s ``dub``) is rejected when its score is
confidently out of sync and kept but flagged ``uncertain`` when it is not; the original is
``in_sync``."""

from pathlib import Path

import pytest

from apps.bench.dubbing_bench import dub
from apps.bench.speaking_bench import analyse, bench_stages
from curation.media.probe import probe_media
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState, frame_state_codes
from schemas.tables import RejectionRow, SegmentRow

# These figures are the offline estimator's (its thresholds 0.95 / 1.53); the default where SyncNet is not
# fetched is learned_sync (tests/annotators/speaking/test_learned_lip_sync.py).
AV_SYNC = "states.lip_sync_model=av_sync"


@pytest.fixture(scope="module")
def original_and_dubbed(
    shared_media: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[VideoWork, VideoWork, VideoWork]:
    """talkvid_tys_gt, and its picture under latentsync's voice (scored 0.57 by bench dubbing) and
    under fantasy_end0.4's (1.16: between the thresholds)."""
    out = tmp_path_factory.mktemp("dubbing")
    stages = bench_stages([AV_SYNC])
    video = shared_media / "talkvid_tys_gt.mp4"
    duration = probe_media(video).duration_s
    far = dub(video, shared_media / "latentsync_demo3_video.mp4", out / "far.mp4", duration)
    near = dub(video, shared_media / "fantasy_end0.4.mp4", out / "near.mp4", duration)
    return tuple(analyse(path, stages, out / "store") for path in (video, far, near))


def speaking(work: VideoWork) -> list[SegmentRow]:
    return [s for s in work.segments if s.state == "speaking"]


def out_of_sync(work: VideoWork) -> list[RejectionRow]:
    return [r for r in work.rejections if r.reason == "out_of_sync"]


def test_original_keeps_its_speaking_segment_in_sync_with_a_score(original_and_dubbed):
    original, _, _ = original_and_dubbed
    assert speaking(original)
    assert all(s.lip_sync_model == "av_sync" and s.lip_sync_score >= 1.53 for s in speaking(original))
    assert all(s.sync_verdict == "in_sync" for s in speaking(original))
    assert not out_of_sync(original)


def test_dubbed_copy_scored_far_below_is_rejected_out_of_sync(original_and_dubbed):
    _, far, _ = original_and_dubbed
    assert not speaking(far)
    rejected = out_of_sync(far)
    assert rejected and all(r.entity == "segment" and "av_sync score" in (r.detail or "") for r in rejected)


def test_dubbed_copy_between_the_thresholds_is_kept_flagged_uncertain(original_and_dubbed):
    _, _, near = original_and_dubbed
    assert speaking(near) and not out_of_sync(near)
    assert all(s.sync_verdict == "uncertain" and 0.95 <= s.lip_sync_score < 1.53 for s in speaking(near))


def test_a_render_whose_lips_lag_its_audio_is_kept_flagged_uncertain(shared_media: Path, tmp_path: Path):
    # fantasy_end0.1 is the render with the weakest audio guidance of the four fantasy clips: its
    # mouth reads 12 frames (480 ms) behind its audio. Its score (0.97) is low but not below what
    # genuine speech of other sources can score: kept, and flagged for whoever wants only in_sync.
    work = analyse(shared_media / "fantasy_end0.1.mp4", bench_stages([AV_SYNC]), tmp_path / "store")
    assert speaking(work) and not out_of_sync(work)
    assert all(s.sync_verdict == "uncertain" for s in speaking(work))


def test_each_labelled_track_carries_its_frame_states_for_the_manifest(original_and_dubbed):
    """The tracks table's ``frame_states`` is the labeller's per-frame state where the face is
    present and absent elsewhere: what ``bench pipeline`` scores from the manifest."""
    original, _, _ = original_and_dubbed
    labelled = [t for t in original.tracks if original.track_features[t.track_id].state is not None]
    assert labelled
    for track in labelled:
        features = original.track_features[track.track_id]
        codes = frame_state_codes(track.frame_states)
        assert len(codes) == len(features.present)
        expected = [int(s) if p else None for s, p in zip(features.state, features.present, strict=True)]
        assert codes == expected
    assert any(code == PerformerState.SPEAKING for t in labelled for code in frame_state_codes(t.frame_states))


def test_a_tracks_speaking_segments_share_one_verdict_score_and_keep_their_own(shared_media: Path, tmp_path: Path):
    """latentsync_demo3_video: 20 s of one face under its own voice, cut into several speaking segments.
    Each verdict reads the track's mean (``annotators.speaking.track_sync``); the segment's own score
    stays beside it."""
    stages = bench_stages([AV_SYNC, "states.reject_out_of_sync=false"])
    work = analyse(shared_media / "latentsync_demo3_video.mp4", stages, tmp_path / "store")
    by_track: dict[str, list[SegmentRow]] = {}
    for segment in speaking(work):
        by_track.setdefault(segment.track_id, []).append(segment)
    assert any(len(segments) >= 2 for segments in by_track.values())
    for segments in by_track.values():
        own = [s.lip_sync_segment_score for s in segments]
        assert None not in own
        assert len({s.lip_sync_score for s in segments}) == 1
        assert min(own) - 1e-4 <= segments[0].lip_sync_score <= max(own) + 1e-4
    assert any(len({round(s.lip_sync_segment_score, 3) for s in segments}) > 1 for segments in by_track.values())
