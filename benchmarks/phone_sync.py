"""Phone timings as a lip-sync signal, held out by source (issue 40: what else was tried).

The issue proposed a signal that does not depend on who speaks: a phone recogniser's timings of the
audio (``pocketsphinx`` 5.1.1's English acoustic model and phone language model, in its wheel) set
against the mouth the picture shows. A bilabial (P, B, M) closes the lips, an open vowel (AA, AE,
AH, AO, AW, AY, EH) opens them: under its own voice a face's mouth opening, standardised over the
segment's context, is higher on the vowels' frames than on the bilabials'; under a foreign voice the
two sets of frames fall anywhere. The score is Welch's t of that difference (mouth frames of the
vowels minus those of the bilabials); no score with fewer than 3 vowel or 2 bilabial frames where
the face is present. ``lag_s`` moves the phone times earlier by that much before they meet the frames.

Scored on the same segments and dubs as ``lpm-curate bench learned-sync`` (every cached speaking
segment under its own audio and under ``voices`` foreign voices): the AUC of ``av_sync``, of the
phone score at each lag, and of ``av_sync`` plus ``WEIGHT`` times the phone score (``av_sync`` alone
where the phone score is missing), and for that sum the pooled held-out verdict figures, its two
thresholds refitted per source by the shipped rule (``apps.bench.sync_folds``).

Run: ``pip install pocketsphinx==5.1.1``, then ``python -m benchmarks.phone_sync --features FEATURES
[--json]``, FEATURES a cache of ``python -m apps.bench.sync_corpus_features``.
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import Pair, auc, av_sync_score, dubbing_pairs, figures, pair_audio, rows_of
from apps.bench.learned_sync_training import FeatureSet, load_features
from apps.bench.sync_folds import leave_one_source_out
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH"})
BILABIALS = frozenset({"P", "B", "M"})
PHONE_FRAME_S = 0.01  # pocketsphinx's frames
LAGS_S = (0.0, 0.04, 0.08, 0.12)
WEIGHT = 0.25  # the phone t-statistic's weight beside av_sync's score (their spreads differ about 4x)
MIN_OPEN, MIN_CLOSED = 3, 2

Phone = tuple[str, int, int]  # phone, first and last 10-ms frame
PhoneReader = Callable[[np.ndarray], list[Phone]]


def pocketsphinx_phones() -> PhoneReader:
    """The recogniser: 16 kHz mono float audio in, phones with their frames out."""
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError as err:
        raise SystemExit("benchmarks.phone_sync needs pocketsphinx: pip install pocketsphinx==5.1.1") from err
    models = get_model_path()
    decoder = Decoder(hmm=os.path.join(models, "en-us", "en-us"),
                      allphone=os.path.join(models, "en-us", "en-us-phone.lm.bin"),
                      lw=2.0, beam=1e-20, pbeam=1e-20, loglevel="FATAL")

    def read(audio: np.ndarray) -> list[Phone]:
        decoder.start_utt()
        decoder.process_raw((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes(), full_utt=True)
        decoder.end_utt()
        return [(s.word, s.start_frame, s.end_frame) for s in decoder.seg()]

    return read


def frame_classes(phones: list[Phone], n_frames: int, fps: float, lag_s: float) -> np.ndarray:
    """Per video frame: 1 where an open vowel is heard, -1 a bilabial, 0 anything else: the frames
    whose start falls inside the phone (a phone shorter than a frame marks the frame nearest its
    middle)."""
    classes = np.zeros(n_frames, np.int8)
    for phone, first, last in phones:
        kind = 1 if phone in OPEN_VOWELS else -1 if phone in BILABIALS else 0
        if not kind:
            continue
        t0, t1 = first * PHONE_FRAME_S - lag_s, (last + 1) * PHONE_FRAME_S - lag_s
        # frame f starts at f / fps; inside [t0, t1) (a nanosecond's slack for float products)
        f0, f1 = int(np.ceil(t0 * fps - 1e-9)), int(np.ceil(t1 * fps - 1e-9)) - 1
        frames = range(f0, f1 + 1) if f1 >= f0 else [int(round((t0 + t1) / 2 * fps))]
        for f in frames:
            if 0 <= f < n_frames:
                classes[f] = kind
    return classes


def phone_score(mouth_open: np.ndarray, classes: np.ndarray) -> float:
    """Welch's t of the standardised mouth opening on open-vowel frames minus bilabial frames
    (NaN: too few of either where the face is present)."""
    present = np.isfinite(mouth_open)
    if present.sum() < 2:
        return float("nan")
    z = (mouth_open - np.nanmean(mouth_open)) / (np.nanstd(mouth_open) + 1e-9)
    opened, closed = z[(classes == 1) & present], z[(classes == -1) & present]
    if len(opened) < MIN_OPEN or len(closed) < MIN_CLOSED:
        return float("nan")
    return float((opened.mean() - closed.mean()) / np.sqrt(opened.var() / len(opened) + closed.var() / len(closed)
                                                           + 1e-9))


PhoneCache = dict[tuple[str, int, int], list[Phone]]  # (voice clip, first sample, end sample) -> its phones


def phone_scorer(read: PhoneReader, lag_s: float, cache: PhoneCache) -> Callable[[FeatureSet, Pair], float]:
    """The phone score of a segment's context under a pair's audio; phones read once per voice and span."""

    def score(features: FeatureSet, pair: Pair) -> float:
        segment, voice = pair
        n = len(segment.signals)
        start = int(round(segment.ctx_first / segment.fps * ANALYSIS_SAMPLE_RATE))
        end = start + int(round(n / segment.fps * ANALYSIS_SAMPLE_RATE))
        if end > len(features.audio[segment.clip]):  # a dub's audio is as long as the picture's own
            return float("nan")
        key = (voice or segment.clip, start, end)
        if key not in cache:
            cache[key] = read(pair_audio(features, pair)[start:end])
        return phone_score(segment.signals[:, 0].astype(np.float64),
                           frame_classes(cache[key], n, segment.fps, lag_s))

    return score


def with_phones(av_rows: list[ScoredSegment], phone_rows: list[ScoredSegment]) -> list[ScoredSegment]:
    """``av_sync``'s score plus ``WEIGHT`` times the phone score (``av_sync`` alone where it has none)."""
    return [replace(a, score=None if a.score is None and p.score is None
                    else (a.score or 0.0) + WEIGHT * (p.score or 0.0))
            for a, p in zip(av_rows, phone_rows, strict=True)]


def run(features: FeatureSet, read: PhoneReader, voices: int = 6, seed: int = 0) -> dict[str, Any]:
    pairs = dubbing_pairs(features, voices, seed)
    av_rows = rows_of(features, pairs, av_sync_score)
    report: dict[str, Any] = {"voices": voices, "seed": seed, "weight": WEIGHT, "av_sync_auc": auc(av_rows),
                              "lags": {}}
    cache: PhoneCache = {}
    for lag in LAGS_S:
        phone_rows = rows_of(features, pairs, phone_scorer(read, lag, cache))
        both = with_phones(av_rows, phone_rows)
        pooled = leave_one_source_out(both, figures)["pooled_held_out"]
        report["lags"][f"{lag:.2f}"] = {
            "phone_auc": auc(phone_rows),
            "genuine_scored": sum(r.genuine and r.score is not None for r in phone_rows),
            "dubbed_scored": sum(not r.genuine and r.score is not None for r in phone_rows),
            "with_phones_auc": auc(both),
            "with_phones_genuine_frames_kept": pooled["genuine_frames_kept"],
            "with_phones_dubbed_frames_kept": pooled["dubbed_frames_kept"],
        }
        print(f"lag {lag:.2f} s: {report['lags'][f'{lag:.2f}']}", file=sys.stderr, flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--voices", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(load_features(args.features), pocketsphinx_phones(), args.voices, args.seed)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"av_sync AUC {report['av_sync_auc']:.3f}")
    for lag, r in report["lags"].items():
        print(f"lag {lag} s: phones AUC {r['phone_auc']:.3f} ({r['genuine_scored']} genuine, {r['dubbed_scored']} "
              f"dubbed scored); av_sync + phones AUC {r['with_phones_auc']:.3f}, held out: genuine kept "
              f"{r['with_phones_genuine_frames_kept']:.3f}, dubbed kept {r['with_phones_dubbed_frames_kept']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
