"""Precision and recall of one yes/no decision, with Wilson 95% intervals, from judged rows.

Every rule ``bench validity`` refits per source decides yes or no for some unit (a frame kept as
speaking, a shot kept as holding a performer, a shot landmarked): a row (``Decided``) carries ``positive``
(True: the corpus says yes; False: it says no; None: the corpus cannot say, counted apart) and
``weight`` (how many units it stands for: frames, or 1 for a shot). Intervals are over units:
frames of one clip are not independent, so over frames they are narrower than the truth.
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from apps.review.precision_report import wilson_interval


class Decided(Protocol):
    """A judged row as precision and recall read it (``apps.bench.fold_rows``)."""

    @property
    def positive(self) -> bool | None: ...

    @property
    def weight(self) -> int: ...


def share(part: int, whole: int) -> dict[str, Any]:
    """``part`` of ``whole`` with its Wilson 95% interval (None without a whole)."""
    low, high = wilson_interval(part, whole)
    return {"n": part, "of": whole, "fraction": part / whole if whole else None,
            "wilson95": [low, high] if whole else None}


def decision_figures(judged: Sequence[tuple[Decided, Any]], said_yes: Callable[[Any], bool] = bool,
                     ) -> dict[str, Any]:
    """``recall``: positive units the decision said yes to; ``precision``: of the units it said yes
    to among those the corpus labels, the positive ones; ``negatives_yes``: negative units it said
    yes to; ``unlabelled_yes``: the same over rows whose truth is unknown."""
    sums = {(truth, yes): 0 for truth in (True, False, None) for yes in (True, False)}
    for row, decision in judged:
        sums[(row.positive, said_yes(decision))] += int(row.weight)
    tp, fn, fp = sums[(True, True)], sums[(True, False)], sums[(False, True)]
    return {
        "recall": share(tp, tp + fn),
        "precision": share(tp, tp + fp),
        "negatives_yes": share(fp, fp + sums[(False, False)]),
        "unlabelled_yes": share(sums[(None, True)], sums[(None, True)] + sums[(None, False)]),
    }
