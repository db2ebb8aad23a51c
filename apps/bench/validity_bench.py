"""``lpm-curate bench validity``: the pipeline's decisions on the calibration corpus, per source, held out.

The corpus (``lpm-curate calibration fetch``, docs/calibration_corpus.md) is analysed once with the
lip-sync verdict switched off (threshold -1, so every speaking segment keeps its score); every
decision is then replayed offline from those scores:

- ``genuine_voiced_kept_speaking`` with the shipped threshold (fitted on ../shared/media, so held
  out for this whole corpus), per source and pooled;
- the same with the threshold refitted leave-one-source-out (``held_out_sync_threshold``);
- talking heads rejected whole (no voiced frame kept as speaking);
- face_other clips (a face, no voice of its own) and no_face clips (a voice, no face): frames
  labelled speaking.

Fractions carry Wilson 95% intervals over frames. Frames of one clip are not independent, so the
intervals are narrower than the truth; the per-clip rows say how the frames spread.
- with ``dubbed`` > 0, that many seeded (picture, voice) pairs of talking heads of two people, muxed
  as ``bench dubbing`` does: of their speaking segments, the share kept with the shipped threshold
  and with the held-out threshold of the picture's source.

Not yet here (issue 40 item 2): the state labeller's, performer filter's and cascade's thresholds
refitted per fold.
"""

import csv
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotators.speaking.lip_sync import lip_sync_model
from apps.bench.dubbing_bench import dub
from apps.bench.held_out_sync_threshold import ScoredSegment, kept_by, leave_one_source_out
from apps.bench.speaking_bench import analyse, bench_stages
from apps.bench.state_scoring import predicted_frame_states
from apps.review.precision_report import wilson_interval
from curation.media.probe import probe_media
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from schemas.performer_states import PerformerState

# Every segment keeps its score: the verdict is replayed offline at each threshold.
VERDICT_OFF = "states.lip_sync_threshold=-1"
SCORED_LABELS = ("talking_head", "face_other", "no_face")
TARGETS = {"genuine_voiced_kept_speaking_held_out": (">=", 0.95)}


@dataclass(frozen=True)
class CorpusEntry:
    path: Path
    label: str
    source_id: str
    person_id: str


@dataclass
class ClipOutcome:
    entry: CorpusEntry
    voiced: int  # voiced frames
    speaking_frames: int  # frames labelled speaking, voiced or not
    segments: list[ScoredSegment]  # speaking segments with their score and genuine frames
    rejections: dict[str, int]  # reason -> count: why a clip may have no segment at all


def load_corpus(corpus_dir: Path) -> list[CorpusEntry]:
    """The clips a ``calibration fetch`` materialised (its MANIFEST.csv lists only verified ones)."""
    with open(corpus_dir / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        return [CorpusEntry(corpus_dir / r["file"], r["label"], r["source_id"], r["person_id"])
                for r in csv.DictReader(fh)]


def clip_outcome(entry: CorpusEntry, work: VideoWork, vad_threshold: float) -> ClipOutcome:
    n = work.analysis.n_frames if work.analysis is not None else 0
    # No audio track (or a clip finished before speech analysis): nothing is voiced.
    vad = np.asarray(work.speech.vad_prob, dtype=np.float32)[:n] if work.speech is not None else np.zeros(n)
    voiced = np.zeros(n, dtype=bool)
    voiced[: len(vad)] = vad >= vad_threshold
    speaking = predicted_frame_states(work, len(voiced)) == PerformerState.SPEAKING
    fps = work.analysis.fps if work.analysis is not None else 25.0
    segments = []
    for segment in work.segments:
        if segment["state"] != "speaking":
            continue
        inside = np.zeros(len(voiced), dtype=bool)
        inside[int(round(segment["t_start"] * fps)) : int(round(segment["t_end"] * fps))] = True
        segments.append(ScoredSegment(entry.source_id, entry.path.name, segment.get("lip_sync_score"),
                                      int((inside & voiced & speaking).sum())))
    reasons = Counter(str(r.get("reason")) for r in work.rejections)
    return ClipOutcome(entry, int(voiced.sum()), int(speaking.sum()), segments, dict(reasons))


def run_validity_bench(
    corpus_dir: Path,
    workdir: Path | None = None,
    overrides: list[str] | None = None,
    limit: int | None = None,
    dubbed: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    started = time.perf_counter()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="lpm-bench-validity-"))
    stages = bench_stages([*(overrides or []), VERDICT_OFF])
    states = stages[-1]
    shipped_threshold = lip_sync_model(states.lip_sync.name).threshold
    entries = [e for e in load_corpus(corpus_dir) if e.label in SCORED_LABELS][:limit]
    outcomes = [clip_outcome(e, analyse(e.path, stages, workdir / "store"), states.vad_threshold) for e in entries]
    genuine = [o for o in outcomes if o.entry.label == "talking_head"]
    folds = leave_one_source_out([s for o in genuine for s in o.segments])
    report: dict[str, Any] = {
        "corpus": str(corpus_dir),
        "overrides": overrides or [],
        "lip_sync_model": states.lip_sync.name,
        "shipped_threshold": shipped_threshold,
        # -inf (nothing rejected) when the other sources give nothing to fit; JSON has no infinity.
        "held_out_thresholds": {k: (v if np.isfinite(v) else None) for k, v in folds.items()},
        "clips": len(outcomes),
    }
    report["genuine_voiced_kept_speaking_shipped"] = _kept_report(genuine, lambda o: shipped_threshold)
    report["genuine_voiced_kept_speaking_held_out"] = _kept_report(genuine, lambda o: folds[o.entry.source_id])
    report["genuine_voiced_kept_speaking_without_verdict"] = _kept_report(genuine, lambda o: -np.inf)
    # A face without its voice, or a voice without a face: no frame of either is anyone speaking.
    for label in ("face_other", "no_face"):
        others = [o for o in outcomes if o.entry.label == label]
        report[f"{label}_frames_speaking"] = {"frames_speaking": sum(o.speaking_frames for o in others),
                                              "clips": len(others)}
    if dubbed:
        pairs = dubbing_pairs([o.entry for o in genuine if o.voiced], dubbed, seed)
        dubbed_clips = [_dubbed_outcome(video, voice, stages, workdir, states.vad_threshold) for video, voice in pairs]
        report["dubbed_segments_kept_speaking_shipped"] = _segments_kept(dubbed_clips, lambda o: shipped_threshold)
        report["dubbed_segments_kept_speaking_held_out"] = _segments_kept(
            dubbed_clips, lambda o: folds.get(o.entry.source_id, -np.inf))
        report["dubbed_per_clip"] = [_clip_row(o, shipped_threshold, folds) for o in dubbed_clips]
    pooled = report["genuine_voiced_kept_speaking_held_out"]["pooled"]["fraction"]
    report["targets"] = {key: {"op": op, "target": target, "measured": pooled,
                               "met": pooled is not None and pooled >= target}
                         for key, (op, target) in TARGETS.items()}
    report["per_clip"] = [_clip_row(o, shipped_threshold, folds) for o in outcomes]
    report["wall_seconds"] = time.perf_counter() - started
    return report


def dubbing_pairs(talking: list[CorpusEntry], n: int, seed: int) -> list[tuple[CorpusEntry, CorpusEntry]]:
    """``n`` seeded (picture, voice) pairs of two different people."""
    pairs = [(video, voice) for video in talking for voice in talking if voice.person_id != video.person_id]
    random.Random(seed).shuffle(pairs)
    return pairs[:n]


def _dubbed_outcome(
    video: CorpusEntry, voice: CorpusEntry, stages: list[Stage], workdir: Path, vad_threshold: float
) -> ClipOutcome:
    info = probe_media(video.path)
    video_s = info.n_frames / info.fps if info.fps and info.n_frames else info.duration_s
    workdir.mkdir(parents=True, exist_ok=True)
    path = dub(video.path, voice.path, workdir / f"{video.path.stem}__voice_{voice.path.stem}.mp4",
               min(info.duration_s, video_s))
    try:
        # The picture's source: its held-out threshold is the one that judges the dubbed copy.
        entry = CorpusEntry(path, "dubbed", video.source_id, video.person_id)
        return clip_outcome(entry, analyse(path, stages, workdir / "store"), vad_threshold)
    finally:
        path.unlink(missing_ok=True)


def _segments_kept(outcomes: list[ClipOutcome], threshold_of: Callable[[ClipOutcome], float]) -> dict[str, Any]:
    kept = sum(kept_by(s, threshold_of(o)) for o in outcomes for s in o.segments)
    total = sum(len(o.segments) for o in outcomes)
    low, high = wilson_interval(kept, total)
    return {"kept": kept, "segments": total, "fraction": kept / total if total else None, "wilson95": [low, high],
            "clips": len(outcomes)}


def _kept(outcome: ClipOutcome, threshold: float) -> int:
    return sum(s.genuine_frames for s in outcome.segments if kept_by(s, threshold))


def _fraction(kept: int, voiced: int) -> dict[str, Any]:
    low, high = wilson_interval(kept, voiced)
    return {"kept": kept, "voiced": voiced, "fraction": kept / voiced if voiced else None, "wilson95": [low, high]}


def _kept_report(outcomes: list[ClipOutcome], threshold_of: Callable[[ClipOutcome], float]) -> dict[str, Any]:
    by_source: dict[str, list[ClipOutcome]] = {}
    for o in outcomes:
        by_source.setdefault(o.entry.source_id, []).append(o)
    per_source = {
        source: _fraction(sum(_kept(o, threshold_of(o)) for o in group), sum(o.voiced for o in group))
        for source, group in sorted(by_source.items())
    }
    kept = sum(v["kept"] for v in per_source.values())
    voiced = sum(v["voiced"] for v in per_source.values())
    rejected_whole = [o.entry.path.name for o in outcomes if o.voiced and _kept(o, threshold_of(o)) == 0]
    return {"pooled": _fraction(kept, voiced), "per_source": per_source, "rejected_whole": rejected_whole}


def _clip_row(o: ClipOutcome, shipped: float, folds: dict[str, float]) -> dict[str, Any]:
    held = folds.get(o.entry.source_id, -np.inf)
    return {
        "clip": o.entry.path.name, "label": o.entry.label, "source_id": o.entry.source_id,
        "person_id": o.entry.person_id, "voiced_frames": o.voiced, "speaking_frames": o.speaking_frames,
        "kept_shipped": _kept(o, shipped), "kept_held_out": _kept(o, held),
        "segments": [{"score": s.score, "genuine_frames": s.genuine_frames} for s in o.segments],
        "rejections": o.rejections,
    }
