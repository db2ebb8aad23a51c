"""What else was tried for the learned lip-sync verdict, held out by source (issue 40).

``learned_sync`` keeps about half of dubbed speech at the reject threshold that keeps 0.98 of genuine
speech. Each variant below changes one thing of the shipped recipe and is scored exactly as
``lpm-curate bench learned-sync`` scores it: for every source, a network trained without that source
scores its segments under their own audio and under ``voices`` foreign voices; the thresholds of the
fold are fitted by the shipped rule on the other sources' rows (``apps.bench.sync_folds``).

- ``shipped``: the shipped recipe (3 mouth signals, 300 steps, ``standout`` over lags -15..15);
- ``wide_null``: the same networks, the score's far lags widened to -50..50 (2 s): a better estimate
  of how high a wrong alignment's curve reaches;
- ``with_av_sync``: the mean of the shipped score and ``av_sync``'s on the same segment and audio
  (``learned_av_sync``, which ships since);
- ``blendshapes``: 17 mouth blendshapes (``sync_corpus_features.MOUTH_BLENDSHAPES``) as further
  input channels (20 signals, 40 channels);
- ``steps_1000``: the shipped inputs trained 1,000 steps instead of 300.

Run: ``python -m benchmarks.sync_variants --features FEATURES [--variants a,b] [--json]``, FEATURES a
cache of ``python -m apps.bench.sync_corpus_features`` (with its ``blend`` arrays for ``blendshapes``).
"""

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.learned_sync_network import audio_features, similarity_curve, visual_features
from annotators.speaking.av_sync import SyncCurve, standout
from annotators.speaking.learned_lip_sync import NEAR_LAG
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import (
    Pair,
    auc,
    dubbing_pairs,
    figures,
    fold_networks,
    learned_scorer,
    mean_scorer,
    pair_audio,
    rows_of,
)
from apps.bench.learned_sync_training import FeatureSet, TrainSettings, load_features
from apps.bench.sync_folds import leave_one_source_out

VARIANTS = ("shipped", "wide_null", "with_av_sync", "blendshapes", "steps_1000")
WIDE_LAG = 50
LONGER_STEPS = 1000

Scorer = Callable[[FeatureSet, Pair], float]


def wide_scorer(members: list[Any]) -> Scorer:
    """The shipped score, its far lags reaching ``WIDE_LAG`` frames (the members' mean)."""
    import torch

    def score(features: FeatureSet, pair: Pair) -> float:
        segment = pair[0]
        n = len(segment.signals)
        if n < 8 or np.isfinite(segment.signals).all(axis=1).sum() < 8:
            return float("nan")
        sound = audio_features(pair_audio(features, pair), segment.ctx_first - WIDE_LAG, n + 2 * WIDE_LAG, segment.fps)
        lags = np.arange(-WIDE_LAG, WIDE_LAG + 1)
        v_in, a_in = torch.from_numpy(visual_features(segment.signals))[None], torch.from_numpy(sound)[None]
        with torch.no_grad():
            curves = [similarity_curve(m.embed_visual(v_in), m.embed_audio(a_in), WIDE_LAG)[0].numpy() for m in members]
        return float(np.mean([standout(SyncCurve(lags, c.astype(np.float64)), NEAR_LAG) for c in curves]))

    return score


def held_out_rows(features: FeatureSet, settings: TrainSettings, scorer: Callable[[Any], Scorer],
                  voices: int, seed: int) -> list[ScoredSegment]:
    pairs = dubbing_pairs(features, voices, seed)
    rows: list[ScoredSegment] = []
    sources = sorted({s.source for s in features.segments if s.weight > 0})
    for held, network, _ in fold_networks(features, settings, sources):
        rows += rows_of(features, [p for p in pairs if p[0].source == held], scorer(network))
        print(f"  fold {held}", file=sys.stderr, flush=True)
    return rows


def summary(rows: list[ScoredSegment]) -> dict[str, float | int | None]:
    pooled = leave_one_source_out(rows, figures)["pooled_held_out"]
    keys = ("genuine_frames_kept", "dubbed_frames_kept", "genuine_frames_in_sync", "dubbed_frames_in_sync",
            "genuine_segments_out_of_sync", "dubbed_segments_kept", "dubbed_segments")
    return {"auc": auc(rows), **{k: pooled[k] for k in keys}}


def run_variant(name: str, folder: Path, voices: int = 6, seed: int = 0,
                base: TrainSettings | None = None) -> dict[str, float | int | None]:
    """One variant's pooled held-out figures; ``base``: the training settings it changes (by default the
    shipped ones with one network, as these variants were measured)."""
    base = base or TrainSettings(members=1)
    features = load_features(folder, with_blendshapes=name == "blendshapes")
    settings = replace(base, steps=LONGER_STEPS) if name == "steps_1000" else base
    scorer = {"wide_null": wide_scorer, "with_av_sync": mean_scorer}.get(name, learned_scorer)
    return summary(held_out_rows(features, settings, scorer, voices, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--voices", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    names = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    report = {}
    for name in names:
        print(f"{name}:", file=sys.stderr, flush=True)
        report[name] = run_variant(name, args.features, args.voices, args.seed)
        if not args.json:
            r = report[name]
            print(f"{name:>13}: AUC {r['auc']:.3f}  genuine kept {r['genuine_frames_kept']:.3f}  dubbed kept "
                  f"{r['dubbed_frames_kept']:.3f} ({r['dubbed_segments_kept']}/{r['dubbed_segments']} segments)  "
                  f"in_sync genuine {r['genuine_frames_in_sync']:.3f} dubbed {r['dubbed_frames_in_sync']:.3f}",
                  flush=True)
    if args.json:
        print(json.dumps({"voices": args.voices, "seed": args.seed, "variants": report}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
