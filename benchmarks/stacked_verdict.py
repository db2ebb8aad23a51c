"""The verdict's parts weighed by a model fitted without each source, against the hand-set weights (not shipped).

The shipped score adds its parts with weights chosen on the folds they are scored on: the mean of
``learned_sync`` and ``av_sync``, 0.75 x the face/voice match, 0.1 x the head term. Here the weights are
learned instead, held out: per source S, a logistic regression (balanced classes, L2, C = 1) over each
pair's track means of the parts, fitted on the pairs whose picture and voice both come from other
sources, scores S's pairs. Its out-of-fold scores then go through the shipped rule exactly as the
hand-weighted ones do (``folds_report``: thresholds refitted per held-out source, each segment judged by
its track), so the two rows compare the weighting and nothing else. ``--with-pauses`` adds
``benchmarks.pause_sync``'s term as a fifth part.

Run::

    python -m benchmarks.stacked_verdict --features FEATURES --head FEATURES_HEAD --sync-rows LS.json --json
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from annotators.speaking.face_voice_lip_sync import WEIGHT as MATCH_WEIGHT
from annotators.speaking.head_motion_sync import WEIGHT as HEAD_WEIGHT
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import folds_report, rows_of
from benchmarks.face_voice_match import brief, per_track
from benchmarks.head_motion_sync import HeldOutRows, held_out_rows, with_head
from benchmarks.pause_sync import SMOOTH, pause_scorer


def part_columns(held: HeldOutRows, sync_rows: dict[str, list[dict[str, Any]]], pauses: bool) -> dict[str, np.ndarray]:
    """Each part's score per pair (NaN where it has none): the networks' and ``av_sync``'s out-of-fold
    rows, the match recovered from ``learned_av_face_voice`` (its rows less ``learned_av_sync``'s, over
    the match weight), the head term and, with ``pauses``, the pause term."""

    def column(scores: list[float | None]) -> np.ndarray:
        return np.array([np.nan if s is None else s for s in scores], dtype=np.float64)

    order = sync_rows["learned_av_sync"]  # the pairs' order (``combined`` checks it against the match's)
    mean = column([r["score"] for r in order])
    columns = {
        "learned_sync": column(in_order(sync_rows["learned_sync"], order)),
        "av_sync": column(in_order(sync_rows["av_sync"], order)),
        "match": (column([r.score for r in held.face_voice]) - mean) / MATCH_WEIGHT,
        "head": column([r.score for r in held.head]),
    }
    if pauses:
        columns["pauses"] = column([r.score for r in rows_of(held.features, held.pairs, pause_scorer(SMOOTH, True))])
    return columns


def in_order(rows: list[dict[str, Any]], order: list[dict[str, Any]]) -> list[float | None]:
    """``rows``' scores in ``order``'s order: ``bench learned-sync`` lists each model's rows in its own
    order; a pair is its picture, its voice and which of that clip's segments it is (their order kept)."""
    queued: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        queued.setdefault((row["picture"], row["voice"]), []).append(row)
    out = []
    for row in order:
        match = queued[(row["picture"], row["voice"])].pop(0)
        if match["weight"] != row["weight"]:
            raise ValueError(f"rows out of step: {row['picture']} under {row['voice']}")
        out.append(match["score"])
    return out


def track_means(held: HeldOutRows, values: np.ndarray) -> np.ndarray:
    """Each pair's value replaced by its track's mean, as the verdict pools a track's segments."""
    rows = [replace(r, score=float(v) if np.isfinite(v) else None)
            for r, v in zip(held.face_voice, values, strict=True)]  # fmt: skip
    return np.array([np.nan if r.score is None else r.score for r in per_track(rows, held.keys)])


def stacked_scores(held: HeldOutRows, features: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Out-of-fold scores of the per-source logistic regressions, and the one fitted on every pair."""
    # A part missing on a track takes its median over all tracks (a handful of pairs).
    filled = np.where(np.isfinite(features), features, np.nanmedian(features, axis=0))
    genuine = np.array([r.genuine for r in held.face_voice])
    picture = np.array([r.picture_source for r in held.face_voice])
    voice = np.array([r.voice_source for r in held.face_voice])
    out = np.full(len(genuine), np.nan)
    for source in held.sources:
        train = (picture != source) & (voice != source)
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(filled[train], genuine[train])
        out[picture == source] = model.decision_function(filled[picture == source])
    everything = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(filled, genuine)
    return out, {"coefficients": everything.coef_[0].round(4).tolist(), "intercept": float(everything.intercept_[0])}


def evaluate(features_dir: Path, head_dir: Path, sync_rows: Path, pauses: bool) -> dict[str, Any]:
    held = held_out_rows(features_dir, head_dir, sync_rows)
    columns = part_columns(held, json.loads(sync_rows.read_text())["rows"], pauses)
    shipped = per_track(with_head(held.face_voice, held.head, HEAD_WEIGHT), held.keys)
    report: dict[str, Any] = {"pairs": len(shipped), "hand_weighted": brief(folds_report(shipped, held.sources))}
    sets = {"learned_sync, av_sync, match": ["learned_sync", "av_sync", "match"], "all parts": list(columns)}
    for name, parts in sets.items():
        features = np.stack([track_means(held, columns[p]) for p in parts], axis=1)
        scores, fitted = stacked_scores(held, features)
        rows: list[ScoredSegment] = [replace(r, score=float(s)) for r, s in zip(shipped, scores, strict=True)]
        report[f"stacked: {name}"] = {"parts": parts, **brief(folds_report(rows, held.sources)), "fit_on_all": fitted}
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True, help="the feature cache (sync_corpus_features)")
    parser.add_argument("--head", type=Path, required=True, help="benchmarks.head_motion_sync --extract's cache")
    parser.add_argument("--sync-rows", type=Path, required=True, help="bench learned-sync's JSON on --features")
    parser.add_argument("--with-pauses", action="store_true", help="the pause term as a fifth part")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = evaluate(args.features, args.head, args.sync_rows, args.with_pauses)
    print(json.dumps(report, indent=1) if args.json else report)


if __name__ == "__main__":
    main()
