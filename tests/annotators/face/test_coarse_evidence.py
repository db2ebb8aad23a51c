"""What a shot's coarse frames say: face share, size, frontality, competing faces."""

import numpy as np
import pytest

from annotators.face.coarse_evidence import CoarseFace, CompetingRule, side_by_side, summarize

WIDTH = 640.0


def _face(x: float, height: float, yaw: float = 0.0, pitch: float = 0.0) -> CoarseFace:
    """A face whose box is centred at ``x`` (pixels of a 640-px frame), ``height`` source px."""
    return CoarseFace(np.array([x - 20, 100, x + 20, 160], np.float32), height, yaw, pitch)


def _summary(frames: list[list[CoarseFace]], rule: CompetingRule | None = None) -> dict:
    return summarize(frames, WIDTH, rule or CompetingRule(), max_yaw=35.0, max_pitch=25.0)


def test_no_coarse_frame_gives_no_evidence() -> None:
    assert set(_summary([]).values()) == {None}


def test_shares_are_over_every_coarse_frame_and_the_size_over_those_with_a_face() -> None:
    frames = [[_face(320, 100)], [_face(320, 120)], [], [_face(320, 140, yaw=60)]]
    summary = _summary(frames)
    assert summary["coarse_face_frac"] == 0.75
    assert summary["coarse_face_px"] == 120.0  # the median of the largest faces
    assert summary["coarse_frontal_frac"] == pytest.approx(2 / 3)  # the turned-away one is not
    assert summary["coarse_competing_frac"] == 0.0


def test_a_second_face_competes_from_the_filters_share_of_the_largest() -> None:
    bystander, rival = [_face(300, 200), _face(420, 90)], [_face(300, 200), _face(420, 110)]
    assert _summary([bystander, rival])["coarse_competing_frac"] == 0.5  # 90 < 0.5 x 200 <= 110
    strict = CompetingRule(competing_face_rel=0.6)
    assert _summary([bystander, rival], strict)["coarse_competing_frac"] == 0.0
    # the largest face is the performer whatever order the detector gave them in
    assert _summary([list(reversed(rival))])["coarse_competing_frac"] == 1.0


def test_two_similar_faces_one_in_each_half_are_a_split_screen_not_a_rival() -> None:
    split = [_face(160, 150), _face(480, 140)]
    assert _summary([split])["coarse_competing_frac"] == 0.0
    assert _summary([split], CompetingRule(split_screen=False))["coarse_competing_frac"] == 1.0
    # a third face of comparable size is a rival again
    assert _summary([[*split, _face(320, 120)]])["coarse_competing_frac"] == 1.0
    # one half only, or sizes too far apart: not a split screen
    assert not side_by_side(150, 0.2, 140, 0.4)
    assert not side_by_side(150, 0.2, 80, 0.8)
    assert side_by_side(150, 0.2, 100, 0.8)
