"""A track's speaking segments share one score: the weighted mean of their own finite scores."""

import numpy as np
import pytest

from annotators.speaking.track_sync import track_means, track_scores


def test_each_segment_reads_its_own_tracks_weighted_mean():
    pooled = track_scores([1.0, 2.0, 4.0, 0.5], [30, 10, 50, 50], ["a", "a", "b", "b"])
    assert pooled[:2] == pytest.approx([1.25, 1.25])  # (30 x 1 + 10 x 2) / 40
    assert pooled[2:] == pytest.approx([2.25, 2.25])


def test_a_segment_without_a_score_takes_its_tracks_and_a_track_without_any_has_none():
    pooled = track_scores([np.nan, 3.0, np.nan], [40, 20, 40], ["a", "a", "b"])
    assert pooled[0] == pooled[1] == 3.0
    assert np.isnan(pooled[2])


def test_scores_without_weight_still_count_where_no_segment_of_the_track_has_any():
    assert track_scores([1.0, 2.0], [0, 0], [7, 7]) == pytest.approx([1.5, 1.5])
    assert track_scores([1.0, 2.0], [0, 10], [7, 7]) == pytest.approx([2.0, 2.0])


def test_lists_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="2 scores, 1 weights, 2 tracks"):
        track_scores([1.0, 2.0], [1], ["a", "b"])


def test_bench_rows_with_none_for_no_score_read_back_none_where_their_track_has_none():
    assert track_means([None, 2.0, None], [10, 10, 10], ["a", "a", "b"]) == [2.0, 2.0, None]
