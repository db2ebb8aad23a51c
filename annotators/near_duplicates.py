"""Find near-duplicate segments (re-uploads, repeated clips) and the kept twin of each.

Evidence is a segment's key-frame pHash sequence (always available) and, when the OpenCLIP model
is present, its mean key-frame image embedding. Either signal suffices: pHash catches re-encodes,
rescales, colour grading and letterboxing with hardly any false alarm between different shots, and
CLIP catches what pHash misses (crops, overlays, logos).

Segments are visited in the caller's order; the first of a group is kept and every later segment
that matches a kept one is its duplicate. The kept twin is always a kept segment, so there are no
chains, and the same input order always gives the same answer.

Different moments of one static shot (a talking head in front of a fixed camera) look alike to
both signals. Segments of one video never overlap in time, so by default pairs from the same video
are not compared: the finder looks for the same footage appearing in *different* videos.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotators.perceptual_hash import FrameHash, hash_array, match_hash_sequences


@dataclass(frozen=True)
class SegmentFingerprint:
    """What dedup knows about one segment: key frames sampled at a fixed rate (2 fps advised)."""

    segment_id: str
    video_id: str
    key_frame_hashes: tuple[FrameHash, ...] = ()
    embedding: np.ndarray | None = None  # L2-normalised image embedding, e.g. OpenCLIP


@dataclass(frozen=True)
class DuplicateCriteria:
    """When two segments count as the same footage.

    pHash: at the best time offset, at least ``min_matched_fraction`` of the shorter sequence's
    key frames within ``max_frame_distance`` bits, and a mean distance of at most
    ``max_mean_distance`` bits. Measured at 2 fps on the shared clips: re-encoded, half-size,
    re-graded or letterboxed copies 0.3-0.8 bits (3.4 when the key frames are shifted by a quarter
    second), other moments of the same static talking-head shot 4.6-9.7 bits, different clips
    about 30 bits.
    CLIP: cosine similarity at least ``1 - clip_eps`` (for the real ViT-B-32 weights; not
    calibrated here, where only random weights are available).
    """

    max_frame_distance: int = 10
    min_matched_fraction: float = 0.8
    max_mean_distance: float = 4.0
    clip_eps: float = 0.03
    compare_within_video: bool = False


@dataclass(frozen=True)
class NearDuplicate:
    """``segment_id`` repeats ``kept_segment_id``; the evidence says which signals agreed."""

    segment_id: str
    kept_segment_id: str
    evidence: str  # "phash", "clip" or "phash+clip"
    matched_fraction: float | None = None
    mean_hash_distance: float | None = None
    cosine: float | None = None


class _KeptSegments:
    """The kept segments with their key-frame hashes and embeddings stacked for vectorised search.

    Each new segment is compared with all kept ones in one numpy pass per signal; the exact
    sequence alignment then runs only on the few candidates that can possibly match.
    """

    def __init__(self) -> None:
        self.segments: list[SegmentFingerprint] = []
        self._hash_values: list[np.ndarray] = []
        self._hash_owners: list[np.ndarray] = []
        self._embeddings: list[np.ndarray] = []
        self._embedding_owners: list[int] = []

    def add(self, fingerprint: SegmentFingerprint) -> None:
        index = len(self.segments)
        self.segments.append(fingerprint)
        values, valid = hash_array(fingerprint.key_frame_hashes)
        self._hash_values.append(values[valid])
        self._hash_owners.append(np.full(int(valid.sum()), index))
        if fingerprint.embedding is not None:
            self._embeddings.append(np.asarray(fingerprint.embedding, dtype=np.float64))
            self._embedding_owners.append(index)

    def hash_candidates(self, hashes: Sequence[FrameHash], max_frame_distance: int) -> set[int]:
        """Kept segments sharing at least one key frame within ``max_frame_distance`` bits."""
        values, valid = hash_array(hashes)
        if not valid.any() or not self._hash_values:
            return set()
        kept_values = np.concatenate(self._hash_values)
        owners = np.concatenate(self._hash_owners)
        distances = np.bitwise_count(values[valid][:, None] ^ kept_values[None, :])
        close = (distances <= max_frame_distance).any(axis=0)
        return {int(i) for i in np.unique(owners[close])}

    def cosines(self, embedding: np.ndarray | None) -> dict[int, float]:
        if embedding is None or not self._embeddings:
            return {}
        similarities = np.stack(self._embeddings) @ np.asarray(embedding, dtype=np.float64)
        return dict(zip(self._embedding_owners, (float(s) for s in similarities), strict=True))


def find_near_duplicates(
    fingerprints: Sequence[SegmentFingerprint], criteria: DuplicateCriteria | None = None
) -> list[NearDuplicate]:
    """The duplicates among ``fingerprints`` (in input order), each with its kept twin."""
    criteria = criteria or DuplicateCriteria()
    ids = [f.segment_id for f in fingerprints]
    if len(set(ids)) != len(ids):
        raise ValueError("segment ids must be unique")
    kept = _KeptSegments()
    duplicates: list[NearDuplicate] = []
    for fingerprint in fingerprints:
        duplicate = _first_kept_match(fingerprint, kept, criteria)
        if duplicate is None:
            kept.add(fingerprint)
        else:
            duplicates.append(duplicate)
    return duplicates


def _first_kept_match(
    fingerprint: SegmentFingerprint, kept: _KeptSegments, criteria: DuplicateCriteria
) -> NearDuplicate | None:
    """The earliest kept segment that ``fingerprint`` repeats, as a ``NearDuplicate``."""
    hash_candidates = kept.hash_candidates(fingerprint.key_frame_hashes, criteria.max_frame_distance)
    cosines = kept.cosines(fingerprint.embedding)
    clip_hits = {i for i, c in cosines.items() if c >= 1.0 - criteria.clip_eps}
    for index in sorted(hash_candidates | clip_hits):
        twin = kept.segments[index]
        if not criteria.compare_within_video and twin.video_id == fingerprint.video_id:
            continue
        hash_match = None
        if index in hash_candidates:
            match = match_hash_sequences(
                fingerprint.key_frame_hashes, twin.key_frame_hashes, criteria.max_frame_distance
            )
            if (
                match is not None
                and match.matched_fraction >= criteria.min_matched_fraction
                and match.mean_distance <= criteria.max_mean_distance
            ):
                hash_match = match
        clip_match = index in clip_hits
        if hash_match is None and not clip_match:
            continue
        evidence = "+".join(name for name, hit in (("phash", hash_match), ("clip", clip_match)) if hit)
        return NearDuplicate(
            segment_id=fingerprint.segment_id,
            kept_segment_id=twin.segment_id,
            evidence=evidence,
            matched_fraction=None if hash_match is None else hash_match.matched_fraction,
            mean_hash_distance=None if hash_match is None else hash_match.mean_distance,
            cosine=cosines.get(index),
        )
    return None
