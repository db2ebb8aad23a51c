"""How the run-wide steps scale: identity clustering and near-duplicate search on a synthetic run.

A run of ``videos`` videos holds ``tracks_per_video`` face tracks (2 s each, every 1.5 s, so
neighbours overlap in time and must stay apart) and ``segments_per_video`` segments of
``key_frames`` pHashes. Planted truth: identities of Zipf-like popularity (a few appear in
hundreds of videos), tracks of one identity at cosine about 0.6 to each other (the ArcFace cut is
0.4), different identities near 0; random key-frame hashes with ``duplicate_fraction`` of the
segments copied from a segment of another video with 0-3 bits flipped per frame, some shifted by
a key frame; and the voices of each video's first two tracks' people (``voice_identities``: 256-d,
one person's voices at cosine about 0.8 to each other, Resemblyzer's uncapped cut is 0.3). Times,
peak resident memory and accuracy against the planted truth are reported.

Run: ``python -m benchmarks.runwide_scale --videos 20000 --json``.
"""

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotators.duplicates.near_duplicates import SegmentFingerprint, find_near_duplicates
from annotators.identity.identity_clusterer import IdentityTrack, cluster_identities
from annotators.models.arcface_embedder import ARCFACE_KIND
from annotators.models.voice_embedder import VOICE_EMBEDDING_DISTANCE_THRESHOLD
from annotators.speaking.run_voice_association import VideoVoice, run_voice_clusters
from apps.bench.rss_sampler import RssSampler

SAME_IDENTITY_COSINE = 0.6
SAME_VOICE_COSINE = 0.8
VOICE_DIMENSION = 256
VOICES_PER_VIDEO = 2


@dataclass(frozen=True)
class SyntheticRun:
    tracks: list[IdentityTrack]
    identity_of: dict[str, int]
    fingerprints: list[SegmentFingerprint]
    copied_from: dict[str, str]
    voice_vectors: dict[VideoVoice, np.ndarray]
    voice_of: dict[VideoVoice, int]


def synthetic_run(
    videos: int,
    tracks_per_video: int = 5,
    segments_per_video: int = 10,
    key_frames: int = 8,
    dimension: int = 128,
    duplicate_fraction: float = 0.02,
    seed: int = 0,
) -> SyntheticRun:
    rng = np.random.default_rng(seed)
    identities = max(2, videos)
    popularity = 1.0 / np.arange(1, identities + 1) ** 0.8
    owner = rng.choice(identities, (videos, tracks_per_video), p=popularity / popularity.sum())
    for slot in range(1, tracks_per_video):  # overlapping (consecutive) tracks are different people
        clash = owner[:, slot] == owner[:, slot - 1]
        other = owner[clash, slot - 1] + 1 + rng.integers(0, identities - 1, int(clash.sum()))
        owner[clash, slot] = other % identities
    centres = rng.normal(0, 1, (identities, dimension))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = np.sqrt(1.0 / SAME_IDENTITY_COSINE - 1.0) / np.sqrt(dimension)
    vectors = centres[owner.ravel()] + rng.normal(0, spread, (owner.size, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    tracks, identity_of = [], {}
    for n, person in enumerate(owner.ravel().tolist()):
        video, slot = divmod(n, tracks_per_video)
        track_id = f"v{video:06d}-t{slot}"
        start = 1.5 * slot
        tracks.append(IdentityTrack(track_id, f"v{video:06d}", start, start + 2.0, vectors[n], ARCFACE_KIND))
        identity_of[track_id] = person

    total = videos * segments_per_video
    hashes = rng.integers(0, 2**64, (total, key_frames), dtype=np.uint64)
    copies = rng.choice(total, int(duplicate_fraction * total), replace=False)
    originals = np.setdiff1d(np.arange(total), copies)  # a source is never itself overwritten
    copied_from = {}
    for copy in copies.tolist():
        source = int(rng.choice(originals))
        if source // segments_per_video == copy // segments_per_video:
            continue
        bits = rng.integers(0, 4, key_frames)
        noise = [sum(1 << int(b) for b in rng.choice(64, k, replace=False)) for k in bits.tolist()]
        shifted = np.roll(hashes[source], int(rng.integers(0, 2)))
        hashes[copy] = shifted ^ np.array(noise, dtype=np.uint64)
        copied_from[f"v{copy // segments_per_video:06d}-s{copy % segments_per_video:02d}"] = source
    fingerprints = [
        SegmentFingerprint(f"v{i // segments_per_video:06d}-s{i % segments_per_video:02d}",
                           f"v{i // segments_per_video:06d}", tuple(int(h) for h in hashes[i]))
        for i in range(total)
    ]  # fmt: skip
    copies_of = {copy: fingerprints[source].segment_id for copy, source in copied_from.items()}
    voice_centres = rng.normal(0, 1, (identities, VOICE_DIMENSION))
    voice_centres /= np.linalg.norm(voice_centres, axis=1, keepdims=True)
    speakers = owner[:, :VOICES_PER_VIDEO].ravel()
    voice_spread = np.sqrt(1.0 / SAME_VOICE_COSINE - 1.0) / np.sqrt(VOICE_DIMENSION)
    voices = voice_centres[speakers] + rng.normal(0, voice_spread, (speakers.size, VOICE_DIMENSION))
    voices /= np.linalg.norm(voices, axis=1, keepdims=True)
    keys = [(f"v{n // VOICES_PER_VIDEO:06d}", str(n % VOICES_PER_VIDEO)) for n in range(speakers.size)]
    return SyntheticRun(tracks, identity_of, fingerprints, copies_of, dict(zip(keys, voices, strict=True)),
                        dict(zip(keys, speakers.tolist(), strict=True)))


def pairwise_precision_recall(predicted: dict[str, Any], truth: dict[str, Any]) -> tuple[float, float]:
    """Pairwise precision and recall of a partition, from cluster sizes (no pair listing)."""
    keys = sorted(truth)
    _, predicted_label = np.unique([str(predicted[k]) for k in keys], return_inverse=True)
    _, truth_label = np.unique([str(truth[k]) for k in keys], return_inverse=True)

    def pairs(counts: np.ndarray) -> float:
        return float((counts * (counts - 1) / 2).sum())

    _, both = np.unique(predicted_label * (truth_label.max() + 1) + truth_label, return_counts=True)
    together = pairs(both)
    predicted_pairs, truth_pairs = pairs(np.bincount(predicted_label)), pairs(np.bincount(truth_label))
    return (together / predicted_pairs if predicted_pairs else 1.0, together / truth_pairs if truth_pairs else 1.0)


def _timed(step: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """The step's result, its wall seconds, its CPU seconds (all threads of this process: what
    other load on the machine does not inflate) and the peak RSS (MB) of this process meanwhile."""
    with RssSampler(interval=0.1) as sampler:
        start, cpu_start = time.perf_counter(), time.process_time()
        result = step()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return result, seconds, cpu_seconds, sampler.peak_process_mb


def run_runwide_scale(videos: int, seed: int = 0, **shape: Any) -> dict[str, Any]:
    """Seconds, peak RSS and accuracy of identity clustering, dedup and the grouping of voices
    across the run on a synthetic run."""
    run, build_seconds, _, build_rss = _timed(lambda: synthetic_run(videos, seed=seed, **shape))
    identities, identity_seconds, identity_cpu, identity_rss = _timed(lambda: cluster_identities(run.tracks))
    predicted = {t: i.identity_id for i in identities for t in i.track_ids}
    precision, recall = pairwise_precision_recall(predicted, run.identity_of)
    ordered = sorted(run.fingerprints, key=lambda f: (f.video_id, f.segment_id))
    duplicates, dedup_seconds, dedup_cpu, dedup_rss = _timed(lambda: find_near_duplicates(ordered))
    # A planted copy is found when it and its source end in one group (either may come first).
    group = {d.segment_id: d.kept_segment_id for d in duplicates}
    found = sum(group.get(c, c) == group.get(s, s) for c, s in run.copied_from.items())
    voices, voice_seconds, voice_cpu, voice_rss = _timed(
        lambda: run_voice_clusters(run.voice_vectors, VOICE_EMBEDDING_DISTANCE_THRESHOLD)
    )
    voice_precision, voice_recall = pairwise_precision_recall(voices, run.voice_of)
    return {
        "videos": videos,
        "tracks": len(run.tracks),
        "segments": len(run.fingerprints),
        "key_frames": sum(len(f.key_frame_hashes) for f in run.fingerprints),
        "build_seconds": round(build_seconds, 2),
        "rss_after_build_mb": round(build_rss, 1),
        "identity_seconds": round(identity_seconds, 2),
        "identity_cpu_seconds": round(identity_cpu, 2),
        "identity_peak_rss_mb": round(identity_rss, 1),
        "identities": len(identities),
        "planted_identities": len(set(run.identity_of.values())),
        "identity_precision": round(precision, 6),
        "identity_recall": round(recall, 6),
        "dedup_seconds": round(dedup_seconds, 2),
        "dedup_cpu_seconds": round(dedup_cpu, 2),
        "dedup_peak_rss_mb": round(dedup_rss, 1),
        "duplicates": len(duplicates),
        "planted_duplicates": len(run.copied_from),
        "planted_duplicates_found": found,
        "identity_dedup_seconds": round(identity_seconds + dedup_seconds, 2),
        "voices": len(run.voice_vectors),
        "voice_seconds": round(voice_seconds, 2),
        "voice_cpu_seconds": round(voice_cpu, 2),
        "voice_peak_rss_mb": round(voice_rss, 1),
        "run_voices": len(set(voices.values())),
        "planted_speakers": len(set(run.voice_of.values())),
        "voice_precision": round(voice_precision, 6),
        "voice_recall": round(voice_recall, 6),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = run_runwide_scale(args.videos, args.seed)
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
