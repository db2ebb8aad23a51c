"""``learned_av_sync``: the mean of the learned network's score and the offline estimator's.

``learned_sync`` (a mouth/sound embedding trained here) and ``av_sync`` (the mouth signal's
correlation with the audio envelope) are both read as how far the curve's value near lag 0 stands
out of the other lags, in units of their spread, so their scores share a scale and can be averaged.
They err on different segments: held out by source on the calibration corpus (29 sources with
speaking segments, 156 genuine speaking segments, 936 dubbed; ``lpm-curate bench learned-sync``) the
mean ranks genuine speech above dubbed speech at AUC 0.967, against 0.964 for the network (five
members) and 0.895 for the estimator alone (27 sources on a partly stale cache: 0.980, 0.976, 0.907;
23 sources: 0.973, 0.968, 0.898; 18: 0.962, 0.958, 0.878). A segment either model cannot score
has no score (``uncertain``): one model's reading alone sits on another scale than the thresholds
were fitted on.

Thresholds: the rule of ``annotators.speaking.sync_thresholds`` on every out-of-fold mean score of
``lpm-curate bench learned-sync`` (its ``learned_av_sync`` report; docs/sync_verdict.md).
"""

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from annotators.face.mouth_track import MouthTrack

MODEL = "learned_av_sync"
# The rule on every out-of-fold mean score of `lpm-curate bench learned-sync --features FEATURES` (29
# sources with speaking segments, 156 genuine speaking segments, 936 dubbed, a cache extracted afresh; the
# network five members a fold): 0.708 / 1.518, rounded. (27 sources, 131 / 786, a cache partly extracted
# before states version 7: 0.916 / 1.523; 23 sources, 116 / 696: 0.745 / 1.499; 18, 99 / 594: 0.690 / 1.619.)
THRESHOLD = 0.71
ACCEPT_THRESHOLD = 1.52


def mean_score(learned: float, signal: float) -> float:
    """The mean of the two scores; NaN unless both are finite."""
    if not (np.isfinite(learned) and np.isfinite(signal)):
        return float("nan")
    return 0.5 * (float(learned) + float(signal))


class SegmentScorer(Protocol):
    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float: ...


@dataclass
class MeanLipSync:
    """``learned_sync`` and ``av_sync`` on the same segment and audio, averaged; the two models are
    given (``lip_sync.lip_sync_model`` builds them)."""

    name: ClassVar[str] = MODEL
    learned: SegmentScorer
    signal: SegmentScorer
    threshold: float = THRESHOLD
    accept_threshold: float = ACCEPT_THRESHOLD

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        return mean_score(self.learned.sync_score(mouth, audio), self.signal.sync_score(mouth, audio))
