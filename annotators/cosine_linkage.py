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

CandidateSearch = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # directions -> (rows, cols)
_PAIRS_PER_BLOCK = 1 << 16  # candidate pairs whose distances are computed at once
MAX_ROUNDS = 8


class _Agglomeration:
    """Clusters named by their smallest member (as the dense version), merged closest first."""

    def __init__(self, vectors: np.ndarray, threshold: float) -> None:
        n = len(vectors)
        self.threshold = threshold
        self.sums = np.array(vectors, dtype=np.float64)
        self.sizes = np.ones(n)
        self.members: list[list[int] | None] = [[i] for i in range(n)]
        self.active = np.ones(n, dtype=bool)
        self.version = [0] * n
        self.adjacent: list[set[int] | None] = [set() for _ in range(n)]
        self.forbidden: dict[int, set[int]] = {}
        self.heap: list[tuple[float, int, int, int, int]] = []

    def forbid(self, rows: np.ndarray, cols: np.ndarray) -> None:
        for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
            if a != b:
                self.forbidden.setdefault(a, set()).add(b)
                self.forbidden.setdefault(b, set()).add(a)

    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Average-linkage cosine distance between clusters ``a[i]`` and ``b[i]``."""
        out = np.empty(len(a))
        for start in range(0, len(a), _PAIRS_PER_BLOCK):
            x, y = a[start : start + _PAIRS_PER_BLOCK], b[start : start + _PAIRS_PER_BLOCK]
            mean = np.einsum("ij,ij->i", self.sums[x], self.sums[y]) / (self.sizes[x] * self.sizes[y])
            out[start : start + len(x)] = 1.0 - np.clip(mean, -1.0, 1.0)
        return out

    def link(self, rows: np.ndarray, cols: np.ndarray) -> int:
        """Make clusters (representatives) ``rows[i]``, ``cols[i]`` candidates; returns how many
        new candidate pairs are within the cut."""
        lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
        keys = np.unique(lo[lo != hi] * len(self.active) + hi[lo != hi])
        lo, hi = keys // len(self.active), keys % len(self.active)
        fresh = []
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
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
        close = np.flatnonzero(distance <= self.threshold)
        version = self.version
        entries = [(float(distance[i]), int(pairs[i, 0]), int(pairs[i, 1])) for i in close]
        for d, a, b in entries:
            heapq.heappush(self.heap, (d, a, b, version[a], version[b]))
        return len(entries)

    def merge_all(self) -> int:
        merges = 0
        heap, version = self.heap, self.version
        while heap:
            _, a, b, version_a, version_b = heapq.heappop(heap)
            if version[a] != version_a or version[b] != version_b or not (self.active[a] and self.active[b]):
                continue
            self._merge(a, b)
            merges += 1
        return merges

    def _merge(self, a: int, b: int) -> None:
        """Cluster ``b`` joins ``a`` (a < b); the distances from the new cluster are recomputed."""
        self.sums[a] += self.sums[b]
        self.sizes[a] += self.sizes[b]
        self.members[a].extend(self.members[b])
        self.members[b] = None
        self.active[b] = False
        self.version[a] += 1
        forbidden_b = self.forbidden.pop(b, set())
        for other in forbidden_b:
            self.forbidden[other].discard(b)
            self.forbidden[other].add(a)
        if forbidden_b:
            self.forbidden.setdefault(a, set()).update(forbidden_b)
        forbidden = self.forbidden.get(a, set())

        adjacent_b = self.adjacent[b]
        self.adjacent[b] = None
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
        if not adjacent:
            return
        others = np.fromiter(adjacent, dtype=np.int64, count=len(adjacent))
        distance = self.distances(np.full(len(others), a), others)
        version = self.version
        for i in np.flatnonzero(distance <= self.threshold).tolist():
            other = int(others[i])
            lo, hi = min(a, other), max(a, other)
            heapq.heappush(self.heap, (float(distance[i]), lo, hi, version[lo], version[hi]))

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
