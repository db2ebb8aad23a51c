"""``benchmarks.face_voice_match``: the contrastive map it compares, and the sum it scores held out."""

import numpy as np
import pytest

from apps.bench.fold_rows import ScoredSegment
from benchmarks.face_voice_match import MatchMap, MatchSettings, combined, train_match
from tests.annotators.models.test_face_voice_map import people


def test_the_contrastive_map_is_seeded_and_scores_missing_vectors_as_unknown() -> None:
    faces, voices = people(40, seed=1)
    settings = MatchSettings(method="infonce", rank=2, steps=50)
    a1, b1 = train_match(faces, voices, settings)
    a2, b2 = train_match(faces, voices, settings)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    matched = MatchMap(faces.mean(0), voices.mean(0), a1, b1)
    assert np.isnan(matched.match(np.full(128, np.nan), voices[0]))
    assert -1.0 <= matched.match(faces[0], voices[0]) <= 1.0


def _row(picture: str, voice: str, score: float | None) -> ScoredSegment:
    return ScoredSegment(picture=picture, voice=voice, picture_source="a", voice_source="b",
                         genuine=picture == voice, score=score, weight=10)


def test_the_sum_pairs_rows_in_step_and_keeps_the_sync_score_where_the_match_is_missing() -> None:
    sync = [{"picture": "p", "voice": "p", "genuine": True, "score": 2.0},
            {"picture": "p", "voice": "q", "genuine": False, "score": 1.0}]
    rows = combined(sync, [_row("p", "p", 0.5), _row("p", "q", None)], weight=2.0)
    assert [r.score for r in rows] == [3.0, 1.0]
    with pytest.raises(ValueError, match="rows out of step"):
        combined(sync, [_row("p", "q", 0.5), _row("p", "p", 0.5)], weight=1.0)
