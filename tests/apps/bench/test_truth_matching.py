"""Scoring against synthetic truth reads the truth file as its classes: boundaries and their
tolerances, the tracks a pipeline should keep, the matches of predicted tracks, the subtitled
shots caught, on a truth written and loaded back the way ``lpm-curate synth`` and the bench do."""

from pathlib import Path

import numpy as np
import pytest

from apps.bench.pipeline_bench import _text_overlay_counts
from apps.bench.truth_matching import (
    boundary_tolerances,
    match_tracks,
    performer_tracks,
    truth_boundaries,
    truth_center_x,
)
from apps.synth.truth import PersonTruth, ShotTruth, TrackTruth, VideoTruth, load_truth
from schemas.tables import ShotRow, TrackRow

FPS = 25


def _track(index: int, person: str, shot: int, first: int, last: int, x0: float, flags: list[str]) -> TrackTruth:
    n = last - first + 1
    boxes = np.tile(np.array([x0, 40.0, x0 + 100.0, 160.0], np.float32), (n, 1))
    return TrackTruth(index, person, shot, first, last, boxes, np.ones(n, np.int8), flags)


@pytest.fixture
def truth(tmp_path: Path) -> VideoTruth:
    written = VideoTruth(
        name="t", kind="interview", seed=0, video="videos/t.mp4", fps=FPS, n_frames=200, width=640, height=360,
        audio_sample_rate=16_000,
        persons=[PersonTruth("a", "x", None, "conversant"), PersonTruth("b", "y", None, "conversant")],
        shots=[ShotTruth(0, 0, 99, 0.0, 4.0, "closeup:a"),
               ShotTruth(1, 100, 199, 4.0, 8.0, "wide", ["subtitled"], "dissolve", 10)],
        utterances=[], speaker=[None] * 200,
        tracks=[_track(0, "a", 0, 0, 99, 270.0, []), _track(1, "b", 0, 10, 19, 20.0, ["small_face"]),
                _track(2, "b", 1, 100, 199, 420.0, [])],
    )
    written.write(tmp_path / "t.json")
    return load_truth(tmp_path / "t.json")


def test_boundaries_widen_by_half_a_gradual_transition(truth: VideoTruth):
    assert truth_boundaries(truth) == [4.0]
    assert boundary_tolerances(truth, 0.2) == [pytest.approx(0.2 + 10 / 2 / FPS)]


def test_the_tracks_to_keep_are_unflagged_long_and_outside_flagged_shots(truth: VideoTruth):
    assert [t.track_index for t in performer_tracks(truth, min_frames=50)] == [0]
    assert truth_center_x(truth.tracks[0], truth.width) == pytest.approx(320 / 640)


def test_a_predicted_track_matches_the_truth_track_it_overlaps_at_its_place(truth: VideoTruth):
    here = TrackRow(track_id="p0", t_start=0.0, t_end=3.9, x_center=0.52)
    elsewhere = TrackRow(track_id="p1", t_start=0.0, t_end=3.9, x_center=0.95)
    [match] = match_tracks([here, elsewhere], truth, FPS)
    assert match.predicted is here and match.truth.person_id == "a" and match.overlap_frames == 98


def test_a_subtitled_shot_counts_as_caught_when_its_shot_was_rejected_for_text(truth: VideoTruth):
    shots = [ShotRow(shot_id="s0", t_start=0.0, t_end=4.0), ShotRow(shot_id="s1", t_start=4.0, t_end=8.0,
                                                                    reason="text_overlay")]
    assert _text_overlay_counts(shots, truth) == {"subtitled": 1, "caught": 1, "clean": 1, "clean_rejected": 0}
