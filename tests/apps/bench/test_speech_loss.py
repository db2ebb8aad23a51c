"""Each lost voiced frame of a genuine talking head gets one cause, and the causes add up to the loss."""

from collections import Counter

import numpy as np

from annotators.speaking.sync_thresholds import SyncThresholds
from apps.bench.speech_loss import FACE_NOT_FOUND, NOT_SPEAKING, SHORT, VERDICT, lost_speech
from apps.bench.validity_records import ClipRecord, SpeakingSegment, TrackSignals
from schemas.tables import ShotRow, TrackRow

THRESHOLDS = SyncThresholds(1.0, 2.0)


def _record(segments: list[SpeakingSegment]) -> ClipRecord:
    """100 frames, voiced throughout. Track t0 covers frames 0-79 (s speaking, l listening, . absent):
    frames 0-39 speaking, 40-49 listening, 50-59 absent, 60-69 speaking, 70-79 speaking; frames 80-99
    are a shot the picture rules rejected."""
    letters = "s" * 40 + "l" * 10 + "." * 10 + "s" * 20
    n = len(letters)
    track = TrackSignals("t0", 0, np.zeros(n), np.zeros(n), np.array([c != "." for c in letters]),
                         np.ones(n, np.float32), [])  # fmt: skip
    return ClipRecord(
        clip="c.mp4", label="talking_head", source="s", person="p", voice_source="s", fps=25.0, voiced=100,
        speaking_frames=60, segments=segments, signals=[track],
        shots=[ShotRow(shot_id="s0", usable=True), ShotRow(shot_id="s1", usable=False, reason="text_overlay")],
        tracks=[TrackRow(track_id="t0", shot_id="s0", usable=True, frame_states=letters)],
    )  # fmt: skip


def test_the_lost_frames_are_split_by_cause_and_add_up():
    # 0-39 speaking (kept, 40 frames), 60-79 speaking (out of sync by its held-out score, 20 frames).
    segments = [SpeakingSegment(2.5, 40, 0, 40, held_out_score=2.5), SpeakingSegment(2.5, 20, 60, 80, 0.3)]
    record = _record(segments)
    lost = lost_speech(record, THRESHOLDS, 0.5, held_out=True, whole_cause=None)
    assert lost == Counter({VERDICT: 20, NOT_SPEAKING: 10, FACE_NOT_FOUND: 10, "no usable track (text_overlay)": 20})
    assert sum(lost.values()) == 100 - 40
    # The shipped scores keep the second segment.
    assert lost_speech(record, THRESHOLDS, 0.5, held_out=False, whole_cause=None) == Counter(
        {NOT_SPEAKING: 10, FACE_NOT_FOUND: 10, "no usable track (text_overlay)": 20}
    )


def test_speaking_frames_outside_every_speaking_segment_are_the_short_spans():
    lost = lost_speech(_record([SpeakingSegment(2.5, 40, 0, 40)]), THRESHOLDS, 0.5, False, None)
    assert lost[SHORT] == 20 and sum(lost.values()) == 60


def test_a_clip_that_gave_nothing_is_lost_whole_to_its_cause():
    lost = lost_speech(_record([]), THRESHOLDS, 0.5, False, whole_cause="states: no_segments")
    assert lost == Counter({"states: no_segments": 100})
