"""The two thresholds of a lip-sync verdict, fitted on scored genuine and dubbed speech.

A lip-sync score separates a face's own voice from a dubbed one only statistically: the two
classes overlap on footage nobody tuned on. So the verdict has three outcomes
(``annotators.speaking.lip_sync``): below the reject threshold ``out_of_sync`` (dropped), at or
above the accept threshold ``in_sync``, between them ``uncertain`` (kept, flagged).

The fit is weighted by speech (each segment counts by its voiced speaking frames):

- reject threshold: the highest that still keeps at least ``keep`` (0.98) of the genuine speech,
  placed halfway between the lowest kept score and the next lower score seen (of either class);
- accept threshold: the lowest above which at most ``admit`` (0.02) of the dubbed speech scores,
  halfway between the highest dubbed score below it and the next higher score seen; never below
  the reject threshold.

Only numbers in, numbers out: the caller decides which sources a fit sees (``apps.bench.sync_folds``
fits on all sources but one and scores the one left out).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KEEP_GENUINE = 0.98
ADMIT_DUBBED = 0.02


@dataclass(frozen=True)
class ScoredSpeech:
    """One speaking segment: its lip-sync score and how much speech it holds (voiced speaking frames)."""

    score: float
    weight: float
    genuine: bool  # the picture's own voice (False: dubbed with another clip's voice)


@dataclass(frozen=True)
class SyncThresholds:
    reject_below: float
    accept_from: float

    def verdict(self, score: float) -> str:
        if not np.isfinite(score):
            return "uncertain"
        if score < self.reject_below:
            return "out_of_sync"
        return "in_sync" if score >= self.accept_from else "uncertain"


def fit_sync_thresholds(
    speech: Sequence[ScoredSpeech], keep: float = KEEP_GENUINE, admit: float = ADMIT_DUBBED
) -> SyncThresholds:
    """Thresholds from scored genuine and dubbed speech (segments without a score are ignored)."""
    scored = [s for s in speech if np.isfinite(s.score) and s.weight > 0]
    genuine = sorted((s for s in scored if s.genuine), key=lambda s: s.score)
    dubbed = sorted((s for s in scored if not s.genuine), key=lambda s: -s.score)
    if not genuine or not dubbed:
        raise ValueError("fitting sync thresholds needs scored genuine and dubbed speech")
    every = sorted(s.score for s in scored)
    reject = _reject_below(genuine, keep, every)
    accept = _accept_from(dubbed, admit, every)
    return SyncThresholds(reject, max(accept, reject))


def _reject_below(genuine: list[ScoredSpeech], keep: float, every: list[float]) -> float:
    """Genuine speech sorted by ascending score: drop the lowest while what is left keeps >= keep."""
    total = sum(s.weight for s in genuine)
    dropped, lowest_kept = 0.0, genuine[0].score
    for s in genuine:
        if (total - dropped - s.weight) / total < keep:
            lowest_kept = s.score
            break
        dropped += s.weight
    below = [x for x in every if x < lowest_kept]
    return (below[-1] + lowest_kept) / 2 if below else lowest_kept


def _accept_from(dubbed: list[ScoredSpeech], admit: float, every: list[float]) -> float:
    """Dubbed speech sorted by descending score: admit the highest while they stay <= admit."""
    total = sum(s.weight for s in dubbed)
    admitted, highest_refused = 0.0, dubbed[0].score
    for s in dubbed:
        if (admitted + s.weight) / total > admit:
            highest_refused = s.score
            break
        admitted += s.weight
    above = [x for x in every if x > highest_refused]
    return (highest_refused + above[0]) / 2 if above else float(np.nextafter(highest_refused, np.inf))
