import cv2
import numpy as np
import pytest

from annotators.face.mouth_darkness import LIP_POINTS, mouth_darkness
from tests.annotators.mouth_signals import ClipSignals

FACE_HEIGHT = 200.0
MOUTH_CENTRE = (160.0, 200.0)


def face_image(mouth_open_px: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured 320x320 frame with lips at ``MOUTH_CENTRE``, the lips parted by a dark gap
    ``mouth_open_px`` tall, and landmarks whose lip points sit on the mouth (the rest at 0)."""
    size = int(round(320 * scale))
    rgb = np.full((size, size, 3), (205, 160, 140), dtype=np.uint8)
    cx, cy = (round(c * scale) for c in MOUTH_CENTRE)
    cv2.ellipse(rgb, (cx, cy), (round(40 * scale), round(16 * scale)), 0, 0, 360, (170, 80, 80), -1)
    if mouth_open_px:
        cv2.ellipse(rgb, (cx, cy), (round(32 * scale), round(mouth_open_px * scale / 2)), 0, 0, 360, (30, 15, 15), -1)
    landmarks = np.zeros((478, 3), dtype=np.float32)
    landmarks[list(LIP_POINTS), :2] = (cx, cy)
    return rgb, landmarks


def test_an_open_mouth_is_darker_than_a_closed_one():
    closed = mouth_darkness(*face_image(0), FACE_HEIGHT)
    values = [mouth_darkness(*face_image(gap), FACE_HEIGHT) for gap in (8, 16, 28)]
    assert closed < values[0] < values[1] < values[2]
    assert values[2] - closed > 0.05  # a 64x28-px cavity is a fifth of the 100x64-px box


def test_the_value_does_not_depend_on_resolution():
    for gap in (0, 20):
        small = mouth_darkness(*face_image(gap), FACE_HEIGHT)
        large = mouth_darkness(*face_image(gap, scale=2.0), 2 * FACE_HEIGHT)
        assert abs(small - large) < 0.01


def test_a_box_past_the_frame_edge_still_reads_and_a_tiny_or_absent_box_has_no_value():
    """Cropping the frame 150 px from the left puts the mouth 10 px from the edge: the box, its
    outer part filled with the edge pixels, still sees an open mouth darker than a closed one."""
    at_edge = {}
    for gap in (0, 24):
        rgb, landmarks = face_image(gap)
        landmarks[list(LIP_POINTS), 0] -= 150.0
        at_edge[gap] = mouth_darkness(np.ascontiguousarray(rgb[:, 150:]), landmarks, FACE_HEIGHT)
    assert 0.0 < at_edge[0] < at_edge[24] < 1.0
    rgb, landmarks = face_image(20)
    assert np.isnan(mouth_darkness(rgb, landmarks, 6.0))
    assert np.isnan(mouth_darkness(rgb, landmarks, float("nan")))
    landmarks[list(LIP_POINTS), :2] = (-500.0, -500.0)
    assert np.isnan(mouth_darkness(rgb, landmarks, FACE_HEIGHT))


@pytest.mark.slow
def test_mouth_darkness_follows_the_lip_gap_on_real_talking_heads(talking_head_signals: dict[str, ClipSignals]):
    """Per clip, the correlation of the pixel darkness with the landmark inner-lip gap over the
    frames with a face: two measurements of one mouth. Measured 0.43-0.68 on seven of the 8 clips
    (median 0.56) and 0.14 on ``talkvid_tys_gt``, whose open mouth shows bright upper teeth."""
    correlations = []
    for name, s in talking_head_signals.items():
        both = np.isfinite(s.mouth_dark) & np.isfinite(s.mouth_open)
        assert both.mean() > 0.9, name
        correlations.append(np.corrcoef(s.mouth_dark[both], s.mouth_open[both])[0, 1])
    print(np.round(correlations, 2))
    assert min(correlations) > 0.1
    assert np.median(correlations) > 0.45
