"""Does this voice belong to this face? A face/voice match beside the lip-sync score (issue 40).

The lip-sync networks judge how a mouth moves with a sound; a dub is often given away by something
they cannot see: the voice is not one this face could have (another sex, another age). Both
descriptors are computed by the pipeline already: dlib's ResNet face vector of the segment's track
(the states stage's voice-face grouping) and Resemblyzer's voice vector of the segment's audio.
Neither was trained to match the other, so a map between them is learned here, from the corpus's
people only: ``annotators.models.face_voice_map`` (the first canonical pair of each person's mean
face and mean own voice after 20 principal components; ``--method cca``, the shipped map), or two
linear projections of ``--rank`` dimensions trained by InfoNCE over people (``--method infonce``).

Held out strictly: a pair (picture of source P, voice of source V) is scored by a map trained on
people of neither P nor V (a map trained with V's people could remember V's voice with V's face,
which a new video's dub does not allow). The pairs are ``bench learned-sync``'s: every segment of
the cache under its own audio and under 6 seeded foreign voices (``dubbing_pairs``), each voice
embedded over the segment's own span of the (dubbed) audio.

Reported: the match's AUC (genuine above dubbed), and with ``--sync-rows`` (the JSON of ``lpm-curate
bench learned-sync`` on the same cache; its out-of-fold ``learned_av_sync`` rows) the verdict on the
sum ``sync + weight * match`` for each ``--weights`` value, thresholds refitted per held-out source by
the shipped rule (``apps.bench.sync_folds``). The weights are chosen on the folds they are scored on:
a selection, stated with the figures. ``--pool-tracks`` scores each segment as the states stage judges
it: by the mean of its track's speaking segments' combined scores (``annotators.speaking.track_sync``).

Run: ``python -m benchmarks.face_voice_match --features FEATURES [--sync-rows LS.json] [--json]``,
FEATURES a cache of ``python -m apps.bench.sync_corpus_features`` with its ``face`` arrays.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.voice_embedder import VoiceEmbedder
from annotators.speaking.track_sync import track_means
from apps.bench.face_voice_training import face_vectors, people_means, segment_key, span_voice, train_map
from apps.bench.fold_rows import ScoredSegment
from apps.bench.learned_sync_folds import Pair, auc, dubbing_pairs, folds_report, pair_audio, rows_of
from apps.bench.learned_sync_training import FeatureSet, load_features


@dataclass(frozen=True)
class MatchSettings:
    rank: int = 8
    steps: int = 300
    lr: float = 0.01
    decay: float = 0.01
    temperature: float = 0.1
    seed: int = 0
    method: str = "cca"  # the shipped map (annotators.models.face_voice_map), or "infonce" (rank ``rank``)


def voice_vectors(features: FeatureSet, pairs: Sequence[Pair]) -> dict[tuple[str, int, int, str], np.ndarray]:
    """Resemblyzer's vector of each pair's audio over its segment's span (NaN when too short)."""
    embedder = VoiceEmbedder()
    vectors: dict[tuple[str, int, int, str], np.ndarray] = {}
    for k, (segment, voice) in enumerate(pairs):
        key = (*segment_key(segment), voice or segment.clip)
        if key not in vectors:
            vectors[key] = span_voice(embedder, pair_audio(features, (segment, voice)), segment)
        if k % 200 == 0:
            print(f"voices: {k} of {len(pairs)}", file=sys.stderr, flush=True)
    return vectors


def train_match(faces: np.ndarray, voices: np.ndarray, settings: MatchSettings) -> tuple[np.ndarray, np.ndarray]:
    """Projections (128, rank) and (256, rank) under which each row's face picks its own row's voice."""
    import torch

    torch.manual_seed(settings.seed)
    f = torch.from_numpy(faces.astype(np.float32))
    v = torch.from_numpy(voices.astype(np.float32))
    a = torch.nn.Parameter(torch.randn(f.shape[1], settings.rank) * 0.1)
    b = torch.nn.Parameter(torch.randn(v.shape[1], settings.rank) * 0.1)
    optimiser = torch.optim.Adam([a, b], lr=settings.lr)
    target = torch.arange(len(f))
    for _ in range(settings.steps):
        pf = torch.nn.functional.normalize((f - f.mean(0)) @ a, dim=1)
        pv = torch.nn.functional.normalize((v - v.mean(0)) @ b, dim=1)
        logits = pf @ pv.T / settings.temperature
        cross_entropy = torch.nn.functional.cross_entropy
        loss = (cross_entropy(logits, target) + cross_entropy(logits.T, target)) / 2
        loss = loss + settings.decay * (a.pow(2).sum() + b.pow(2).sum())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return (a.detach().numpy(), b.detach().numpy())


@dataclass(frozen=True)
class MatchMap:
    face_mean: np.ndarray
    voice_mean: np.ndarray
    a: np.ndarray
    b: np.ndarray

    def match(self, face: np.ndarray, voice: np.ndarray) -> float:
        if not (np.isfinite(face).all() and np.isfinite(voice).all()):
            return float("nan")
        pf = (face - self.face_mean) @ self.a
        pv = (voice - self.voice_mean) @ self.b
        return float(pf @ pv / max(np.linalg.norm(pf) * np.linalg.norm(pv), 1e-12))


def held_out_match(
    features: FeatureSet, faces: dict, voices: dict, settings: MatchSettings
) -> Callable[[FeatureSet, Pair], float]:
    """A scorer of pairs (``rows_of``'s): each pair's match by a map trained on the people of every
    source but the picture's and the voice's (one map per such set of sources, trained once)."""
    own = {k[:3]: v for k, v in voices.items() if k[0] == k[3]}
    sources = set(features.sources.values())
    maps: dict[frozenset[str], Any] = {}

    def score(features: FeatureSet, pair: Pair) -> float:
        segment, voice = pair
        excluded = frozenset({segment.source, features.sources[voice or segment.clip]})
        if excluded not in maps:
            if settings.method == "cca":
                maps[excluded] = train_map(features, faces, own, sorted(sources - excluded))
            else:
                kept = [s for s in features.segments if s.source in sources - excluded]
                f, v, _ = people_means(kept, faces, own)
                a, b = train_match(f, v, settings)
                maps[excluded] = MatchMap(f.mean(0), v.mean(0), a, b)
        face, heard = faces[segment_key(segment)], voices[(*segment_key(segment), voice or segment.clip)]
        return maps[excluded].match(face, heard)

    return score


def fold_ordered(features: FeatureSet, pairs: Sequence[Pair]) -> list[Pair]:
    """The pairs in the order ``bench learned-sync`` wrote its out-of-fold rows: by held-out source."""
    sources = sorted({s.source for s in features.segments if s.weight > 0})
    return [p for held in sources for p in pairs if p[0].source == held and p[0].weight > 0]


def combined(sync: Sequence[dict[str, Any]], match: Sequence[ScoredSegment], weight: float) -> list[ScoredSegment]:
    """``sync + weight * match`` on each pair (None where either found no evidence: the sync score
    alone where only the match is missing)."""
    rows = []
    for s, m in zip(sync, match, strict=True):
        if (s["picture"], s["voice"] or s["picture"], s["genuine"]) != (m.picture, m.voice, m.genuine):
            raise ValueError(f"rows out of step: {s['picture']} / {m.picture}")
        score = s["score"]
        if score is not None and m.score is not None:
            score = score + weight * m.score
        rows.append(replace(m, score=score))
    return rows


def track_keys(pairs: Sequence[Pair], faces: dict) -> list[tuple[str, str, bytes | None]]:
    """Per scored pair (``rows_of``'s order): its track under its voice. The cache does not name a
    segment's track; its face vector is the track's (``sync_corpus_features``), so segments of one clip
    with the same vector are one track."""
    keys = []
    for segment, voice in pairs:
        if segment.weight > 0:
            face = faces.get(segment_key(segment))
            tag = face.tobytes() if face is not None and np.isfinite(face).all() else None
            keys.append((segment.clip, voice or segment.clip, tag))
    return keys


def per_track(rows: Sequence[ScoredSegment], keys: Sequence[tuple[str, str, bytes | None]]) -> list[ScoredSegment]:
    """The rows scored as the states stage judges them: each by its track's speaking segments' mean."""
    pooled = track_means([r.score for r in rows], [r.weight for r in rows], keys)
    return [replace(r, score=p) for r, p in zip(rows, pooled, strict=True)]


def brief(report: dict[str, Any]) -> dict[str, Any]:
    pooled = report["pooled_held_out"]
    keys = ("genuine_frames_kept", "dubbed_frames_kept", "dubbed_segments_kept", "dubbed_segments",
            "genuine_segments_out_of_sync", "genuine_segments", "dubbed_frames_in_sync", "genuine_frames_in_sync")
    return {"auc": report["auc"], **{k: pooled.get(k) for k in keys}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--sync-rows", type=Path, help="bench learned-sync's JSON on the same cache")
    parser.add_argument("--weights", default="0,0.5,1,2,3")
    parser.add_argument("--rank", type=int, default=MatchSettings.rank)
    parser.add_argument("--method", choices=("cca", "infonce"), default=MatchSettings.method)
    parser.add_argument("--pool-tracks", action="store_true",
                        help="score each segment by its track's mean, as the states stage does (track_sync)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    features = load_features(args.features)
    pairs = fold_ordered(features, dubbing_pairs(features, 6, 0))
    faces = face_vectors(args.features, features)
    voices = voice_vectors(features, pairs)
    settings = MatchSettings(rank=args.rank, method=args.method)
    match = rows_of(features, pairs, held_out_match(features, faces, voices, settings))
    sources = sorted({r.picture_source for r in match})
    report: dict[str, Any] = {"settings": settings.__dict__, "pool_tracks": args.pool_tracks, "pairs": len(match),
                              "match_auc": auc(match),
                              "match": brief(folds_report(match, sources))}
    if args.sync_rows:
        sync = json.loads(args.sync_rows.read_text())["rows"]["learned_av_sync"]
        keys = track_keys(pairs, faces)
        for w in (float(x) for x in args.weights.split(",")):
            rows = combined(sync, match, w)
            both = folds_report(per_track(rows, keys) if args.pool_tracks else rows, sources)
            report[f"sync_plus_{w:g}_match"] = {**brief(both), "fit_on_all_sources": {
                k: both["fit_on_all_sources"][k] for k in ("reject_below", "accept_from")}}
    print(json.dumps(report, indent=1) if args.json else report)


if __name__ == "__main__":
    main()
