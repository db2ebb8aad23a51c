"""Does the head move with the voice? The head-motion term of the lip-sync verdict, held out by source (issue 40).

``annotators.speaking.head_motion_sync`` scores how far a track's head speed follows the voice's loudness
near lag 0. This measures it the way ``benchmarks.face_voice_match`` measures the face/voice match: on
``bench learned-sync``'s pairs (every speaking segment of the feature cache under its own audio and under
6 seeded foreign voices), alone (AUC genuine above dubbed) and added with each ``--weights`` value to the
shipped ``learned_av_face_voice`` score (the out-of-fold ``learned_av_sync`` rows of ``--sync-rows`` plus
0.75 x the match of a map trained without the picture's and the voice's sources), each segment scored by
its track's mean as the states stage judges it, thresholds refitted per held-out source by the shipped
rule (``apps.bench.sync_folds``). The head term fits nothing on clips; its weight is chosen on the folds it
is scored on (a selection, stated with the figures), and ``fit_on_all_sources`` gives the thresholds.

The lip-sync cache does not keep head pose, so ``--extract`` writes it beside (one ``.npz`` per clip: per
recorded segment its context's yaw, pitch and roll, by the same stages and segments); a segment of the
cache without its twin there (a clip whose segments changed since the cache was made) gets no head score
and keeps its shipped score (counted in the report).

Run::

    python -m benchmarks.head_motion_sync --extract --corpus CAL --media ../shared/media --out FEATURES_HEAD
    python -m benchmarks.head_motion_sync --features FEATURES --head FEATURES_HEAD --sync-rows LS.json --json
"""

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.face_signals import HEAD_POSE
from annotators.face.landmarked_face import FaceEmbedder
from annotators.speaking.face_voice_lip_sync import WEIGHT as MATCH_WEIGHT
from annotators.speaking.head_motion_sync import head_motion_score
from apps.bench.face_voice_training import face_vectors
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import Pair, auc, dubbing_pairs, folds_report, pair_audio, rows_of
from apps.bench.learned_sync_training import FeatureSet, Segment, load_features
from apps.bench.lip_sync_recorder import Call, latest_calls
from apps.bench.sync_corpus_features import context_track, corpus_clips, extract, shared_clips
from benchmarks.face_voice_match import (
    MatchSettings,
    brief,
    combined,
    fold_ordered,
    held_out_match,
    per_track,
    track_keys,
    voice_vectors,
)
from curation.runtime.video_work import VideoWork


def head_arrays(work: VideoWork, calls: list[Call], vad_threshold: float, embedder: FaceEmbedder) -> dict[str, Any]:
    """Per recorded segment (``clip_arrays``' order): its context's head pose (NaN where the face is
    absent), where the context and the segment start, concatenated as ``clip_arrays`` concatenates."""
    fps = work.analysis.fps if work.analysis is not None else 25.0
    pose, ctx_first, ctx_len, seg_first = [], [], [], []
    for mouth, _, _ in latest_calls(calls).values():
        context = mouth.context or mouth
        n = len(context.mouth_open)
        found = context_track(work, context, fps)
        rows = np.full((n, 3), np.nan, np.float32)
        if found is not None:
            features = work.track_features[found[0]]
            rows = features.signals[found[1] : found[1] + n, HEAD_POSE].astype(np.float32)
            rows[~features.present[found[1] : found[1] + n]] = np.nan
        pose.append(rows)
        ctx_first.append(context.first_frame)
        ctx_len.append(n)
        seg_first.append(mouth.first_frame)
    return {"head_pose": np.concatenate(pose) if pose else np.zeros((0, 3), np.float32),
            "ctx_first": np.asarray(ctx_first, np.int64), "ctx_len": np.asarray(ctx_len, np.int64),
            "seg_first": np.asarray(seg_first, np.int64)}


def head_poses(folder: Path, features: FeatureSet) -> dict[tuple[str, int, int], np.ndarray]:
    """(clip, context start, segment start) -> the context's head pose, for the cache's segments found in
    ``folder`` with the same context length."""
    out = {}
    for clip in sorted({s.clip for s in features.segments}):
        path = folder / clip
        if not path.exists():
            continue
        with np.load(path) as data:
            starts = np.concatenate([[0], np.cumsum(data["ctx_len"])])
            for i, (first, seg_first) in enumerate(zip(data["ctx_first"], data["seg_first"], strict=True)):
                out[(clip, int(first), int(seg_first))] = data["head_pose"][starts[i] : starts[i + 1]]
    return out


def head_scorer(poses: dict[tuple[str, int, int], np.ndarray]) -> Callable[[FeatureSet, Pair], float]:
    def score(features: FeatureSet, pair: Pair) -> float:
        segment: Segment = pair[0]
        pose = poses.get((segment.clip, segment.ctx_first, segment.seg_first))
        if pose is None or len(pose) != len(segment.signals):
            return float("nan")
        return head_motion_score(pose, pair_audio(features, pair), segment.ctx_first, segment.fps)

    return score


def with_head(rows: list[ScoredSegment], head: list[ScoredSegment], weight: float) -> list[ScoredSegment]:
    """``score + weight * head`` per row (the row's own score where the head term has none)."""
    out = []
    for r, h in zip(rows, head, strict=True):
        if (r.picture, r.voice) != (h.picture, h.voice):
            raise ValueError(f"rows out of step: {r.picture} / {h.picture}")
        score = r.score if r.score is None or h.score is None else r.score + weight * h.score
        out.append(replace(r, score=score))
    return out


@dataclass
class HeldOutRows:
    """``bench learned-sync``'s pairs of a feature cache, scored held out: ``face_voice`` the out-of-fold
    ``learned_av_sync`` rows plus ``MATCH_WEIGHT`` x the match of a map trained without the picture's and
    the voice's sources (``learned_av_face_voice``), ``head`` the head term of each pair."""

    features: FeatureSet
    pairs: list[Pair]
    face_voice: list[ScoredSegment]
    head: list[ScoredSegment]
    keys: list[Any]  # each pair's track (``per_track``)

    @property
    def sources(self) -> list[str]:
        return sorted({r.picture_source for r in self.face_voice})


def held_out_rows(features_dir: Path, head_dir: Path, sync_rows: Path) -> HeldOutRows:
    features = load_features(features_dir)
    pairs = fold_ordered(features, dubbing_pairs(features, 6, 0))
    faces = face_vectors(features_dir, features)
    match = rows_of(features, pairs, held_out_match(features, faces, voice_vectors(features, pairs), MatchSettings()))
    shipped = combined(json.loads(sync_rows.read_text())["rows"]["learned_av_sync"], match, MATCH_WEIGHT)
    head = rows_of(features, pairs, head_scorer(head_poses(head_dir, features)))
    return HeldOutRows(features, pairs, shipped, head, track_keys(pairs, faces))


def evaluate(features_dir: Path, head_dir: Path, sync_rows: Path, weights: list[float]) -> dict[str, Any]:
    rows = held_out_rows(features_dir, head_dir, sync_rows)
    shipped, head, keys, sources = rows.face_voice, rows.head, rows.keys, rows.sources
    report: dict[str, Any] = {
        "pairs": len(head), "head_scored": sum(r.score is not None for r in head),
        "head_auc": auc(head), "head_alone": brief(folds_report(per_track(head, keys), sources)),
    }
    for w in [0.0, *weights]:
        judged = folds_report(per_track(with_head(shipped, head, w), keys), sources)
        report[f"shipped_plus_{w:g}_head"] = {**brief(judged), "fit_on_all_sources": {
            k: judged["fit_on_all_sources"][k] for k in ("reject_below", "accept_from")}}
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", action="store_true", help="write the head-pose cache (--out) and stop")
    parser.add_argument("--corpus", type=Path, help="with --extract: a calibration fetch cache")
    parser.add_argument("--media", type=Path, help="with --extract: a media folder with MANIFEST.csv")
    parser.add_argument("--out", type=Path, help="with --extract: the head-pose cache to write")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lpm-sync-features"))
    parser.add_argument("--features", type=Path, help="the lip-sync feature cache (sync_corpus_features)")
    parser.add_argument("--head", type=Path, help="the head-pose cache of --extract")
    parser.add_argument("--sync-rows", type=Path, help="lpm-curate bench learned-sync's JSON on --features")
    parser.add_argument("--weights", default="0.05,0.1,0.15,0.2,0.3")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.extract:
        if args.out is None:
            parser.error("--extract needs --out")
        clips = (corpus_clips(args.corpus) if args.corpus else []) + (shared_clips(args.media) if args.media else [])
        extract(clips, args.out, args.workdir, arrays_of=head_arrays)
        return
    if not (args.features and args.head and args.sync_rows):
        parser.error("give --features, --head and --sync-rows (or --extract)")
    report = evaluate(args.features, args.head, args.sync_rows, [float(x) for x in args.weights.split(",")])
    print(json.dumps(report, indent=1) if args.json else report)


if __name__ == "__main__":
    main()
