"""``benchmarks.stacked_verdict``: the parts put in one order, and a weighting fitted without each source."""

from types import SimpleNamespace

import numpy as np
import pytest

from apps.bench.fold_rows import ScoredSegment
from benchmarks.stacked_verdict import in_order, stacked_scores


def test_each_models_rows_are_put_in_the_pairs_order_segment_by_segment() -> None:
    """``bench learned-sync`` lists each model's rows in its own order; two segments of one clip under
    one voice keep their order."""
    order = [{"picture": "p", "voice": "q", "weight": 10, "score": 0}, {"picture": "p", "voice": "p", "weight": 20},
             {"picture": "p", "voice": "q", "weight": 30}]
    rows = [{"picture": "p", "voice": "p", "weight": 20, "score": 2.0},
            {"picture": "p", "voice": "q", "weight": 10, "score": 1.0},
            {"picture": "p", "voice": "q", "weight": 30, "score": 3.0}]
    assert in_order(rows, order) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="rows out of step"):
        in_order(list(reversed(rows)), order)


def test_each_sources_pairs_are_scored_by_a_model_fitted_on_the_other_sources_only() -> None:
    """Three sources whose genuine pairs score high on the first part: every source's pairs are scored
    (out of fold), genuine above dubbed, by regressions that never saw them; a part that tells nothing
    gets a small weight in the fit on everything."""
    rng = np.random.default_rng(0)
    rows, features = [], []
    for source in ("a", "b", "c"):
        for k in range(20):
            genuine = k % 4 == 0
            rows.append(ScoredSegment(picture=f"{source}{k}", voice=f"{source}{k}" if genuine else "x",
                                      picture_source=source, voice_source=source if genuine else "z",
                                      genuine=genuine, score=0.0, weight=10))  # fmt: skip
            features.append([2.0 * genuine + rng.normal(0, 0.3), rng.normal(0, 1.0)])
    held = SimpleNamespace(face_voice=rows, sources=["a", "b", "c"])
    scores, fitted = stacked_scores(held, np.array(features))
    assert np.isfinite(scores).all()
    genuine = np.array([r.genuine for r in rows])
    assert scores[genuine].min() > scores[~genuine].max()
    assert abs(fitted["coefficients"][1]) < abs(fitted["coefficients"][0]) / 5
