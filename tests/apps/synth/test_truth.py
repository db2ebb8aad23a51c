import json

import numpy as np
import pytest

from apps.synth.truth import (
    TRUTH_FORMAT,
    PersonTruth,
    ShotTruth,
    TrackTruth,
    UtteranceTruth,
    VideoTruth,
    expand_runs,
    load_truth,
    run_lengths,
    states_for,
)
from schemas.performer_states import PerformerState


def test_run_lengths_round_trip_keeps_offsets_and_nulls():
    values = [None, None, "a", "a", "a", "b", None]
    runs = run_lengths(values, offset=10)
    assert runs == [[None, 10, 2], ["a", 12, 3], ["b", 15, 1], [None, 16, 1]]
    assert expand_runs(runs) == values


def test_expand_runs_refuses_gaps():
    with pytest.raises(ValueError, match="not contiguous"):
        expand_runs([[1, 0, 2], [2, 3, 1]])


def test_states_follow_the_speaker():
    speakers = [None, "p1", "p1", "p2", None]
    assert states_for("p1", speakers).tolist() == [
        PerformerState.IDLE, PerformerState.SPEAKING, PerformerState.SPEAKING,
        PerformerState.LISTENING, PerformerState.IDLE,
    ]


def _truth() -> VideoTruth:
    speakers = [None] * 5 + ["p1"] * 10 + ["p2"] * 10
    boxes = np.tile(np.array([[10.04, 20.0, 60.0, 80.0]], np.float32), (25, 1))
    return VideoTruth(
        name="v", kind="interview", seed=1, video="videos/v.mp4", fps=25, n_frames=25, width=64, height=48,
        audio_sample_rate=16000,
        persons=[PersonTruth("p1", "src#0", "voice", "conversant"), PersonTruth("p2", "src#1", None, "passer_by")],
        shots=[ShotTruth(0, 0, 24, 0.0, 1.0, "closeup:p1", ["noisy"])],
        utterances=[UtteranceTruth("p1", "hello", 0, 0.2, 0.6, 5, 14)],
        speaker=speakers,
        tracks=[
            TrackTruth(0, "p1", 0, 0, 24, boxes, states_for("p1", speakers), []),
            TrackTruth(1, "p2", 0, 5, 9, boxes[:5], states_for("p2", speakers[5:10]), ["passer_by"]),
        ],
    )


def test_truth_file_round_trip(tmp_path):
    truth = _truth()
    path = tmp_path / "truth" / "v.json"
    truth.write(path)
    data = json.loads(path.read_text())
    assert data["format"] == TRUTH_FORMAT
    assert data["duration_s"] == 1.0
    assert data["speaker"] == [[None, 0, 5], ["p1", 5, 10], ["p2", 15, 10]]
    assert data["tracks"][1]["state"] == [[PerformerState.LISTENING, 5, 5]]
    assert data["tracks"][0]["boxes"][0] == [10.0, 20.0, 60.0, 80.0]
    assert data["expected_rejections"] == {
        "noisy_shots": [0], "subtitled_shots": [], "small_face_tracks": [], "passer_by_tracks": [1]
    }
    back = load_truth(path)
    assert back.speaker == truth.speaker
    assert back.tracks[0].states.tolist() == truth.tracks[0].states.tolist()
    assert back.tracks[1].first_frame == 5 and back.tracks[1].boxes.shape == (5, 4)
    assert back.persons == truth.persons and back.shots == truth.shots and back.utterances == truth.utterances
