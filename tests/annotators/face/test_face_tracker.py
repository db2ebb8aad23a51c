"""Face tracking: overlap matching, gap bridging, and separation of distinct faces."""

import numpy as np

from annotators.face.face_tracker import box_iou, track_faces


def _box(x: float, y: float, size: float = 100) -> np.ndarray:
    return np.array([x, y, x + size, y + size], dtype=np.float32)


def test_iou_of_identical_disjoint_and_half_overlapping_boxes():
    assert box_iou(_box(0, 0), _box(0, 0)) == 1.0
    assert box_iou(_box(0, 0), _box(500, 0)) == 0.0
    assert abs(box_iou(_box(0, 0), _box(50, 0)) - 50 / 150) < 1e-6


def test_two_faces_moving_slowly_give_two_tracks_in_order():
    frames = [(f, [_box(10 + 2 * f, 50), _box(400 - 2 * f, 60)]) for f in range(30)]
    tracks = track_faces(frames)
    assert len(tracks) == 2
    assert all(len(t.frames) == 30 for t in tracks)
    # each track keeps its own face: x of the first track only grows
    first = [frames[f][1][d][0] for f, d in zip(tracks[0].frames, tracks[0].detections, strict=True)]
    assert first == sorted(first)


def test_short_gap_is_bridged_and_long_gap_starts_a_new_track():
    short_gap = [(f, [_box(100, 100)]) for f in range(10)] + [(f, [_box(100, 100)]) for f in range(15, 25)]
    assert len(track_faces(short_gap, max_gap=6)) == 1
    long_gap = [(f, [_box(100, 100)]) for f in range(10)] + [(f, [_box(100, 100)]) for f in range(30, 40)]
    assert len(track_faces(long_gap, max_gap=6)) == 2


def test_a_face_jumping_across_the_frame_is_not_the_same_track():
    frames = [(f, [_box(0, 0)]) for f in range(5)] + [(f, [_box(600, 300)]) for f in range(5, 10)]
    assert len(track_faces(frames)) == 2
