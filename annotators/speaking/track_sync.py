"""A track's speaking segments are judged together: one lip-sync score per track, not per segment.

A track is one face through one shot, under one audio track. A dub, a voice-over or a mismatched
mux is a property of that audio, and it rarely starts or stops at a segment's edge, while a single
2-10 s segment holds few syllables and its score is noisy (genuine talking heads of one clip score
1.1 and 1.7 on neighbouring segments; a dub of the same picture 0.5 and 2.0). So the verdict of each
speaking segment reads the mean of the scores of its track's speaking segments, each weighted by
its voiced speaking frames (the weight the thresholds are fitted with); a segment without a score of
its own takes its track's. What the segment scored alone is kept beside it
(``SegmentRow.lip_sync_segment_score``), for an audit of a voice-over that covers only part of a shot.

Held out by source (``benchmarks.face_voice_match --pool-tracks``: 29 sources, 156 genuine speaking
segments, 936 dubbed, the default ``learned_av_face_voice``, thresholds refitted per fold by the
shipped rule): dubbed speech kept falls from 0.156 to 0.124 of its frames (147 to 119 segments) at
genuine speech kept 0.980 and 0.977. The cache does not name tracks: a clip's segments with the same
face vector are one. Tried on the same folds (a selection): a mean that keeps a quarter or a half of
each segment's own score kept 0.136 and 0.143 of dubbed speech; the whole track it is. The cost: the
reject cut fitted on track means is higher (1.42 against 1.36), and genuine tracks rejected whole rise
from 2 to 5 of 95 (short one-segment clips now hold the 2 % of genuine speech the rule may drop). The other
models gain too on the same folds (dubbed kept at the same genuine share): ``learned_av_sync`` 0.372 ->
0.363, ``learned_sync`` 0.326 -> 0.312, ``av_sync`` 0.750 -> 0.702; their thresholds stay those fitted
per segment (refitted on the track means, ``learned_sync``'s and ``learned_av_sync``'s move by under
0.05; ``av_sync``'s come from ``bench dubbing``'s shared clips).
"""

from collections.abc import Hashable, Sequence

import numpy as np


def track_scores(scores: Sequence[float], weights: Sequence[float], tracks: Sequence[Hashable]) -> np.ndarray:
    """Per segment: the ``weights``-weighted mean of the finite ``scores`` of the segments of its track
    (``tracks``: one key per segment); the plain mean where none of them has weight; NaN where no
    segment of the track has a score."""
    score = np.asarray(scores, dtype=np.float64)
    weight = np.asarray(weights, dtype=np.float64)
    if not (len(score) == len(weight) == len(tracks)):
        raise ValueError(f"{len(score)} scores, {len(weight)} weights, {len(tracks)} tracks")
    pooled = np.full(len(score), np.nan)
    members: dict[Hashable, list[int]] = {}
    for i, track in enumerate(tracks):
        members.setdefault(track, []).append(i)
    for rows in members.values():
        s, w = score[rows], weight[rows]
        finite = np.isfinite(s)
        weighted = finite & (w > 0)
        if weighted.any():
            pooled[rows] = float(np.sum(s[weighted] * w[weighted]) / np.sum(w[weighted]))
        elif finite.any():
            pooled[rows] = float(np.mean(s[finite]))
    return pooled


def track_means(
    scores: Sequence[float | None], weights: Sequence[float], tracks: Sequence[Hashable]
) -> list[float | None]:
    """``track_scores`` on scores where None means none (benches' rows): None where the track has none."""
    pooled = track_scores([np.nan if s is None else s for s in scores], weights, tracks)
    return [float(p) if np.isfinite(p) else None for p in pooled]
