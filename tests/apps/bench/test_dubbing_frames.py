"""bench dubbing's per-frame reading of a labelled video: which voiced frames were labelled
speaking, kept, kept in sync, and labelled before the sync verdict (kept or rejected out of sync)."""

import numpy as np

from apps.bench.dubbing_bench import frame_outcome
from curation.runtime.products import AnalysisGrid, SpeechResult, TrackFeatures
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState
from schemas.reasons import Reason
from schemas.tables import SegmentRow, ShotRow, TrackRow

FPS = 10.0
N = 40  # four seconds


def features_of(n: int, state: np.ndarray) -> TrackFeatures:
    """A face present in every frame, labelled ``state``."""
    return TrackFeatures(present=np.ones(n, bool), face_box=np.zeros((n, 4), np.float16),
                         signals=np.zeros((n, 9), np.float16), blendshapes=np.zeros((n, 52), np.float16),
                         kps5=np.zeros((n, 5, 2), np.float32), on_tile=np.zeros(n, bool), state=state)


def _work() -> VideoWork:
    """One face speaking from 0 to 3 s over a voice from 0 to 3 s: its 0-1 s segment kept in sync,
    1-2 s kept uncertain, 2-3 s rejected out of sync."""
    state = np.full(N, PerformerState.IDLE, dtype=np.int8)
    state[:30] = PerformerState.SPEAKING
    work = VideoWork(uri="v.mp4", video_id="v")
    work.analysis = AnalysisGrid(fps=FPS, width=64, height=64, scale=1.0, n_frames=N,
                                 quality=np.zeros((N, 1), dtype=np.float16))
    work.speech = SpeechResult(vad_prob=np.r_[np.ones(30), np.zeros(10)].astype(np.float16))
    work.shots = [ShotRow(shot_id="v-s0", t_start=0.0, t_end=4.0)]
    work.tracks = [TrackRow(track_id="v-t0", shot_id="v-s0", usable=True, face_height_px=100)]
    work.track_features = {"v-t0": features_of(N, state=state)}
    work.segments = [
        SegmentRow(segment_id="g0", state="speaking", t_start=0.0, t_end=1.0, sync_verdict="in_sync"),
        SegmentRow(segment_id="g1", state="speaking", t_start=1.0, t_end=2.0, sync_verdict="uncertain"),
    ]
    work.reject_entity("segment", "g2", "states", Reason.OUT_OF_SYNC, "av_sync score 0.2", 2.0, 3.0)
    work.reject_entity("segment", "g3", "dedup", Reason.DUPLICATE, "a copy", 3.0, 4.0)  # not a sync verdict
    return work


def test_frames_are_read_from_the_segments_and_the_out_of_sync_rejections() -> None:
    frames = frame_outcome(_work(), vad_threshold=0.5)
    assert {name: int(mask.sum()) for name, mask in frames.items()} == {
        "voiced": 30, "speaking": 30, "kept": 20, "in_sync": 10, "before": 30,
    }
    assert frames["kept"][:20].all() and not frames["kept"][20:].any()
