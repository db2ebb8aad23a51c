"""Shots from detectors fed in spans of different rates."""

import cv2
import numpy as np

from annotators.shots.shot_detector import make_shot_detector
from annotators.shots.shot_span import ShotSpan
from annotators.shots.spanned_shots import SpannedShots


class _Recorder:
    """A detector that reports the cuts it was built with and remembers what it was fed."""

    def __init__(self, cuts: list[int]) -> None:
        self._cuts = cuts
        self.fed: list[int] = []

    def feed(self, index: int, thumbnail_bgr: np.ndarray) -> None:
        self.fed.append(index)

    def cuts(self) -> list[int]:
        return self._cuts


def _grey(level: int) -> np.ndarray:
    return np.full((72, 128, 3), level, dtype=np.uint8)


def test_each_span_keeps_only_the_cuts_inside_it() -> None:
    made = iter([_Recorder([5, 30, 45]), _Recorder([40, 60, 90]), _Recorder([95, 120])])
    shots = SpannedShots(lambda: next(made))
    shots.start(0)
    shots.feed(0, _grey(0))
    shots.start(35)  # cuts 45 (first span) and 40 (second) straddle: each keeps its own
    shots.feed(35, _grey(0))
    shots.start(90)  # 90 is the span's first frame: never a cut
    shots.feed(90, _grey(0))
    spans = [(s.first_frame, s.end_frame) for s in shots.shots(100)]
    assert spans == [(0, 5), (5, 30), (30, 40), (40, 60), (60, 95), (95, 100)]


def test_a_span_restarted_before_it_got_past_its_first_frame_is_replaced() -> None:
    first, second = _Recorder([3]), _Recorder([12])
    made = iter([first, second])
    shots = SpannedShots(lambda: next(made))
    shots.start(10)
    shots.start(8)  # the fine pass opened with a lookback reaching before the coarse span's start
    assert shots.shots(20) == [ShotSpan(0, 0, 12), ShotSpan(1, 12, 20)]


def test_an_every_frame_detector_is_one_detector_fed_each_frame_once() -> None:
    only = _Recorder([7])
    shots = SpannedShots(lambda: only, every_frame=True)
    shots.start(0)
    for i in range(10):
        shots.feed(i, _grey(0))
    shots.start(4)  # a fine span over frames it has already seen
    for i in range(4, 12):
        shots.feed(i, _grey(0))
    assert only.fed == list(range(12))
    assert [s.first_frame for s in shots.shots(12)] == [0, 7]


def test_a_coarse_rate_content_detector_finds_a_hard_cut() -> None:
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0))
    shots.start(0)
    for i in range(0, 100, 5):  # five frames a second: every fifth analysis frame
        shots.feed(i, _grey(20 if i < 50 else 220))
    assert [s.first_frame for s in shots.shots(100)] == [0, 50]


def _cut_found_six_frames_into_a_later_span(min_gap: int) -> list[int]:
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=min_gap)
    shots.start(0)
    for i in range(100):
        shots.feed(i, _grey(20))
    shots.start(100)
    for i in range(100, 150):
        shots.feed(i, _grey(20 if i < 106 else 220))
    return [s.first_frame for s in shots.shots(150)]


def test_a_later_span_is_primed_so_a_cut_soon_after_its_start_is_found() -> None:
    assert _cut_found_six_frames_into_a_later_span(min_gap=12) == [0, 106]
    # unprimed, the fresh detector would wait 12 frames from its first before any cut
    assert _cut_found_six_frames_into_a_later_span(min_gap=0) == [0]


def test_feed_says_when_the_current_span_finds_a_cut() -> None:
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0))
    found = [i for i in range(100) if shots.feed(i, _grey(20 if i < 50 else 220))]
    assert found == [50]


def test_a_span_started_at_a_cut_keeps_it_unless_a_faster_span_found_it_just_before() -> None:
    # a coarse span finds a cut at frame 50; the frames before were landmarked (a fine span from
    # 30), whose own detector did not see it: the cut stays where the coarse detector put it
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=12)
    shots.start(0)
    for i in range(30):
        shots.feed(i, _grey(20))
    shots.start(30)
    for i in range(30, 50):
        shots.feed(i, _grey(20))
    shots.start(50, at_cut=True)
    for i in range(50, 90):
        shots.feed(i, _grey(220))
    assert [s.first_frame for s in shots.shots(90)] == [0, 50]
    # the fine span found the change at frame 47 already: the span's cut 3 frames later is the same one
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=12)
    for i in range(30):
        shots.feed(i, _grey(20))
    shots.start(30)
    for i in range(30, 50):
        shots.feed(i, _grey(20 if i < 47 else 220))
    shots.start(50, at_cut=True)
    for i in range(50, 90):
        shots.feed(i, _grey(220))
    assert [s.first_frame for s in shots.shots(90)] == [0, 47]


def test_a_span_replaced_at_its_first_frame_keeps_the_cut_it_started_at() -> None:
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=12)
    for i in range(50):
        shots.feed(i, _grey(20))
    shots.start(50, at_cut=True)
    shots.start(50)  # the fine pass takes over from the same frame
    for i in range(50, 90):
        shots.feed(i, _grey(220))
    assert [s.first_frame for s in shots.shots(90)] == [0, 50]


def _scene(seed: int) -> np.ndarray:
    """A smooth textured scene, wider than a thumbnail, to move a thumbnail's window over."""
    noise = np.random.default_rng(seed).integers(0, 256, (72, 600, 3)).astype(np.float32)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 6), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def _views(scene: np.ndarray, positions: list[int]) -> list[np.ndarray]:
    return [np.ascontiguousarray(scene[:, x : x + 128]) for x in positions]


def test_a_burst_of_motion_a_coarse_step_apart_is_no_cut_at_full_rate_and_can_be_overruled() -> None:
    # still for 40 frames, 3 pixels a frame for five frames (a head turning), still again
    frames = _views(_scene(0), [0] * 40 + [3 * k for k in range(1, 6)] + [15] * 35)
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=12)
    found = [i for i in range(0, 80, 5) if shots.feed(i, frames[i])]
    assert found == [45]  # 15 pixels between frames five apart pass for a cut
    assert not shots.finds_cut(list(range(40, 46)), frames[40:46])
    every = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=12)
    assert not [i for i in range(80) if every.feed(i, frames[i])]  # nor does a detector fed every frame
    assert [s.first_frame for s in shots.shots(80)] == [0, 45]
    shots.overrule(45)
    assert [s.first_frame for s in shots.shots(80)] == [0]


def test_a_hard_cut_is_found_at_full_rate_too() -> None:
    frames = _views(_scene(0), [0] * 43) + _views(_scene(1), [0] * 37)
    shots = SpannedShots(lambda: make_shot_detector("content", 27.0, 12, 25.0), min_gap=12)
    assert shots.finds_cut(list(range(40, 46)), frames[40:46])
    assert not shots.finds_cut(list(range(35, 41)), frames[35:41])
