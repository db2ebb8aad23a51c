"""The cascade's decision rule: when the landmarker runs."""

from dataclasses import replace

import pytest

from annotators.face.landmark_gate import LandmarkGate, PendingShot
from schemas.tables import ShotRow
from stages.performer_filter import PerformerFilterStage


def _gate(**kw: object) -> LandmarkGate:
    settings = {"coarse_every": 5, "lookback": 25, "hold": 25, "min_face_px": 40.0} | kw
    return LandmarkGate(**settings)  # type: ignore[arg-type]


def test_coarse_frames_are_every_nth_from_the_first() -> None:
    gate = _gate()
    assert [i for i in range(16) if gate.is_coarse_frame(i)] == [0, 5, 10, 15]


def test_only_a_face_of_the_threshold_size_is_a_candidate() -> None:
    gate = _gate()
    assert not gate.saw(0, [])
    assert not gate.saw(5, [39.9, 12.0])
    assert gate.saw(10, [12.0, 40.0])
    assert gate.last_seen == 10


def test_the_fine_pass_closes_hold_frames_after_the_last_candidate_face() -> None:
    gate = _gate(hold=3)
    gate.open(10)
    assert gate.fine
    gate.saw(11, [80.0])
    # frames 12 and 13 show no candidate: still within the hold of frame 11
    assert [gate.closes_after(i) for i in (11, 12, 13)] == [False, False, False]
    assert gate.closes_after(14)
    assert not gate.fine
    assert not gate.closes_after(15)  # already coarse


def test_frames_landmarked_from_the_lookback_do_not_move_the_last_candidate_back() -> None:
    gate = _gate(hold=3)
    gate.open(20)
    gate.saw(17, [80.0])  # an older frame of the lookback, landmarked after the opening frame
    assert gate.last_seen == 20


def test_with_the_cascade_off_every_frame_is_fine_and_the_pass_never_closes() -> None:
    gate = _gate(always_fine=True, hold=1)
    assert gate.fine
    assert not any(gate.closes_after(i) for i in range(100))


def _evidence(**fields: float) -> ShotRow:
    """A shot's coarse evidence: one frontal performer of 200 px in every coarse frame, clean."""
    base = {
        "coarse_face_px": 200.0,
        "coarse_face_frac": 1.0,
        "coarse_frontal_frac": 1.0,
        "coarse_competing_frac": 0.0,
        "sharpness": 100.0,
        "brightness": 120.0,
        "border_frac": 0.0,
        "frozen_frac": 0.0,
        "noise": 1.0,
    }
    return ShotRow(**(base | fields))


def test_without_a_judge_a_pending_shot_is_landmarked_at_once() -> None:
    assert _gate().decide(_evidence(coarse_face_frac=0.1), coarse_frames=1, ended=False) == "fine"


def test_a_shot_turns_fine_early_only_on_enough_evidence_that_passes_the_filter() -> None:
    gate = _gate(judge=PerformerFilterStage(), evidence_frames=3)
    assert gate.decide(_evidence(), coarse_frames=2, ended=False) == "wait"
    assert gate.decide(_evidence(), coarse_frames=3, ended=False) == "fine"
    # a second face of comparable size in a third of the frames: wait for the shot's end
    assert gate.decide(_evidence(coarse_competing_frac=0.3), coarse_frames=10, ended=False) == "wait"


@pytest.mark.parametrize(
    "fields",
    [
        {"coarse_face_frac": 0.3},  # the filter's min_coverage is 0.5
        {"coarse_face_px": 50.0},  # min_face_px 64
        {"coarse_frontal_frac": 0.3},  # min_frontal_frac 0.5
        {"coarse_competing_frac": 0.5},  # a competing face in half of the frames
        {"frozen_frac": 0.99},  # max_frozen_frac 0.8
        {"border_frac": 0.7},  # max_border_frac 0.5
    ],
)
def test_an_ended_shot_is_skipped_only_when_it_fails_the_filter_by_the_margin(fields: dict[str, float]) -> None:
    gate = _gate(judge=PerformerFilterStage(), margin=0.15)
    assert gate.decide(_evidence(**fields), coarse_frames=10, ended=True) == "skip"
    assert _gate(judge=PerformerFilterStage(), margin=0.5).decide(_evidence(**fields), 10, ended=True) == "fine"


def test_an_ended_shot_near_a_threshold_is_landmarked() -> None:
    gate = _gate(judge=PerformerFilterStage(), margin=0.15)
    # below the filter's coverage and size, but within the margin: the tracks will tell
    near = _evidence(coarse_face_frac=0.4, coarse_face_px=58.0, t_start=0.0, t_end=4.0)
    assert gate.decide(near, coarse_frames=20, ended=True) == "fine"
    assert gate.decide(replace(near, t_end=0.5), coarse_frames=3, ended=True) == "skip"  # min_shot_s 1.0


def test_a_fine_pass_ends_at_a_cut_and_a_skipped_shot_stays_skipped_until_one() -> None:
    gate = _gate()
    gate.open(10)
    gate.close()
    assert not gate.fine
    gate.skip_shot()
    assert gate.skipping
    gate.new_shot()
    assert not gate.skipping
    gate.skip_shot()
    gate.open(40)  # a shot decided fine is not skipped
    assert gate.fine and not gate.skipping


def test_held_frames_fill_their_memory_bound() -> None:
    pending = PendingShot(max_bytes=1000)
    assert not pending.active
    pending.begin(12)
    assert pending.active and pending.first == 12
    assert not pending.full(999) and pending.full(1000)
    pending.end()
    assert not pending.active
