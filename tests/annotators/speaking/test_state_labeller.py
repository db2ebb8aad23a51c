"""The labeller's verdict per track: the speaking segments of one track are judged by their mean
score with ``lip_sync_per_track``, each by its own without it (settings stored before states 9)."""

from dataclasses import replace

import numpy as np
import pytest

from annotators.speaking.lip_sync import LipSyncVerdict
from annotators.speaking.state_labeller import StateLabeller
from schemas.tables import SegmentRow

SETTINGS = {
    "stage": "states", "active_speaker": "mouth_vad", "mouth_window_s": 0.45, "mouth_highpass_s": 0.6,
    "mouth_motion_threshold": 0.004, "vad_threshold": 0.5, "speaking_threshold": 0.5, "min_state_s": 0.3,
    "min_segment_s": 2.0, "max_segment_s": 10.0, "max_face_gap_s": 0.4, "sync_max_offset_frames": 12,
    "lip_sync_model": "av_sync", "lip_sync_threshold": None,
}  # fmt: skip


def judged() -> list[tuple[SegmentRow, LipSyncVerdict | None, int]]:
    verdict = LipSyncVerdict("av_sync", 0.0, threshold=1.0, accept_threshold=2.0)
    return [
        (SegmentRow(segment_id="s0", state="speaking"), replace(verdict, score=0.6), 60),
        (SegmentRow(segment_id="s1", state="listening"), None, 0),
        (SegmentRow(segment_id="s2", state="speaking"), replace(verdict, score=2.4), 40),
        (SegmentRow(segment_id="s3", state="speaking"), replace(verdict, score=float("nan")), 20),
    ]


def test_per_track_every_speaking_segment_reads_the_weighted_mean_and_keeps_its_own():
    out = StateLabeller(**SETTINGS, lip_sync_per_track=True)._track_verdicts(judged())
    assert [s.segment_id for s, _ in out] == ["s0", "s1", "s2", "s3"]
    assert out[1][1] is None
    assert [v.score for _, v in (out[0], out[2], out[3])] == pytest.approx([1.32] * 3)  # (60 x 0.6 + 40 x 2.4) / 100
    assert {v.verdict for _, v in (out[0], out[2], out[3])} == {"uncertain"}
    assert [s.lip_sync_segment_score for s, _ in out] == [0.6, None, 2.4, None]


def test_without_it_each_segment_is_judged_by_its_own_score():
    out = StateLabeller(**SETTINGS)._track_verdicts(judged())
    assert [v.verdict for _, v in (out[0], out[2])] == ["out_of_sync", "in_sync"]
    assert np.isnan(out[3][1].score) and out[3][1].verdict == "uncertain"
    assert out[0][0].lip_sync_segment_score == 0.6
