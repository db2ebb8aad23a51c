"""A lip-sync network that reads the mouth's pixels, held out by groups of sources beside the shipped ones.

``learned_sync`` reads three mouth signals per frame (MediaPipe's landmarks); SyncNet-class models read
the mouth's pixels, which hold what three numbers cannot (lip closure, teeth, tongue). None of those
weights installs offline, so this trains one here, self-supervised exactly as ``learned_sync`` is
(``apps.bench.learned_sync_training.fit``: its own audio at lag 0 against 30 shifted lags and a foreign
voice at 31) on ``benchmarks.mouth_crops``' 32 x 48 grey lower-face crops, each standardised over its
context (the track's mean image subtracted: what moves, not who it is), with the change from the frame
before as a second channel. A three-layer 2-D convolution per frame, then the temporal stack
``learned_sync`` uses; augmented by mirroring, contrast and a shift of up to 2 px.

Held out by groups of sources (``--groups``, balanced by segment count; leave-one-source-out would train
29 pixel networks, 4-9 min each on 2 cores): per group, a pixel network and ``learned_sync``'s members are
trained on the other groups and score the group's segments under their own audio and under 6 seeded
foreign voices (``dubbing_pairs``, as ``bench learned-sync``); ``av_sync`` needs no training. Reported per
score and per mean of scores: the AUC (genuine above dubbed) and the verdict's held-out figures, thresholds
refitted per held-out source by the shipped rule (``apps.bench.sync_folds``); with ``--with-match``, each
plus 0.75 x the face/voice match (``benchmarks.face_voice_match``, held out by both sources) and pooled per
track, as the shipped verdict (``learned_av_face_voice``) scores.

Run: ``python -m benchmarks.mouth_pixel_sync --features FEATURES_PX [--with-match] [--json]`` (about 60
min on 2 cores with 6 groups).
"""

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.learned_sync_network import MAX_LAG, N_MELS, audio_features, build_network, similarity_curve
from annotators.speaking.av_sync import SyncCurve, standout
from annotators.speaking.learned_lip_sync import MIN_FRAMES, NEAR_LAG
from apps.bench.face_voice_training import SegmentKey, face_vectors, segment_key
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import (
    Pair,
    av_sync_score,
    dubbing_pairs,
    folds_report,
    learned_scorer,
    pair_audio,
    rows_of,
    subset,
)
from apps.bench.learned_sync_training import (
    FeatureSet,
    TrainSettings,
    fit,
    load_features,
    prepared_inputs,
    seeded,
    train_members,
)
from benchmarks.face_voice_match import brief, fold_ordered, per_track, track_keys

MATCH_WEIGHT = 0.75  # the shipped verdict's (annotators.speaking.face_voice_lip_sync)


def load_crops(folder: Path, features: FeatureSet) -> dict[SegmentKey, np.ndarray]:
    """Each segment's context crops, standardised (the context's mean crop subtracted, divided by its
    spread; zeros where the face has no crop). A cache without crops is named, not read."""
    crops: dict[SegmentKey, np.ndarray] = {}
    with open(folder / "CLIPS.csv", newline="", encoding="utf-8") as fh:
        clips = [row["clip"] for row in csv.DictReader(fh)]
    for clip in clips:
        with np.load(folder / clip, allow_pickle=False) as data:
            if "crops" not in data.files:
                raise ValueError(f"{folder / clip}: cached without mouth crops; run benchmarks.mouth_crops")
            offsets = np.concatenate([[0], np.cumsum(data["ctx_len"])])
            for i in range(len(data["ctx_len"])):
                part = slice(offsets[i], offsets[i + 1])
                key = (clip, int(data["seg_first"][i]), int(data["seg_len"][i]))  # face_voice_training's
                crops[key] = standardised(data["crops"][part], data["crop_ok"][part])
    missing = [s.clip for s in features.segments if segment_key(s) not in crops]
    if missing:
        raise ValueError(f"segments without crops: {sorted(set(missing))[:3]}")
    return crops


def standardised(crops: np.ndarray, ok: np.ndarray) -> np.ndarray:
    out = np.zeros(crops.shape, np.float32)
    if ok.sum() >= 2:
        seen = crops[ok].astype(np.float32)
        out[ok] = (seen - seen.mean(axis=0)) / (seen.std() + 1e-3)
    return out


def build_pixel_network(width: int = 16, embed: int = 16, kernel: int = 5) -> Any:
    import torch
    from torch import nn

    class PixelSyncNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # what ``learned_sync_network.save_weights`` writes beside the arrays
            self.config = {"input": "mouth_pixels", "width": width, "embed": embed, "kernel": kernel, "n_mels": N_MELS}
            self.frame = nn.Sequential(
                nn.Conv2d(2, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))  # fmt: skip
            # then learned_sync's own temporal stacks, the visual one reading each frame's 2 x width features
            self.temporal = build_network(width, embed, kernel, visual_channels=2 * width)

        @property
        def scale(self) -> torch.Tensor:
            return self.temporal.scale

        def embed_visual(self, crops: torch.Tensor) -> torch.Tensor:
            """(batch, n, h, w) standardised crops -> (batch, n, embed), unit length per frame."""
            b, n = crops.shape[:2]
            change = torch.cat([torch.zeros_like(crops[:, :1]), crops[:, 1:] - crops[:, :-1]], dim=1)
            frames = torch.stack([crops, change], dim=2).reshape(b * n, 2, *crops.shape[2:])
            return self.temporal.embed_visual(self.frame(frames).reshape(b, n, -1))

        def embed_audio(self, a: torch.Tensor) -> torch.Tensor:
            return self.temporal.embed_audio(a)

    return PixelSyncNetwork()


def augmented(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A window of crops mirrored half the time, its contrast and level jittered, shifted by <= 2 px."""
    if rng.random() < 0.5:
        window = window[:, :, ::-1]
    window = window * rng.uniform(0.8, 1.2) + rng.normal(0.0, 0.1)
    dy, dx = rng.integers(-2, 3, 2)
    return np.ascontiguousarray(np.roll(window, (int(dy), int(dx)), axis=(1, 2)), dtype=np.float32)


def train_pixel(features: FeatureSet, crops: dict[SegmentKey, np.ndarray], settings: TrainSettings,
                width: int, threads: int = 1, log: bool = False) -> Any:
    """A pixel network trained on every segment of ``features`` with ``settings.window`` frames and a crop
    (``threads``: torch's; one gives one set of weights per seed)."""
    import torch

    rng = seeded(settings.seed)
    torch.set_num_threads(threads)
    usable = [s for s in features.segments if len(s.signals) >= settings.window and np.any(crops[segment_key(s)])]
    if not usable:
        raise ValueError(f"no segment of at least {settings.window} frames with mouth crops to train on")
    prepared = [prepared_inputs(features, s, rng, visual=crops[segment_key(s)]) for s in usable]
    return fit(build_pixel_network(width), prepared, settings, rng, log, augment=augmented)


def pixel_scorer(network: Any, crops: dict[SegmentKey, np.ndarray]) -> Callable[[FeatureSet, Pair], float]:
    """A pair's score read as ``learned_sync``'s: the standout of the similarity curve near lag 0."""
    import torch

    lags = np.arange(-MAX_LAG, MAX_LAG + 1)
    embedded: dict[SegmentKey, Any] = {}

    def score(features: FeatureSet, pair: Pair) -> float:
        segment = pair[0]
        mine = crops[segment_key(segment)]
        if len(mine) < MIN_FRAMES or not np.any(mine):
            return float("nan")
        sound = audio_features(pair_audio(features, pair), segment.ctx_first - MAX_LAG, len(mine) + 2 * MAX_LAG,
                               segment.fps)
        with torch.no_grad():
            if segment_key(segment) not in embedded:
                embedded[segment_key(segment)] = network.embed_visual(torch.from_numpy(mine)[None])
            curve = similarity_curve(embedded[segment_key(segment)], network.embed_audio(torch.from_numpy(sound)[None]))
        return standout(SyncCurve(lags, curve[0].numpy().astype(np.float64)), NEAR_LAG)

    return score


def source_groups(features: FeatureSet, groups: int) -> list[list[str]]:
    """The sources with scored segments in ``groups`` groups of about equal segment counts (largest first,
    each to the lightest group; ties by name)."""
    counts: dict[str, int] = {}
    for s in features.segments:
        if s.weight > 0:
            counts[s.source] = counts.get(s.source, 0) + 1
    out: list[list[str]] = [[] for _ in range(min(groups, len(counts)))]
    load = [0] * len(out)
    for source in sorted(counts, key=lambda s: (-counts[s], s)):
        k = int(np.argmin(load))
        out[k].append(source)
        load[k] += counts[source]
    return out


def held_out_scores(features: FeatureSet, crops: dict[SegmentKey, np.ndarray], pairs: Sequence[Pair],
                    settings: TrainSettings, width: int, groups: int, learned_members: int,
                    threads: int = 1, log: bool = False) -> tuple[dict[str, list[float]], list[list[str]]]:
    """Per scored pair (``rows_of``'s order): ``mouth_pixels``, ``learned_sync`` (networks trained without
    the pair's group) and ``av_sync`` scores."""
    scored = [p for p in pairs if p[0].weight > 0]
    scores = {name: [float("nan")] * len(scored) for name in ("mouth_pixels", "learned_sync", "av_sync")}
    grouping = source_groups(features, groups)
    for k, held in enumerate(grouping):
        started = time.perf_counter()
        training = subset(features, lambda source, held=held: source not in held)
        network = train_pixel(training, crops, replace(settings, seed=settings.seed + k), width, threads)
        pixel = pixel_scorer(network, crops)
        learned = learned_scorer(train_members(training, replace(TrainSettings(), seed=settings.seed + k,
                                                                 members=learned_members)))
        for i, pair in enumerate(scored):
            if pair[0].source in held:
                scores["mouth_pixels"][i] = pixel(features, pair)
                scores["learned_sync"][i] = learned(features, pair)
                scores["av_sync"][i] = av_sync_score(features, pair)
        if log:
            print(f"group {k + 1}/{len(grouping)} {held}: {time.perf_counter() - started:.0f} s", file=sys.stderr,
                  flush=True)
    return scores, grouping


def mean_of(*scores: list[float]) -> list[float]:
    """Per pair, the mean of the scores (NaN unless all are finite, as ``mean_score``)."""
    stacked = np.array(scores, dtype=np.float64)
    return [float(x) for x in stacked.mean(axis=0)]


def combinations(scores: dict[str, list[float]]) -> dict[str, list[float]]:
    px, ls, av = scores["mouth_pixels"], scores["learned_sync"], scores["av_sync"]
    return {"mouth_pixels": px, "learned_sync": ls, "av_sync": av,
            "learned_av_sync (learned_sync, av_sync)": mean_of(ls, av),
            "mouth_pixels, av_sync": mean_of(px, av),
            "mouth_pixels, learned_sync": mean_of(px, ls),
            "mouth_pixels, learned_sync, av_sync": mean_of(px, ls, av)}


def report_rows(base: Sequence[ScoredSegment], scores: Sequence[float],
                match: Sequence[ScoredSegment] | None = None) -> list[ScoredSegment]:
    """``base`` rows with ``scores`` (plus ``MATCH_WEIGHT`` x the match where both have one)."""
    rows = []
    for i, (row, x) in enumerate(zip(base, scores, strict=True)):
        value = x if np.isfinite(x) else None
        if value is not None and match is not None and match[i].score is not None:
            value += MATCH_WEIGHT * match[i].score
        rows.append(replace(row, score=value))
    return rows


def run(folder: Path, settings: TrainSettings, width: int, groups: int, learned_members: int,
        with_match: bool, threads: int = 1, log: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    features = load_features(folder)
    crops = load_crops(folder, features)
    pairs = fold_ordered(features, dubbing_pairs(features, 6, 0))
    scores, grouping = held_out_scores(features, crops, pairs, settings, width, groups, learned_members,
                                       threads, log)
    base = rows_of(features, pairs, lambda *_: float("nan"))
    sources = sorted({r.picture_source for r in base})
    report: dict[str, Any] = {"settings": settings.__dict__, "width": width, "groups": grouping,
                              "pairs": len(base), "scores": {}}
    match = keys = None
    if with_match:
        from benchmarks.face_voice_match import MatchSettings, held_out_match, voice_vectors

        faces = face_vectors(folder, features)
        match = rows_of(features, pairs, held_out_match(features, faces, voice_vectors(features, pairs),
                                                         MatchSettings()))
        keys = track_keys(pairs, faces)
    for name, values in combinations(scores).items():
        report["scores"][name] = brief(folds_report(report_rows(base, values), sources))
        if match is not None and keys is not None:
            both = per_track(report_rows(base, values, match), keys)
            report["scores"][f"{name} + {MATCH_WEIGHT:g} match, per track"] = brief(folds_report(both, sources))
    report["rows"] = {name: [x if np.isfinite(x) else None for x in values] for name, values in scores.items()}
    report["wall_seconds"] = time.perf_counter() - started
    return report


def table(report: dict[str, Any]) -> str:
    lines = ["| score | AUC | genuine frames kept | dubbed frames kept | dubbed segments kept |",
             "|---|---|---|---|---|"]
    for name, row in report["scores"].items():
        lines.append(f"| {name} | {row['auc']:.3f} | {row['genuine_frames_kept']:.3f} | "
                     f"{row['dubbed_frames_kept']:.3f} | {row['dubbed_segments_kept']} / {row['dubbed_segments']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True, help="a cache of benchmarks.mouth_crops")
    parser.add_argument("--groups", type=int, default=6)
    parser.add_argument("--steps", type=int, default=TrainSettings.steps)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--learned-members", type=int, default=TrainSettings.members)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the pixel network")
    parser.add_argument("--with-match", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = replace(TrainSettings(), steps=args.steps)
    report = run(args.features, settings, args.width, args.groups, args.learned_members, args.with_match,
                 args.threads, log=True)
    print(json.dumps(report, indent=1) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
