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

Cost: no all-pairs comparison. Key frames within the few bits any match needs are found by
multi-index hashing (exact), CLIP look-alikes by a faiss range search (exact up to 20,000
segments, an IVF index beyond); the exact sequence alignment then runs only on those candidates.
A run can continue earlier runs: their kept segments come first in the walk.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotators.clustering.hash_neighbours import close_hash_pairs
from annotators.clustering.vector_neighbours import NeighbourSearch, pairs_within
from annotators.duplicates.perceptual_hash import FrameHash, hash_array, match_hash_sequences


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


_BLOCK_ELEMENTS = 1 << 22  # candidate pairs expanded at once: bounds the temporary memory


def hash_search_radius(criteria: DuplicateCriteria) -> int:
    """The key-frame distance that any pHash match must have in at least one aligned pair.

    A match needs a mean distance of at most ``max_mean_distance`` over its aligned pairs, so its
    closest pair is within that too (a mean is never below its minimum), and within
    ``max_frame_distance`` (it needs one matched pair). Searching at the smaller radius loses no
    match and meets far fewer candidate pairs (4 bits instead of 10 by default).
    """
    if not math.isfinite(criteria.max_mean_distance):
        return criteria.max_frame_distance
    return min(criteria.max_frame_distance, math.floor(criteria.max_mean_distance))


def _earlier_hash_neighbours(fingerprints: Sequence[SegmentFingerprint], criteria: DuplicateCriteria) -> list[set[int]]:
    """For each segment, the earlier segments sharing a key frame within ``hash_search_radius``.

    A necessary condition for a pHash match, found by multi-index hashing (annotators/
    hash_neighbours: exact, without comparing all pairs), so that the exact sequence alignment
    only runs on the few pairs that can match.
    """
    values, owners = [], []
    for index, fingerprint in enumerate(fingerprints):
        hashes, valid = hash_array(fingerprint.key_frame_hashes)
        values.append(hashes[valid])
        owners.append(np.full(int(valid.sum()), index))
    neighbours: list[set[int]] = [set() for _ in fingerprints]
    if not values:
        return neighbours
    all_values, all_owners = np.concatenate(values), np.concatenate(owners)
    video = np.unique([f.video_id for f in fingerprints], return_inverse=True)[1]
    found = []
    for left, right in close_hash_pairs(all_values, hash_search_radius(criteria), _BLOCK_ELEMENTS):
        earlier, later = all_owners[left], all_owners[right]  # frames are in segment order
        keep = earlier < later
        if not criteria.compare_within_video:
            keep &= video[earlier] != video[later]
        found.append(np.unique(later[keep] * len(fingerprints) + earlier[keep]))
    if found:
        for key in np.unique(np.concatenate(found)).tolist():
            later, earlier = divmod(key, len(fingerprints))
            neighbours[later].add(earlier)
    return neighbours


def _earlier_clip_neighbours(
    fingerprints: Sequence[SegmentFingerprint], min_cosine: float, search: NeighbourSearch
) -> list[set[int]]:
    """For each segment, the earlier segments whose embedding has at least ``min_cosine`` with its own:
    a range search in a faiss index (exact up to ``search.exact_up_to`` segments), each candidate's
    cosine then recomputed in float32 as before."""
    neighbours: list[set[int]] = [set() for _ in fingerprints]
    indexed = [(i, f.embedding) for i, f in enumerate(fingerprints) if f.embedding is not None]
    if not indexed:
        return neighbours
    positions = np.array([i for i, _ in indexed])
    vectors = np.stack([np.asarray(v, dtype=np.float32) for _, v in indexed])
    rows, cols = pairs_within(vectors, min_cosine, search)
    later = rows > cols
    rows, cols = rows[later], cols[later]
    close = np.einsum("ij,ij->i", vectors[rows], vectors[cols]) >= min_cosine
    for row, col in zip(positions[rows[close]].tolist(), positions[cols[close]].tolist(), strict=True):
        neighbours[row].add(col)
    return neighbours


def find_near_duplicates(
    fingerprints: Sequence[SegmentFingerprint],
    criteria: DuplicateCriteria | None = None,
    earlier: Sequence[SegmentFingerprint] = (),
    search: NeighbourSearch | None = None,
) -> list[NearDuplicate]:
    """The duplicates among ``fingerprints`` (in input order), each with its kept twin.

    ``earlier``: segments kept by earlier runs, walked first and all kept, so footage a corpus
    already holds is a duplicate here too (its twin is the earlier segment). ``search`` sets the
    CLIP embedding search (exact up to ``exact_up_to`` segments, approximate beyond).
    """
    criteria = criteria or DuplicateCriteria()
    ids = [f.segment_id for f in fingerprints]
    if len(set(ids)) != len(ids):
        raise ValueError("segment ids must be unique")
    if set(ids) & {f.segment_id for f in earlier}:
        raise ValueError("segment ids of this run must differ from those of the earlier runs")
    walk = [*earlier, *fingerprints]
    hash_neighbours = _earlier_hash_neighbours(walk, criteria)
    clip_neighbours = _earlier_clip_neighbours(walk, 1.0 - criteria.clip_eps, search or NeighbourSearch())
    kept: set[int] = set(range(len(earlier)))
    duplicates: list[NearDuplicate] = []
    for index in range(len(earlier), len(walk)):
        fingerprint = walk[index]
        duplicate = None
        for twin_index in sorted((hash_neighbours[index] | clip_neighbours[index]) & kept):
            duplicate = _compare(
                fingerprint,
                walk[twin_index],
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
