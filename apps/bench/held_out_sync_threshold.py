"""The lip-sync reject threshold refitted without one source and scored on that source.

The rule being fitted is the one issue 40 sets for the verdict: reject only below the highest
threshold that still keeps at least ``KEEP_GENUINE`` of the fitting clips' genuine speech
(voiced frames labelled speaking, weighted by segment). Fitting it on every source and scoring
it on the same clips would flatter it; here each source is scored with a threshold its own clips
never saw.
"""

import math
from dataclasses import dataclass

KEEP_GENUINE = 0.98


@dataclass(frozen=True)
class ScoredSegment:
    source_id: str
    clip: str
    score: float | None  # None: the model gave no score, and the verdict keeps the segment
    genuine_frames: int  # voiced frames labelled speaking inside the segment


def kept_by(segment: ScoredSegment, threshold: float) -> bool:
    """The verdict's own rule (``LipSyncVerdict.out_of_sync``): only a finite score below rejects."""
    return segment.score is None or not math.isfinite(segment.score) or segment.score >= threshold


def fit_threshold(segments: list[ScoredSegment], keep: float = KEEP_GENUINE) -> float:
    """The highest threshold (a segment score, or -inf) under which at most ``1 - keep`` of the
    genuine frames fall."""
    scored = sorted((s for s in segments if s.score is not None and math.isfinite(s.score)), key=lambda s: s.score)
    total = sum(s.genuine_frames for s in segments)
    allowed = (1.0 - keep) * total
    best = -math.inf
    below = 0
    for segment in scored:
        if below <= allowed:
            best = segment.score  # a threshold here rejects only what is strictly below it
        below += segment.genuine_frames
    return best


def leave_one_source_out(segments: list[ScoredSegment]) -> dict[str, float]:
    """source_id -> the threshold fitted on every other source."""
    sources = sorted({s.source_id for s in segments})
    return {held: fit_threshold([s for s in segments if s.source_id != held]) for held in sources}
