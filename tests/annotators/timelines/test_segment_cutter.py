"""Segment cutting: bounds, alignment to state changes, leftovers, gap bridging."""

import itertools

import numpy as np
import pytest

from annotators.timelines.segment_cutter import FrameSpan, cut_segments, present_spans
from annotators.timelines.state_timeline import frame_states, runs, smooth_states


def _states(*parts: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(n, code, dtype=np.int8) for code, n in parts])


def test_segments_cover_the_span_within_bounds_and_cut_at_state_changes():
    states = _states((1, 120), (2, 90), (0, 60))  # speaking 4.8 s, listening 3.6 s, idle 2.4 s at 25 fps
    segments, leftover = cut_segments(states, FrameSpan(0, len(states)), min_frames=50, max_frames=250)
    assert not leftover
    assert segments[0].first == 0 and segments[-1].end == len(states)
    assert all(a.end == b.first for a, b in itertools.pairwise(segments))
    assert all(50 <= s.length <= 250 for s in segments)
    assert [(s.first, s.end) for s in segments] == [(0, 120), (120, 210), (210, 270)]


def test_a_short_run_that_cannot_stand_alone_stays_inside_a_segment_as_a_turn_change():
    states = _states((1, 100), (2, 20), (1, 20))  # the last two runs are too short to be segments
    segments, _ = cut_segments(states, FrameSpan(0, 140), min_frames=50, max_frames=250)
    assert [(s.first, s.end) for s in segments] == [(0, 140)]
    states = _states((1, 100), (2, 20), (1, 100))  # a pure first segment, then the turn change
    segments, _ = cut_segments(states, FrameSpan(0, 220), min_frames=50, max_frames=250)
    assert [(s.first, s.end) for s in segments] == [(0, 100), (100, 220)]


def test_long_runs_are_split_and_short_spans_are_leftovers():
    states = _states((1, 600))
    segments, leftover = cut_segments(states, FrameSpan(0, 600), min_frames=50, max_frames=250)
    assert len(segments) == 3 and all(50 <= s.length <= 250 for s in segments)
    assert cut_segments(states, FrameSpan(0, 30), 50, 250) == ([], [FrameSpan(0, 30)])
    assert not leftover


@pytest.mark.parametrize("length", [50, 51, 249, 250, 251, 499, 500, 777])
def test_every_length_is_partitioned_exactly(length):
    rng = np.random.default_rng(length)
    states = np.repeat(rng.integers(0, 3, size=length // 10 + 1), 10)[:length].astype(np.int8)
    segments, leftover = cut_segments(states, FrameSpan(0, length), 50, 250)
    assert sum(s.length for s in segments) + sum(s.length for s in leftover) == length
    assert all(50 <= s.length <= 250 for s in segments)


def test_frame_states_and_smoothing():
    vad = np.array([0.9] * 10 + [0.1] * 10 + [0.9] * 10)
    speaking = np.array([0.8] * 10 + [0.8] * 10 + [0.1] * 10)
    assert runs(frame_states(vad, speaking)) == [(1, 0, 10), (0, 10, 10), (2, 20, 10)]
    noisy = _states((1, 30), (2, 2), (1, 30), (0, 3), (2, 40))
    assert runs(smooth_states(noisy, 5)) == [(1, 0, 65), (2, 65, 40)]


def test_present_spans_bridge_short_gaps_only():
    present = np.array([1] * 20 + [0] * 3 + [1] * 20 + [0] * 30 + [1] * 10, dtype=bool)
    assert present_spans(present, max_gap=5) == [FrameSpan(0, 43), FrameSpan(73, 83)]
