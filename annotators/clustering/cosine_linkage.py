"""Average linkage of unit vectors on cosine distance over a sparse graph, with cannot-link pairs.

The dense ``average_linkage_clusters`` needs the n x n distance matrix (50,000 tracks: 20 GB).
Two facts make a sparse version with the same merges possible:

- For unit vectors, the mean pairwise cosine between two clusters is the dot product of their
  mean vectors, so a cluster is kept as (sum of members, size) and any cluster distance costs
  O(d), not O(|A| |B|). Within a cluster: ``(|S|^2 - n) / (n (n - 1))``.
- A mean is never below its minimum: two clusters within the cut always have a pair of members
  within it. Only clusters joined by such a pair are candidates, so merging along the edges of
  the "within the cut" graph visits the same merges in the same order (closest first, ties by
  lowest index) as the dense algorithm.

The graph comes from k nearest neighbours, which can miss pairs when a vector has more than k
close neighbours. Once the edges run out, ``more_candidates`` (the nearest neighbours of the
clusters' mean directions) proposes further cluster pairs, and merging continues until a round
finds nothing within the cut. Memory is O(n d + edges).

Cannot-link pairs (tracks seen together) are kept as sets between cluster representatives and
united on each merge, so a constraint between two members holds between every pair of clusters
that contain them, as in the dense version.
"""

import heapq
from collections.abc import Callable

import numpy as np

from annotators.clustering.vector_neighbours import NeighbourSearch, neighbour_pairs

CandidateSearch = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # directions -> (rows, cols)
_PAIRS_PER_BLOCK = 1 << 16  # candidate pairs whose distances are computed at once
MAX_ROUNDS = 8


class _Agglomeration:
    """Clusters named by their smallest member (as the dense version), merged closest first.

    As in the dense version, each cluster caches its nearest candidate (ties to the lowest index)
    and the heap holds one entry per cluster; after a merge only the clusters that pointed at the
    merged pair are rescanned, and the others compared with the new cluster alone.
    """

    def __init__(self, vectors: np.ndarray, threshold: float) -> None:
        n = len(vectors)
        self.threshold = threshold
        self.sums = np.array(vectors, dtype=np.float64)
        self.sizes = np.ones(n)
        self.members: list[list[int] | None] = [[i] for i in range(n)]
        self.active = np.ones(n, dtype=bool)
        self.version = [0] * n
        self.nearest = np.full(n, -1, dtype=np.int64)
        self.nearest_distance = np.full(n, np.inf)
        self.adjacent: list[set[int] | None] = [set() for _ in range(n)]
        self.forbidden: dict[int, set[int]] = {}
        self.heap: list[tuple[float, int, int]] = []

    def forbid(self, rows: np.ndarray, cols: np.ndarray) -> None:
        for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
            if a != b:
                self.forbidden.setdefault(a, set()).add(b)
                self.forbidden.setdefault(b, set()).add(a)

    def distances(self, a: np.ndarray | int, b: np.ndarray) -> np.ndarray:
        """Average-linkage cosine distance between clusters ``a[i]`` (or ``a``) and ``b[i]``."""
        out = np.empty(len(b))
        for start in range(0, len(b), _PAIRS_PER_BLOCK):
            y = b[start : start + _PAIRS_PER_BLOCK]
            if isinstance(a, int):
                mean = self.sums[y] @ self.sums[a] / (self.sizes[y] * self.sizes[a])
            else:
                x = a[start : start + _PAIRS_PER_BLOCK]
                mean = np.einsum("ij,ij->i", self.sums[x], self.sums[y]) / (self.sizes[x] * self.sizes[y])
            out[start : start + len(y)] = 1.0 - np.clip(mean, -1.0, 1.0)
        return out

    def _point(self, cluster: int, other: int, distance: float) -> None:
        self.nearest[cluster] = other
        self.nearest_distance[cluster] = distance
        self.version[cluster] += 1
        if other >= 0:
            heapq.heappush(self.heap, (distance, cluster, self.version[cluster]))

    def _offer(self, cluster: int, other: int, distance: float) -> None:
        """``other`` becomes ``cluster``'s nearest if closer (or as close with a lower index)."""
        current = (float(self.nearest_distance[cluster]), int(self.nearest[cluster]))
        if distance <= self.threshold and (distance, other) < current:
            self._point(cluster, other, distance)

    def _rescan(self, cluster: int) -> None:
        adjacent = self.adjacent[cluster]
        if not adjacent:
            self._point(cluster, -1, np.inf)
            return
        others = np.fromiter(adjacent, dtype=np.int64, count=len(adjacent))
        distance = self.distances(cluster, others)
        best = np.lexsort((others, distance))[0]
        if distance[best] <= self.threshold:
            self._point(cluster, int(others[best]), float(distance[best]))
        else:
            self._point(cluster, -1, np.inf)

    def link(self, rows: np.ndarray, cols: np.ndarray) -> int:
        """Make clusters (representatives) ``rows[i]``, ``cols[i]`` candidates; returns how many
        new candidate pairs are within the cut."""
        n = len(self.active)
        lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
        keys = np.unique(lo[lo != hi] * n + hi[lo != hi])
        fresh = []
        for a, b in zip((keys // n).tolist(), (keys % n).tolist(), strict=True):
            adjacent = self.adjacent[a]
            if b in adjacent or b in self.forbidden.get(a, ()):
                continue
            adjacent.add(b)
            self.adjacent[b].add(a)
            fresh.append((a, b))
        if not fresh:
            return 0
        pairs = np.array(fresh, dtype=np.int64)
        distance = self.distances(pairs[:, 0], pairs[:, 1])
        close = distance <= self.threshold
        ends = np.concatenate([pairs[close, 0], pairs[close, 1]])
        others = np.concatenate([pairs[close, 1], pairs[close, 0]])
        distance = np.concatenate([distance[close], distance[close]])
        order = np.lexsort((others, distance, ends))
        first = order[np.r_[True, ends[order][1:] != ends[order][:-1]]] if len(order) else order
        for i in first.tolist():
            self._offer(int(ends[i]), int(others[i]), float(distance[i]))
        return int(close.sum())

    def merge_all(self) -> int:
        merges = 0
        heap, version = self.heap, self.version
        while heap:
            _, cluster, cluster_version = heapq.heappop(heap)
            if version[cluster] != cluster_version or not self.active[cluster]:
                continue
            other = int(self.nearest[cluster])
            self._merge(min(cluster, other), max(cluster, other))
            merges += 1
        return merges

    def _merge(self, a: int, b: int) -> None:
        """Cluster ``b`` joins ``a`` (a < b)."""
        self.sums[a] += self.sums[b]
        self.sizes[a] += self.sizes[b]
        self.members[a].extend(self.members[b])
        self.members[b] = None
        self.active[b] = False
        self.version[b] += 1
        forbidden_b = self.forbidden.pop(b, set())
        for other in forbidden_b:
            self.forbidden[other].discard(b)
            self.forbidden[other].add(a)
        if forbidden_b:
            self.forbidden.setdefault(a, set()).update(forbidden_b)
        forbidden = self.forbidden.get(a, set())

        adjacent_b = self.adjacent[b]
        self.adjacent[b] = None
        nearest = self.nearest
        pointing = [x for x in self.adjacent[a] | adjacent_b if nearest[x] == a or nearest[x] == b]
        for other in adjacent_b:
            self.adjacent[other].discard(b)
        adjacent = self.adjacent[a] | adjacent_b
        adjacent.discard(a)
        adjacent.discard(b)
        for other in adjacent & forbidden:
            self.adjacent[other].discard(a)
        adjacent -= forbidden
        for other in adjacent:
            self.adjacent[other].add(a)
        self.adjacent[a] = adjacent

        self._rescan(a)
        for other in pointing:
            if other not in (a, b):
                self._rescan(other)
        if adjacent:
            # The others only need comparing with the new cluster (closer, or as close and lower).
            others = np.fromiter(adjacent.difference(pointing), dtype=np.int64)
            distance = self.distances(a, others)
            current = self.nearest_distance[others]
            closer = (distance <= self.threshold) & (
                (distance < current) | ((distance == current) & (a < self.nearest[others]))
            )
            for i in np.flatnonzero(closer).tolist():
                self._point(int(others[i]), a, float(distance[i]))

    def representatives(self) -> np.ndarray:
        return np.flatnonzero(self.active)

    def directions(self, representatives: np.ndarray) -> np.ndarray:
        sums = self.sums[representatives]
        return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)


def cosine_average_linkage(
    vectors: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray],
    cannot_link: tuple[np.ndarray, np.ndarray],
    threshold: float,
    more_candidates: CandidateSearch | None = None,
) -> list[list[int]]:
    """Clusters (item indices, each sorted, listed by first item) of unit ``vectors``.

    Merges the pair of clusters with the smallest mean cosine distance while it is at most
    ``threshold`` and no ``cannot_link`` pair would end up in one cluster; only pairs joined by a
    ``candidates`` edge (or proposed by ``more_candidates`` from the clusters' mean directions,
    as index pairs into the array it is given) are considered.
    """
    if len(vectors) == 0:
        return []
    clusters = _Agglomeration(vectors, threshold)
    clusters.forbid(*cannot_link)
    clusters.link(*candidates)
    clusters.merge_all()
    for _ in range(MAX_ROUNDS if more_candidates is not None else 0):
        representatives = clusters.representatives()
        if len(representatives) < 2:
            break
        rows, cols = more_candidates(clusters.directions(representatives))
        if not clusters.link(representatives[rows], representatives[cols]) or not clusters.merge_all():
            break
    found = [sorted(clusters.members[k]) for k in clusters.representatives()]
    return sorted(found, key=lambda c: c[0])


def neighbour_linkage(
    vectors: np.ndarray, threshold: float, cannot_link: tuple[np.ndarray, np.ndarray], search: NeighbourSearch
) -> list[list[int]]:
    """``cosine_average_linkage`` of unit ``vectors`` over their near-neighbour graph (pairs within
    the cut, ``vector_neighbours.neighbour_pairs``), searched again from the clusters' mean
    directions while merges continue: the whole recipe, with no n x n matrix anywhere."""
    min_similarity = 1.0 - threshold

    def more_candidates(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return neighbour_pairs(directions, min_similarity, search)

    return cosine_average_linkage(
        vectors, neighbour_pairs(vectors, min_similarity, search), cannot_link, threshold, more_candidates
    )
