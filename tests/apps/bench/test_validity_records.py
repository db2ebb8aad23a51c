"""bench validity's record of a labelled clip: the held-out lip-sync scores are read as the states
stage reads the shipped ones, each speaking segment by its track's mean where the stage judges per track."""

from pathlib import Path

import numpy as np
import pytest
from test_dubbing_frames import features_of

from apps.bench.validity_records import CorpusEntry, record_of
from curation.runtime.products import AnalysisGrid, SpeechResult
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState
from schemas.tables import SegmentRow, ShotRow, TrackRow

FPS = 10.0
N = 60


def _work() -> VideoWork:
    """Two faces, one per shot: track a speaks 0-3 s (segments 0-1 s and 1-3 s, voiced throughout), track
    b 3-5 s (one segment, voiced)."""
    state = np.full(N, PerformerState.IDLE, dtype=np.int8)
    state[:50] = PerformerState.SPEAKING
    work = VideoWork(uri="v.mp4", video_id="v")
    work.analysis = AnalysisGrid(
        fps=FPS, width=64, height=64, scale=1.0, n_frames=N, quality=np.zeros((N, 1), dtype=np.float16)
    )
    work.speech = SpeechResult(vad_prob=np.r_[np.ones(50), np.zeros(10)].astype(np.float16))
    work.shots = [ShotRow(shot_id="v-s0", t_start=0.0, t_end=3.0), ShotRow(shot_id="v-s1", t_start=3.0, t_end=6.0)]
    work.tracks = [
        TrackRow(track_id="a", shot_id="v-s0", usable=True, face_height_px=100),
        TrackRow(track_id="b", shot_id="v-s1", usable=True, face_height_px=100),
    ]
    work.track_features = {"a": features_of(30, state=state[:30]), "b": features_of(30, state=state[30:])}
    work.segments = [
        SegmentRow(segment_id="a0", track_id="a", state="speaking", t_start=0.0, t_end=1.0, lip_sync_score=1.0),
        SegmentRow(segment_id="a1", track_id="a", state="speaking", t_start=1.0, t_end=3.0, lip_sync_score=1.0),
        SegmentRow(segment_id="b0", track_id="b", state="speaking", t_start=3.0, t_end=5.0, lip_sync_score=2.0),
    ]
    return work


@pytest.mark.parametrize("per_track", [True, False])
def test_held_out_scores_are_pooled_per_track_as_the_stage_pools_them(per_track: bool):
    entry = CorpusEntry(path=Path("v.mp4"), label="talking_head", source_id="s", person_id="p")
    held = {0: 0.4, 1: 1.9, 2: 3.0}
    record = record_of(entry, _work(), 0.5, FPS, held_out_scores=held, per_track=per_track)
    assert [s.weight for s in record.segments] == [10, 20, 20]
    expected = [1.4, 1.4, 3.0] if per_track else [0.4, 1.9, 3.0]  # (10 x 0.4 + 20 x 1.9) / 30 = 1.4
    assert [s.held_out_score for s in record.segments] == pytest.approx(expected)
    assert [s.score for s in record.segments] == [1.0, 1.0, 2.0]  # the run's own: pooled by the stage already
