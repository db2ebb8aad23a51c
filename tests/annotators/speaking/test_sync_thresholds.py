import math

import pytest

from annotators.speaking.sync_thresholds import ScoredSpeech, SyncThresholds, fit_sync_thresholds


def speech(scores: list[float], genuine: bool, weight: float = 10.0) -> list[ScoredSpeech]:
    return [ScoredSpeech(s, weight, genuine) for s in scores]


def test_separated_classes_leave_an_uncertain_band_between_them():
    genuine = speech([2.0, 2.5, 3.0, 3.5, 4.0], True)
    dubbed = speech([0.2, 0.5, 0.8, 1.1, 1.4], False)
    cut = fit_sync_thresholds(genuine + dubbed)
    # Reject: every genuine segment weighs 0.2 > 0.02, so the lowest genuine score (2.0) stays kept;
    # halfway to the next lower score seen (1.4). Accept: above the highest dubbed (1.4), halfway to 2.0.
    assert cut == SyncThresholds(reject_below=1.7, accept_from=1.7)


def test_the_reject_threshold_drops_at_most_two_percent_of_genuine_speech():
    genuine = [ScoredSpeech(0.5, 1.0, True), *speech([2.0 + i / 10 for i in range(10)], True)]  # 1 of 101 frames low
    dubbed = speech([0.1, 0.9, 1.2], False)
    cut = fit_sync_thresholds(genuine + dubbed)
    assert cut.reject_below == pytest.approx((1.2 + 2.0) / 2)
    kept = sum(s.weight for s in genuine if s.score >= cut.reject_below) / sum(s.weight for s in genuine)
    assert kept >= 0.98


def test_overlapping_classes_give_uncertain_scores_and_the_accept_threshold_admits_few_dubbed():
    genuine = speech([1.0, 1.5, 2.0, 2.5, 3.0, 3.5], True)
    dubbed = speech([0.2, 0.6, 1.2, 1.8, 2.2], False)
    cut = fit_sync_thresholds(genuine + dubbed)
    assert cut.reject_below == pytest.approx((0.6 + 1.0) / 2)
    assert cut.accept_from == pytest.approx((2.2 + 2.5) / 2)
    assert [cut.verdict(x) for x in (0.5, 1.9, 2.3, 2.4, math.nan)] == [
        "out_of_sync", "uncertain", "uncertain", "in_sync", "uncertain"]


def test_fitting_needs_both_classes():
    with pytest.raises(ValueError, match="genuine and dubbed"):
        fit_sync_thresholds([*speech([1.0, 2.0], True), ScoredSpeech(math.nan, 5.0, False)])
