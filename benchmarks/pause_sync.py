"""Do the voice's pauses meet the mouth's rests? A pause term for the lip-sync verdict (issue 40; not shipped).

A speaker's mouth moves while their voice sounds and rests while it pauses: over a few seconds the two
switch on and off together. A dub's voice pauses where its own speaker paused. ``av_sync`` cannot read
this (it removes everything slower than 0.5 s from both signals and asks how far the correlation near lag
0 stands out of the correlations a few frames away, where a one-second pause correlates as well), and the
head term reads the head. ``pause_score`` reads a segment's context (up to 5 s on each side, as the
verdict does): how fast the mouth moves per frame (the frame-to-frame change of its standardised opening,
jaw opening and darkness summed) against the voice's loudness per frame (log power of the frame's audio,
``head_motion_sync.loudness_per_frame``), both smoothed over ``SMOOTH`` frames (0.2 s at 25 fps, set
before it was measured), correlated at lag 0 over the frames with a face.

Measured on ``bench learned-sync``'s pairs (every speaking segment of the feature cache under its own
audio and under 6 seeded foreign voices): alone (AUC genuine above dubbed; beside ``av_sync`` alone,
which fits nothing), with its smoothing and signals varied, and added with each ``--weights`` value to the
shipped ``learned_av_face_voice_head`` score (out-of-fold ``learned_av_sync`` rows of ``--sync-rows`` plus
0.75 x the match of a map trained without the picture's and the voice's sources plus 0.1 x the head
term), each segment scored by its track's mean as the states stage judges it, thresholds refitted per
held-out source by the shipped rule (``apps.bench.sync_folds``). Figures: docs/sync_verdict.md.

Run::

    python -m benchmarks.head_motion_sync --extract --corpus CAL --media ../shared/media --out FEATURES_HEAD
    python -m benchmarks.pause_sync --features FEATURES --head FEATURES_HEAD --sync-rows LS.json --json
"""

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.head_motion_sync import WEIGHT as HEAD_WEIGHT
from annotators.speaking.head_motion_sync import lag_correlation, loudness_per_frame, nan_smooth
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import Pair, auc, av_sync_score, folds_report, pair_audio, rows_of
from apps.bench.learned_sync_training import FeatureSet, Segment
from benchmarks.face_voice_match import brief, per_track
from benchmarks.head_motion_sync import held_out_rows, with_head

SMOOTH = 5
# (name, smoothing in frames, whether the mouth's darkness is read): the measured term first.
HARD = (1.4, 2.3)  # about the shipped reject and accept thresholds (1.56 / 2.27)
VARIANTS = (("pauses", SMOOTH, True), ("smooth_3", 3, True), ("smooth_8", 8, True), ("no_darkness", SMOOTH, False))


def _standardised(x: np.ndarray | None) -> np.ndarray | None:
    """``x`` less its mean over its finite frames, in units of their spread; None when it has fewer
    than two finite frames or no spread (a signal that was not read). Unlike ``av_sync``'s, gaps stay
    NaN: frames without a face drop out of the correlation instead of reading an interpolated mouth."""
    if x is None:
        return None
    values = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.sum() < 2 or np.std(values[finite]) <= 0:
        return None
    return (values - values[finite].mean()) / np.std(values[finite])


def mouth_activity(mouth: MouthTrack) -> np.ndarray:
    """How fast the mouth moves at each frame: the change since the frame before of its standardised
    opening, jaw opening and darkness summed (the signals read); NaN where the face is absent."""
    signals = (mouth.mouth_open, mouth.jaw_open, mouth.mouth_dark)
    parts = [p for p in (_standardised(x) for x in signals) if p is not None]
    if not parts:
        return np.full(len(mouth.mouth_open), np.nan)
    total = np.sum(parts, axis=0)
    return np.abs(np.diff(total, prepend=total[:1]))


def pause_score(mouth: MouthTrack, audio: np.ndarray, smooth: int = SMOOTH) -> float:
    """Correlation at lag 0 of the mouth's activity with the voice's loudness over ``mouth`` (the whole
    video's 16 kHz ``audio``), both smoothed over ``smooth`` frames; NaN with fewer than
    ``head_motion_sync.MIN_PAIRS`` frames with a face."""
    n = len(mouth.mouth_open)
    activity = nan_smooth(mouth_activity(mouth), smooth)
    loudness = nan_smooth(loudness_per_frame(audio, mouth.first_frame, n, mouth.fps), smooth)
    return lag_correlation(activity, loudness, 0)


def pause_scorer(smooth: int, darkness: bool) -> Callable[[FeatureSet, Pair], float]:
    def score(features: FeatureSet, pair: Pair) -> float:
        segment: Segment = pair[0]
        s = segment.signals
        mouth = MouthTrack(s[:, 0], s[:, 1], s[:, 2] if darkness else None, segment.ctx_first, segment.fps)
        return pause_score(mouth, pair_audio(features, pair), smooth)

    return score


def evaluate(features_dir: Path, head_dir: Path, sync_rows: Path, weights: list[float]) -> dict[str, Any]:
    held = held_out_rows(features_dir, head_dir, sync_rows)
    features, pairs = held.features, held.pairs
    av = rows_of(features, pairs, av_sync_score)
    report: dict[str, Any] = {"pairs": len(pairs), "av_sync_auc": auc(av)}
    terms = {}
    for name, smooth, darkness in VARIANTS:
        rows = rows_of(features, pairs, pause_scorer(smooth, darkness))
        terms[name] = rows
        scored = [r for r in rows if r.score is not None]
        beside = [replace(a, score=None if a.score is None else a.score + 1.5 * (p.score or 0.0))
                  for a, p in zip(av, rows, strict=True)]  # fmt: skip
        report[name] = {
            "scored": len(scored), "auc": auc(rows), "av_sync_plus_1.5x_auc": auc(beside),
            "correlation_with_av_sync": _correlation(av, rows),
            "genuine_median": _median([r.score for r in scored if r.genuine]),
            "dubbed_median": _median([r.score for r in scored if not r.genuine]),
        }  # fmt: skip
    shipped = with_head(held.face_voice, held.head, HEAD_WEIGHT)
    report["pauses_among_hard_tracks"] = hard_band(per_track(shipped, held.keys), per_track(terms["pauses"], held.keys))
    for w in [0.0, *weights]:
        # with_head adds any term in step with the rows: score + w x the pause term
        judged = folds_report(per_track(with_head(shipped, terms["pauses"], w), held.keys), held.sources)
        report[f"shipped_plus_{w:g}_pauses"] = {**brief(judged), "fit_on_all_sources": {
            k: judged["fit_on_all_sources"][k] for k in ("reject_below", "accept_from")}}  # fmt: skip
    return report


def hard_band(shipped: list[ScoredSegment], term: list[ScoredSegment], band: tuple[float, float] = HARD) -> dict:
    """The term's AUC (both by track) among the pairs whose shipped track score lies in ``band``: the
    ones the verdict finds hard, between its reject and accept thresholds."""
    inside = [t for r, t in zip(shipped, term, strict=True) if r.score is not None and band[0] <= r.score < band[1]]
    return {"band": list(band), "genuine": sum(t.genuine for t in inside),
            "dubbed": sum(not t.genuine for t in inside), "auc": auc(inside)}  # fmt: skip


def _median(values: list[float | None]) -> float | None:
    return float(np.median(values)) if values else None


def _correlation(a: list[ScoredSegment], b: list[ScoredSegment]) -> float | None:
    both = [(x.score, y.score) for x, y in zip(a, b, strict=True) if x.score is not None and y.score is not None]
    if len(both) < 3:
        return None
    x, y = np.array(both).T
    return float(np.corrcoef(x, y)[0, 1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True, help="the feature cache (sync_corpus_features)")
    parser.add_argument("--head", type=Path, required=True, help="benchmarks.head_motion_sync --extract's cache")
    parser.add_argument("--sync-rows", type=Path, required=True, help="bench learned-sync's JSON on --features")
    parser.add_argument("--weights", default="0.25,0.5,0.75,1,1.5,2")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = evaluate(args.features, args.head, args.sync_rows, [float(x) for x in args.weights.split(",")])
    print(json.dumps(report, indent=1) if args.json else report)


if __name__ == "__main__":
    main()
