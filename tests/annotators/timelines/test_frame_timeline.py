import numpy as np
import pytest

from annotators.timelines.frame_timeline import frame_means, interval_coverage, merge_intervals


def test_frame_means_weights_each_window_by_its_overlap_with_the_frame():
    # 32 ms windows with values 0, 1, 0, 1, ... against 40 ms frames (25 fps)
    values = np.tile([0.0, 1.0], 10)
    means = frame_means(values, 0.032, 25.0, 5)
    # frame 0 = [0, 40 ms): 32 ms of 0 then 8 ms of 1
    assert means[0] == pytest.approx(8 / 40)
    # frame 1 = [40, 80 ms): 24 ms of 1 (to 64) then 16 ms of 0
    assert means[1] == pytest.approx(24 / 40)
    # the integral is preserved: [0, 200 ms) holds three whole windows of ones
    assert means.sum() * 0.040 == pytest.approx(3 * 0.032)


def test_frame_means_is_zero_after_the_last_window():
    means = frame_means(np.ones(3), 0.032, 25.0, 6)  # 96 ms of ones
    np.testing.assert_allclose(means[:2], [1.0, 1.0])
    assert means[2] == pytest.approx(16 / 40)  # [80, 120 ms): 16 ms inside
    np.testing.assert_allclose(means[3:], 0.0)


def test_interval_coverage_counts_partial_frames_and_unions_overlaps():
    coverage = interval_coverage([(0.02, 0.10), (0.05, 0.12), (0.30, 0.31)], 25.0, 9)
    np.testing.assert_allclose(coverage[:4], [0.5, 1.0, 1.0, 0.0], atol=1e-6)  # [0.02, 0.12)
    assert coverage[7] == pytest.approx(0.25, abs=1e-6)  # [0.28, 0.32) holds 10 ms
    assert coverage.max() <= 1.0


def test_merge_intervals_sorts_joins_and_drops_empty_ones():
    assert merge_intervals([(3, 4), (1, 2), (1.5, 2.5), (5, 5)]) == [(1.0, 2.5), (3.0, 4.0)]


def test_frame_means_stops_where_the_measured_signal_ends():
    # the last 32 ms window is padding past a 50 ms signal: frame [40, 80 ms) holds 10 ms of it
    means = frame_means(np.ones(2), 0.032, 25.0, 3, end_s=0.050)
    np.testing.assert_allclose(means, [1.0, 10 / 40, 0.0], atol=1e-6)
