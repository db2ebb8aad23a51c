"""Find near-duplicate segments (re-uploads, repeated clips) and the kept twin of each.

Evidence is a segment's key-frame pHash sequence (always available) and, when the OpenCLIP model
is present, its mean key-frame image embedding. Either signal suffices: pHash catches re-encodes,
rescales, colour grading and letterboxing with hardly any false alarm between different shots;
CLIP is there for what pHash misses (crops, overlays, logos: a 10 % crop moves pHash by about 12
bits). CLIP's cut is only tested here with random weights; calibrate ``clip_eps`` on real ones.

Segments are visited in the caller's order; the first of a group is kept and every later segment
that matches a kept one is its duplicate. The kept twin is always a kept segment, so there are no
chains, and the same input order always gives the same answer.

Different moments of one static shot (a talking head in front of a fixed camera) look alike to
both signals. Segments of one video never overlap in time, so by default pairs from the same video
are not compared: the finder looks for the same footage appearing in *different* videos.

Cost: all key-frame pairs are compared once (vectorised, in bounded blocks), then the exact
sequence alignment runs only on pairs with at least one close key frame. About 10^9 frame pairs
(some 45,000 key frames) take tens of seconds on one core; larger corpora should be split first,
e.g. by CLIP nearest neighbours.
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
    18 bits or more (median 28).
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


_BLOCK_ELEMENTS = 1 << 22  # entries per block of an all-pairs search: bounds the temporary memory


def _earlier_hash_neighbours(fingerprints: Sequence[SegmentFingerprint], max_frame_distance: int) -> list[set[int]]:
    """For each segment, the earlier segments sharing a key frame within ``max_frame_distance`` bits.

    A necessary condition for a pHash match, found for all pairs at once in blocks, so that the
    exact sequence alignment only runs on the few pairs that can match.
    """
    neighbours: list[set[int]] = [set() for _ in fingerprints]
    values, owners = [], []
    for index, fingerprint in enumerate(fingerprints):
        hashes, valid = hash_array(fingerprint.key_frame_hashes)
        values.append(hashes[valid])
        owners.append(np.full(int(valid.sum()), index))
    if not values:
        return neighbours
    all_values, all_owners = np.concatenate(values), np.concatenate(owners)
    rows_per_block = max(1, _BLOCK_ELEMENTS // max(len(all_values), 1))
    for start in range(0, len(all_values), rows_per_block):
        end = start + rows_per_block
        # Frames are in segment order, so a block's earlier segments all lie in all_values[:end].
        close = np.bitwise_count(all_values[start:end, None] ^ all_values[None, :end]) <= max_frame_distance
        rows, cols = np.nonzero(close)
        later, earlier = all_owners[start + rows], all_owners[cols]
        keep = earlier < later
        for a, b in set(zip(later[keep].tolist(), earlier[keep].tolist(), strict=True)):
            neighbours[a].add(b)
    return neighbours


def _earlier_clip_neighbours(fingerprints: Sequence[SegmentFingerprint], min_cosine: float) -> list[set[int]]:
    """For each segment, the earlier segments whose embedding has at least ``min_cosine`` with its own."""
    neighbours: list[set[int]] = [set() for _ in fingerprints]
    indexed = [(i, f.embedding) for i, f in enumerate(fingerprints) if f.embedding is not None]
    if not indexed:
        return neighbours
    positions = np.array([i for i, _ in indexed])
    vectors = np.stack([np.asarray(v, dtype=np.float32) for _, v in indexed])
    rows_per_block = max(1, _BLOCK_ELEMENTS // len(vectors))
    for start in range(0, len(vectors), rows_per_block):
        similarity = vectors[start : start + rows_per_block] @ vectors[: start + rows_per_block].T
        rows, cols = np.nonzero(similarity >= min_cosine)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            if col < start + row:
                neighbours[positions[start + row]].add(int(positions[col]))
    return neighbours


def find_near_duplicates(
    fingerprints: Sequence[SegmentFingerprint], criteria: DuplicateCriteria | None = None
) -> list[NearDuplicate]:
    """The duplicates among ``fingerprints`` (in input order), each with its kept twin."""
    criteria = criteria or DuplicateCriteria()
    ids = [f.segment_id for f in fingerprints]
    if len(set(ids)) != len(ids):
        raise ValueError("segment ids must be unique")
    hash_neighbours = _earlier_hash_neighbours(fingerprints, criteria.max_frame_distance)
    clip_neighbours = _earlier_clip_neighbours(fingerprints, 1.0 - criteria.clip_eps)
    kept: set[int] = set()
    duplicates: list[NearDuplicate] = []
    for index, fingerprint in enumerate(fingerprints):
        duplicate = None
        for twin_index in sorted((hash_neighbours[index] | clip_neighbours[index]) & kept):
            duplicate = _compare(
                fingerprint,
                fingerprints[twin_index],
                twin_index in hash_neighbours[index],
                twin_index in clip_neighbours[index],
                criteria,
            )
            if duplicate is not None:
                break
        if duplicate is None:
            kept.add(index)
        else:
            duplicates.append(duplicate)
    return duplicates


def _compare(
    fingerprint: SegmentFingerprint,
    twin: SegmentFingerprint,
    hash_candidate: bool,
    clip_match: bool,
    criteria: DuplicateCriteria,
) -> NearDuplicate | None:
    """``fingerprint`` as a duplicate of the kept ``twin``, or None when it is not one."""
    if not criteria.compare_within_video and twin.video_id == fingerprint.video_id:
        return None
    hash_match = None
    if hash_candidate:
        match = match_hash_sequences(fingerprint.key_frame_hashes, twin.key_frame_hashes, criteria.max_frame_distance)
        if (
            match is not None
            and match.matched_fraction >= criteria.min_matched_fraction
            and match.mean_distance <= criteria.max_mean_distance
        ):
            hash_match = match
    if hash_match is None and not clip_match:
        return None
    cosine = None
    if fingerprint.embedding is not None and twin.embedding is not None:
        cosine = float(np.dot(fingerprint.embedding, twin.embedding))
    evidence = "+".join(name for name, hit in (("phash", hash_match), ("clip", clip_match)) if hit)
    return NearDuplicate(
        segment_id=fingerprint.segment_id,
        kept_segment_id=twin.segment_id,
        evidence=evidence,
        matched_fraction=None if hash_match is None else hash_match.matched_fraction,
        mean_hash_distance=None if hash_match is None else hash_match.mean_distance,
        cosine=cosine,
    )
