"""Group face tracks of all videos of a run into identities, and carry identities across runs.

Tracks are clustered by average linkage on cosine distance, cut at a threshold that depends on the
embedding kind (an ArcFace distance means something else than a distance between hand-made
descriptors). Two tracks seen in the same frames of one video are different people, whatever
their embeddings say (a cannot-link constraint).

Nothing is all-pairs, so a run of 100,000 tracks fits in memory (the n x n matrix would take
80 GB): candidate pairs come from each track's nearest neighbours in a faiss index
(annotators/clustering/vector_neighbours), the linkage runs on cluster sums over that sparse graph
(annotators/clustering/cosine_linkage: the same merges as the dense linkage when the graph holds every pair
within the cut), and cohesion, nearest identity and margin come from cluster sums and an index of
the clusters' mean vectors. Earlier identities are matched through an index of their centroids.

Identity ids are deterministic: a cluster that matches an identity of an earlier run takes that
identity's id; any other cluster gets an id hashed from its sorted member track ids, so re-running
on the same tracks gives the same ids.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotators.clustering.cosine_linkage import neighbour_linkage
from annotators.clustering.vector_neighbours import (
    SIMILARITY_SLACK,
    NeighbourSearch,
    nearest,
    vector_index,
)
from annotators.identity.face_descriptor import FACE_DESCRIPTOR_KIND
from annotators.models.arcface_embedder import ARCFACE_KIND
from annotators.models.dlib_face_embedder import DLIB_KIND

# Cut distances (1 - cosine) per embedding kind.
# ArcFace: cosine 0.4 (distance 0.6) is the customary verification cut for InsightFace's R50
# recognisers, where one person's frame-averaged embeddings usually score well above it and
# different people well below; not measured here (no real weights offline): calibrate on a
# labelled sample once the weights are fetched.
# dlib_resnet_v1: measured on the shared clips (26 tracks of 18 clips, 16 people, the tracks of
# test_identity_clusterer's many-people test): same-person tracks at most 0.013 apart (the four
# fantasy clips among them), different people at least 0.041 (a fantasy clip against
# talkvid_talk_emotion); the cut 0.025 sits mid-gap. dlib's vectors share a large common
# component, so cosine distances are small; the gap is what matters (3x).
# landmark_texture_v1: measured on the shared clips (tests/annotators/identity/test_identity_clusterer.py,
# 26 tracks of 16 people): different people at most 0.865 cosine, same-person tracks at least 0.912
# (except one person across a lighting and pose change, 0.85); the cut (cosine 0.89) is mid-gap.
IDENTITY_DISTANCE_THRESHOLDS: dict[str, float] = {
    ARCFACE_KIND: 0.60,
    DLIB_KIND: 0.025,
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
    result = np.zeros((len(tracks), len(tracks)), dtype=bool)
    rows, cols = co_occurring_pairs(tracks)
    result[rows, cols] = result[cols, rows] = True
    return result


def co_occurring_pairs(tracks: Sequence[IdentityTrack]) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of tracks in the same video with overlapping time spans: found within
    each video, so the cost grows with the tracks per video, not with the run."""
    by_video: dict[str, list[int]] = {}
    for index, track in enumerate(tracks):
        by_video.setdefault(track.video_id, []).append(index)
    rows, cols = [], []
    for members in by_video.values():
        for position, i in enumerate(members):
            for j in members[position + 1 :]:
                if tracks[i].t_start < tracks[j].t_end and tracks[j].t_start < tracks[i].t_end:
                    rows.append(min(i, j))
                    cols.append(max(i, j))
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def new_identity_id(track_ids: Sequence[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(track_ids)).encode("utf-8")).hexdigest()
    return f"identity-{digest[:16]}"


def _match_earlier(
    centroids: np.ndarray, earlier: Sequence[KnownIdentity], kind: str, threshold: float, search: NeighbourSearch
) -> dict[int, tuple[str, float]]:
    """Cluster index -> (earlier id, cosine), one-to-one, most similar pairs first.

    The earlier centroids are indexed once; each cluster asks for its nearest few. A cluster
    whose few were all close and all taken by closer clusters asks again for more, so the greedy
    choice is the one the full cluster x earlier table would give.
    """
    candidates = [e for e in earlier if e.kind == kind]
    if not candidates or not len(centroids):
        return {}
    known = np.stack([np.asarray(e.centroid, np.float64) for e in candidates])
    index = vector_index(known, search)
    cut = 1.0 - threshold
    k = min(len(candidates), 8)
    while True:
        similarities, ids = nearest(index, centroids, k)
        close = (ids >= 0) & (similarities >= cut - SIMILARITY_SLACK)
        rows, columns = np.nonzero(close)
        cols = ids[rows, columns].astype(np.int64)
        cosine = np.einsum("ij,ij->i", centroids[rows], known[cols])
        taken_clusters: set[int] = set()
        taken_earlier: set[int] = set()
        matches: dict[int, tuple[str, float]] = {}
        for p in np.lexsort((cols, rows, -cosine)).tolist():
            c, e = int(rows[p]), int(cols[p])
            if cosine[p] < cut or c in taken_clusters or e in taken_earlier:
                continue
            matches[c] = (candidates[e].identity_id, float(cosine[p]))
            taken_clusters.add(c)
            taken_earlier.add(e)
        if k == len(candidates) or all(c in matches for c in np.flatnonzero(close[:, -1]).tolist()):
            return matches
        k = min(len(candidates), 4 * k)


def cluster_identities(
    tracks: Sequence[IdentityTrack],
    earlier: Sequence[KnownIdentity] = (),
    distance_threshold: float | None = None,
    search: NeighbourSearch | None = None,
) -> list[Identity]:
    """The run's identities (sorted by id); every track belongs to exactly one.

    ``distance_threshold`` overrides the kind's entry in ``IDENTITY_DISTANCE_THRESHOLDS``; the
    same threshold decides whether a cluster continues an ``earlier`` identity (centroid cosine
    >= 1 - threshold, each earlier identity taken at most once). ``search`` sets the nearest
    neighbour search (exact up to its ``exact_up_to`` tracks, approximate beyond).
    """
    if not tracks:
        return []
    search = search or NeighbourSearch()
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
    clusters = neighbour_linkage(vectors, distance_threshold, co_occurring_pairs(ordered), search)
    labels = np.empty(len(ordered), dtype=np.int64)
    for k, members in enumerate(clusters):
        labels[members] = k
    sums = np.zeros((len(clusters), vectors.shape[1]))
    np.add.at(sums, labels, vectors)
    norms = np.linalg.norm(sums, axis=1)
    if np.any(norms == 0):
        raise ValueError("the vectors cancel out: no mean direction")
    centroids = sums / norms[:, None]
    sizes = np.array([len(c) for c in clusters], dtype=np.float64)
    means = sums / sizes[:, None]

    matches = _match_earlier(centroids, earlier, kind, distance_threshold, search)
    ids = [
        matches[k][0] if k in matches else new_identity_id([ordered[i].track_id for i in members])
        for k, members in enumerate(clusters)
    ]
    nearest_of = _nearest_clusters(means, search)
    identities = []
    for k, members in enumerate(clusters):
        size = len(members)
        # Mean pairwise cosine of the members: |sum|^2 counts every ordered pair and the n self-pairs.
        intra = 1.0 if size == 1 else float((sums[k] @ sums[k] - size) / (size * (size - 1)))
        nearest_cluster = nearest_of[k]
        nearest_similarity = None if nearest_cluster < 0 else float(means[k] @ means[nearest_cluster])
        identities.append(
            Identity(
                identity_id=ids[k],
                track_ids=tuple(ordered[i].track_id for i in members),
                kind=kind,
                centroid=centroids[k].astype(np.float32),
                intra_similarity=intra,
                nearest_identity_id=None if nearest_cluster < 0 else ids[nearest_cluster],
                nearest_similarity=nearest_similarity,
                margin=None if nearest_similarity is None else intra - nearest_similarity,
                earlier_similarity=matches[k][1] if k in matches else None,
            )
        )
    return sorted(identities, key=lambda identity: identity.identity_id)


def _nearest_clusters(means: np.ndarray, search: NeighbourSearch, k: int = 8) -> np.ndarray:
    """For each cluster, the other cluster with the highest mean cosine between their members
    (the dot product of their mean vectors; ties to the lower index), or -1 when alone."""
    if len(means) < 2:
        return np.full(len(means), -1, dtype=np.int64)
    _, ids = nearest(vector_index(means, search), means, min(k, len(means)))
    best = np.full(len(means), -1, dtype=np.int64)
    for row in range(len(means)):
        others = ids[row][(ids[row] >= 0) & (ids[row] != row)]
        if len(others):
            similarity = means[others] @ means[row]
            best[row] = int(others[np.lexsort((others, -similarity))[0]])
    return best


def identity_of_track(identities: Sequence[Identity]) -> dict[str, str]:
    """Track id -> identity id."""
    return {track: identity.identity_id for identity in identities for track in identity.track_ids}


def known_identities(identities: Sequence[Identity]) -> list[KnownIdentity]:
    """A run's identities in the form the next run matches against."""
    return [KnownIdentity(i.identity_id, i.centroid, i.kind) for i in identities]
