"""Leave-one-source-out: the learned lip-sync model against ``av_sync`` on the same folds.

From the cached speaking segments (``apps.bench.sync_corpus_features``: the calibration corpus's
talking heads and the shared ones), each scored under its own audio (genuine) and under
``voices`` other people's voices looped under its picture (dubbed, as ``bench dubbing`` muxes;
replayed offline on the same MouthTrack, so both models judge the very same segments; the dub is
not re-encoded and its weight is the genuine segment's voiced speaking frames).

Per source S (``source_id`` of the corpus, ``source_repo`` of the shared clips):

- ``av_sync``: thresholds fitted (``annotators.speaking.sync_thresholds``) on the segments whose
  picture and voice both come from other sources, applied to every segment whose picture is S's;
- ``learned_sync``: a network trained on the other sources only (their clips and voices) scores
  S's segments (its out-of-fold scores). S's thresholds are fitted by the same rule on the
  out-of-fold scores of the other sources' segments (picture and voice not S): each of those was
  scored by a network that never saw its own source, so the fit never reads an in-sample score.
  (Those networks did see S's clips in training; S's own scores never enter its fit.)
- ``learned_av_sync``: the mean of the two scores on each pair (the fold's network and ``av_sync``),
  its thresholds fitted as ``learned_sync``'s.

Reported per fold and pooled: the share of genuine and dubbed speech frames kept (not
``out_of_sync``) and ``in_sync``, with Wilson 95% intervals (frames of one segment are not
independent: the intervals are narrower than the truth; segment counts are given too).
"""

import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.learned_lip_sync import LearnedLipSync
from annotators.speaking.lip_sync import SignalLipSync
from annotators.speaking.mean_lip_sync import mean_score
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_training import (
    FeatureSet,
    Segment,
    TrainSettings,
    dubbed_audio,
    foreign_voices,
    train_members,
)
from apps.bench.sync_folds import leave_one_source_out, verdict_figures
from apps.review.precision_report import wilson_interval

TARGETS = {"genuine_frames_kept": (">=", 0.95), "dubbed_frames_kept": ("<=", 0.05)}

Pair = tuple[Segment, str | None]  # a segment and the clip whose voice it is scored under (None: its own)


def dubbing_pairs(features: FeatureSet, voices: int, seed: int) -> list[Pair]:
    """Every segment under its own audio and under ``voices`` seeded voices of other people."""
    pairs: list[Pair] = []
    for segment in features.segments:
        pairs.append((segment, None))
        others = foreign_voices(features, segment)
        rng = np.random.default_rng([seed, zlib.crc32(segment.clip.encode())])
        pairs += [(segment, others[i]) for i in sorted(rng.permutation(len(others))[:voices])]
    return pairs


def pair_audio(features: FeatureSet, pair: Pair) -> np.ndarray:
    segment, voice = pair
    own = features.audio[segment.clip]
    return own if voice is None else dubbed_audio(own, features.audio[voice])


def av_sync_score(features: FeatureSet, pair: Pair) -> float:
    segment = pair[0]
    s = segment.signals
    mouth = MouthTrack(s[:, 0], s[:, 1], s[:, 2], segment.ctx_first, segment.fps)
    return SignalLipSync().sync_score(mouth, pair_audio(features, pair))


def learned_scorer(network: Any) -> Callable[[FeatureSet, Pair], float]:
    model = LearnedLipSync(network=network)
    return lambda features, pair: model.score_signals(pair[0].signals, pair_audio(features, pair),
                                                      pair[0].ctx_first, pair[0].fps)


def mean_scorer(network: Any) -> Callable[[FeatureSet, Pair], float]:
    """``learned_av_sync``'s score: the network's and ``av_sync``'s on the same pair, averaged."""
    learned = learned_scorer(network)
    return lambda features, pair: mean_score(learned(features, pair), av_sync_score(features, pair))


def rows_of(
    features: FeatureSet, pairs: Sequence[Pair], score: Callable[[FeatureSet, Pair], float]
) -> list[ScoredSegment]:
    sources = features.sources
    return [ScoredSegment(picture=seg.clip, voice=voice or seg.clip, picture_source=seg.source,
                          voice_source=sources[voice or seg.clip], genuine=voice is None,
                          score=_finite(score(features, (seg, voice))), weight=seg.weight)
            for seg, voice in pairs if seg.weight > 0]  # fmt: skip


def subset(features: FeatureSet, keep: Callable[[str], bool]) -> FeatureSet:
    """The segments and audio of the sources ``keep`` accepts."""
    clips = {c for c, source in features.sources.items() if keep(source)}
    return replace(features, segments=[s for s in features.segments if keep(s.source)],
                   audio={c: a for c, a in features.audio.items() if c in clips})


def fold_networks(
    features: FeatureSet, settings: TrainSettings, sources: Sequence[str]
) -> Iterator[tuple[str, Any, float]]:
    """Per held-out source: it, the network (its members) trained on every other source, and the
    training's seconds."""
    for held in sources:
        started = time.perf_counter()
        network = train_members(subset(features, lambda s, held=held: s != held), settings)
        yield held, network, time.perf_counter() - started


def run_folds(
    features: FeatureSet, settings: TrainSettings, voices: int = 6, seed: int = 0, log: bool = False,
) -> dict[str, Any]:
    started = time.perf_counter()
    pairs = dubbing_pairs(features, voices, seed)
    av_rows = rows_of(features, pairs, av_sync_score)
    sources = sorted({s.source for s in features.segments if s.weight > 0})
    learned_rows: list[ScoredSegment] = []
    mean_rows: list[ScoredSegment] = []
    train_s = 0.0
    for held, network, seconds in fold_networks(features, settings, sources):
        train_s += seconds
        held_pairs = [p for p in pairs if p[0].source == held]
        learned_rows += rows_of(features, held_pairs, learned_scorer(network))
        mean_rows += rows_of(features, held_pairs, mean_scorer(network))
        if log:
            print(f"fold {held}: trained in {train_s:.0f} s so far", file=sys.stderr, flush=True)
    report = {
        "settings": settings.__dict__, "voices_per_segment": voices, "seed": seed, "sources": sources,
        "av_sync": folds_report(av_rows, sources),
        "learned_sync": folds_report(learned_rows, sources),
        "learned_av_sync": folds_report(mean_rows, sources),
        "train_seconds": train_s,
    }
    # The shipped thresholds are each report's fit_on_all_sources: for learned_sync and learned_av_sync
    # that is the rule on every out-of-fold score (no network saw the source it scored).
    report["cpu_seconds_per_analysed_second"] = cpu_cost(features, network)
    report["rows"] = {name: [r.as_json() for r in rows] for name, rows in
                      (("av_sync", av_rows), ("learned_sync", learned_rows), ("learned_av_sync", mean_rows))}
    report["wall_seconds"] = time.perf_counter() - started
    return report


def folds_report(rows: list[ScoredSegment], sources: Sequence[str]) -> dict[str, Any]:
    """Per held-out source: thresholds fitted on the rows whose picture and voice both come from
    other sources, applied to the rows whose picture is its (``sync_folds``' rule, with Wilson
    intervals); the fit on every row is the shipped one, and the AUC over every row."""
    return {**leave_one_source_out(rows, figures, sources), "auc": auc(rows)}


def figures(judged: Sequence[tuple[ScoredSegment, str]]) -> dict[str, Any]:
    out = verdict_figures(judged)
    for name, genuine in (("genuine", True), ("dubbed", False)):
        mine = [(r, v) for r, v in judged if r.genuine == genuine]
        frames = sum(r.weight for r, _ in mine)
        for what, ok in (("kept", lambda v: v != "out_of_sync"), ("in_sync", lambda v: v == "in_sync")):
            part = sum(r.weight for r, v in mine if ok(v))
            out[f"{name}_frames_{what}_wilson95"] = list(wilson_interval(part, frames)) if frames else None
        out[f"{name}_segments_kept"] = sum(v != "out_of_sync" for _, v in mine)
    return out


def auc(rows: Sequence[ScoredSegment]) -> float | None:
    """How often a genuine segment outscores a dubbed one (scores without evidence left out)."""
    g = np.array([r.score for r in rows if r.genuine and r.score is not None])
    d = np.array([r.score for r in rows if not r.genuine and r.score is not None])
    if not len(g) or not len(d):
        return None
    return float(((g[:, None] > d[None]).sum() + 0.5 * (g[:, None] == d[None]).sum()) / (len(g) * len(d)))


def cpu_cost(features: FeatureSet, network: Any) -> dict[str, float]:
    """Process CPU seconds per second of context scored, each model over every genuine segment once."""
    seconds = sum(len(s.signals) / s.fps for s in features.segments)
    out = {"analysed_seconds": seconds}
    for name, score in (("av_sync", av_sync_score), ("learned_sync", learned_scorer(network))):
        t0 = time.process_time()
        for segment in features.segments:
            score(features, (segment, None))
        out[name] = (time.process_time() - t0) / seconds if seconds else float("nan")
    return out


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
