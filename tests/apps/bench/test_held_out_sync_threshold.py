import math

from apps.bench.held_out_sync_threshold import ScoredSegment, fit_threshold, kept_by, leave_one_source_out


def _seg(source: str, score: float | None, frames: int) -> ScoredSegment:
    return ScoredSegment(source, f"{source}.mp4", score, frames)


def test_fit_keeps_at_least_the_wanted_share_of_genuine_frames():
    segments = [_seg("a", 0.5, 1), _seg("a", 1.0, 1), _seg("a", 2.0, 49), _seg("a", 3.0, 49)]
    threshold = fit_threshold(segments, keep=0.98)
    # Rejecting below 1.0 loses 1 frame of 100 (allowed: 2); below 2.0 would lose 2 - still allowed;
    # below 3.0 would lose 51.
    assert threshold == 2.0
    kept = sum(s.genuine_frames for s in segments if kept_by(s, threshold))
    assert kept / 100 >= 0.98


def test_fit_rejects_nothing_when_one_segment_holds_too_much():
    assert fit_threshold([_seg("a", 0.2, 10), _seg("a", 3.0, 90)], keep=0.98) == 0.2
    assert fit_threshold([], keep=0.98) == -math.inf


def test_unscored_segments_are_kept_and_count_in_the_total():
    segments = [_seg("a", None, 98), _seg("a", 1.0, 1), _seg("a", 1.5, 1)]
    threshold = fit_threshold(segments, keep=0.98)
    assert threshold == 1.5
    assert kept_by(_seg("a", None, 1), threshold) and kept_by(_seg("a", float("nan"), 1), threshold)


def test_each_source_is_scored_with_a_threshold_fitted_without_it():
    segments = [_seg("a", 5.0, 100), _seg("b", 0.5, 100), _seg("b", 4.0, 100), _seg("c", 1.0, 100)]
    folds = leave_one_source_out(segments)
    assert set(folds) == {"a", "b", "c"}
    # Without b, the fit sees only a (5.0) and c (1.0): the lowest score is the threshold.
    assert folds["b"] == 1.0
    # Without c, b's 0.5 is the lowest: nothing of b is given up.
    assert folds["c"] == 0.5
    assert not kept_by(_seg("b", 0.5, 1), folds["b"])
