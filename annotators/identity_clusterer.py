"""Group face tracks of all videos of a run into identities, and carry identities across runs.

Tracks are clustered by average linkage on cosine distance, cut at a threshold that depends on the
embedding kind (an ArcFace distance means something else than a distance between hand-made
descriptors). Two tracks seen in the same frames of one video are different people, whatever
their embeddings say (a cannot-link constraint).

Identity ids are deterministic: a cluster that matches an identity of an earlier run takes that
identity's id; any other cluster gets an id hashed from its sorted member track ids, so re-running
on the same tracks gives the same ids.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotators.arcface_embedder import ARCFACE_KIND
from annotators.constrained_linkage import average_linkage_clusters
from annotators.face_descriptor import FACE_DESCRIPTOR_KIND
from annotators.face_track_embedding import mean_direction

# Cut distances (1 - cosine) per embedding kind.
# ArcFace: cosine 0.4 (distance 0.6) is the customary verification cut for InsightFace's R50
# recognisers, where one person's frame-averaged embeddings usually score well above it and
# different people well below; not measured here (no real weights offline): calibrate on a
# labelled sample once the weights are fetched.
# landmark_texture_v1: measured on the shared clips (tests/annotators/test_identity_clusterer.py,
# 26 tracks of 16 people): different people at most 0.865 cosine, same-person tracks at least 0.912
# (except one person across a lighting and pose change, 0.85); the cut (cosine 0.89) is mid-gap.
IDENTITY_DISTANCE_THRESHOLDS: dict[str, float] = {
    ARCFACE_KIND: 0.60,
    FACE_DESCRIPTOR_KIND: 0.11,
}


@dataclass(frozen=True)
class IdentityTrack:
    """A face track to cluster: its embedding and where it is (for the co-occurrence rule)."""

    track_id: str
    video_id: str
    t_start: float  # seconds of the source video
    t_end: float
    embedding: np.ndarray  # unit vector of ``kind``
    kind: str


@dataclass(frozen=True)
class KnownIdentity:
    """An identity from an earlier run, to be matched by new clusters."""

    identity_id: str
    centroid: np.ndarray
    kind: str


@dataclass(frozen=True)
class Identity:
    """One person across the run's tracks, with how clean the cluster is.

    ``intra_similarity``: mean pairwise cosine of the members (1.0 for a single track).
    ``nearest_similarity``: mean cosine between this identity's tracks and those of the closest
    other identity (None when it is the only one); ``margin`` = intra - nearest: small or negative
    margins flag identities that may be split or merged wrongly.
    ``earlier_similarity``: cosine to the earlier identity whose id it took, if any.
    """

    identity_id: str
    track_ids: tuple[str, ...]
    kind: str
    centroid: np.ndarray
    intra_similarity: float
    nearest_identity_id: str | None
    nearest_similarity: float | None
    margin: float | None
    earlier_similarity: float | None = None


def co_occurring(tracks: Sequence[IdentityTrack]) -> np.ndarray:
    """Boolean (n, n): the two tracks are in the same video with overlapping time spans."""
    n = len(tracks)
    video = np.array([t.video_id for t in tracks], dtype=object)
    start = np.array([t.t_start for t in tracks], dtype=np.float64)
    end = np.array([t.t_end for t in tracks], dtype=np.float64)
    same_video = video[:, None] == video[None, :]
    overlap = (start[:, None] < end[None, :]) & (start[None, :] < end[:, None])
    result = same_video & overlap
    result[np.arange(n), np.arange(n)] = False
    return result


def new_identity_id(track_ids: Sequence[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(track_ids)).encode("utf-8")).hexdigest()
    return f"identity-{digest[:16]}"


def _match_earlier(
    centroids: list[np.ndarray], earlier: Sequence[KnownIdentity], kind: str, threshold: float
) -> dict[int, tuple[str, float]]:
    """Cluster index -> (earlier id, cosine), one-to-one, most similar pairs first."""
    candidates = [e for e in earlier if e.kind == kind]
    if not candidates or not centroids:
        return {}
    similarity = np.stack(centroids) @ np.stack([np.asarray(e.centroid, np.float64) for e in candidates]).T
    pairs = sorted(
        ((float(similarity[c, e]), c, e) for c in range(len(centroids)) for e in range(len(candidates))),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    taken_clusters: set[int] = set()
    taken_earlier: set[int] = set()
    matches: dict[int, tuple[str, float]] = {}
    for cosine, c, e in pairs:
        if cosine < 1.0 - threshold:
            break
        if c in taken_clusters or e in taken_earlier:
            continue
        matches[c] = (candidates[e].identity_id, cosine)
        taken_clusters.add(c)
        taken_earlier.add(e)
    return matches


def cluster_identities(
    tracks: Sequence[IdentityTrack],
    earlier: Sequence[KnownIdentity] = (),
    distance_threshold: float | None = None,
) -> list[Identity]:
    """The run's identities (sorted by id); every track belongs to exactly one.

    ``distance_threshold`` overrides the kind's entry in ``IDENTITY_DISTANCE_THRESHOLDS``; the
    same threshold decides whether a cluster continues an ``earlier`` identity (centroid cosine
    >= 1 - threshold, each earlier identity taken at most once).
    """
    if not tracks:
        return []
    kinds = {t.kind for t in tracks}
    if len(kinds) != 1:
        raise ValueError(f"tracks of several embedding kinds cannot be compared: {sorted(kinds)}")
    kind = kinds.pop()
    if distance_threshold is None:
        if kind not in IDENTITY_DISTANCE_THRESHOLDS:
            raise ValueError(f"no identity threshold for embedding kind {kind!r}; pass distance_threshold")
        distance_threshold = IDENTITY_DISTANCE_THRESHOLDS[kind]
    track_ids = [t.track_id for t in tracks]
    if len(set(track_ids)) != len(track_ids):
        raise ValueError("track ids must be unique")

    # Sorting by track id makes the clustering independent of the caller's order.
    ordered = sorted(tracks, key=lambda t: t.track_id)
    vectors = np.stack([np.asarray(t.embedding, dtype=np.float64) for t in ordered])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = np.clip(vectors @ vectors.T, -1.0, 1.0)
    clusters = average_linkage_clusters(1.0 - similarity, co_occurring(ordered), distance_threshold)

    centroids = [mean_direction(vectors[c]) for c in clusters]
    matches = _match_earlier(centroids, earlier, kind, distance_threshold)
    ids = [
        matches[k][0] if k in matches else new_identity_id([ordered[i].track_id for i in members])
        for k, members in enumerate(clusters)
    ]

    membership = np.zeros((len(ordered), len(clusters)))
    for k, members in enumerate(clusters):
        membership[members, k] = 1.0
    sizes = membership.sum(axis=0)
    # Mean pairwise cosine between (and within) clusters, in one matrix product.
    between = membership.T @ similarity @ membership / np.outer(sizes, sizes)
    identities = []
    for k, members in enumerate(clusters):
        size = len(members)
        intra = 1.0 if size == 1 else float((between[k, k] * size * size - size) / (size * (size - 1)))
        others = [m for m in range(len(clusters)) if m != k]
        nearest = max(others, key=lambda m: (between[k, m], -m)) if others else None
        nearest_similarity = None if nearest is None else float(between[k, nearest])
        identities.append(
            Identity(
                identity_id=ids[k],
                track_ids=tuple(ordered[i].track_id for i in members),
                kind=kind,
                centroid=centroids[k].astype(np.float32),
                intra_similarity=intra,
                nearest_identity_id=None if nearest is None else ids[nearest],
                nearest_similarity=nearest_similarity,
                margin=None if nearest_similarity is None else intra - nearest_similarity,
                earlier_similarity=matches[k][1] if k in matches else None,
            )
        )
    return sorted(identities, key=lambda identity: identity.identity_id)


def identity_of_track(identities: Sequence[Identity]) -> dict[str, str]:
    """Track id -> identity id."""
    return {track: identity.identity_id for identity in identities for track in identity.track_ids}


def known_identities(identities: Sequence[Identity]) -> list[KnownIdentity]:
    """A run's identities in the form the next run matches against."""
    return [KnownIdentity(i.identity_id, i.centroid, i.kind) for i in identities]
