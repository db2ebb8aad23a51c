"""The cascade's decision rule: when the landmarker runs."""

from annotators.face.landmark_gate import LandmarkGate


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
