"""Average-linkage agglomerative clustering with cannot-link constraints and a distance cut.

Off-the-shelf linkage (scipy, scikit-learn) cannot forbid merges, and a cut of the finished tree
would still have merged two faces seen together in one frame. Here a forbidden pair has an
infinite distance; the Lance-Williams update for average linkage
``d(k, i+j) = (n_i d(k, i) + n_j d(k, j)) / (n_i + n_j)`` keeps it infinite, so a constraint
between two tracks also holds between every pair of clusters that contain them.

Each row's nearest neighbour is cached and only rows whose neighbour was merged are rescanned,
which keeps the usual cost near O(n^2) time and memory for n items.
"""

import numpy as np


def average_linkage_clusters(
    distances: np.ndarray, cannot_link: np.ndarray, threshold: float, max_clusters: int | None = None
) -> list[list[int]]:
    """Clusters (lists of item indices, each sorted, listed by first item) of a distance matrix.

    Merges the closest pair of clusters (mean pairwise distance) while that distance is at most
    ``threshold``, or while more than ``max_clusters`` remain, and no cannot-link pair would end
    up in one cluster. Ties are broken by index, so the result depends only on the input order.
    """
    n = len(distances)
    if distances.shape != (n, n) or cannot_link.shape != (n, n):
        raise ValueError("distances and cannot_link must be square and of the same size")
    if n == 0:
        return []
    d = np.array(distances, dtype=np.float64)
    d[np.asarray(cannot_link, dtype=bool)] = np.inf
    np.fill_diagonal(d, np.inf)
    sizes = np.ones(n, dtype=np.float64)
    members: list[list[int]] = [[i] for i in range(n)]
    active = np.ones(n, dtype=bool)
    nearest = np.argmin(d, axis=1)
    nearest_distance = d[np.arange(n), nearest]

    remaining = n
    while True:
        i = int(np.argmin(nearest_distance))
        j = int(nearest[i])
        too_many = max_clusters is not None and remaining > max_clusters
        if not (nearest_distance[i] <= threshold or (too_many and np.isfinite(nearest_distance[i]))):
            break
        remaining -= 1
        i, j = min(i, j), max(i, j)
        merged = (sizes[i] * d[i] + sizes[j] * d[j]) / (sizes[i] + sizes[j])
        merged[[i, j]] = np.inf
        d[i], d[:, i] = merged, merged
        d[j], d[:, j] = np.inf, np.inf
        sizes[i] += sizes[j]
        members[i].extend(members[j])
        active[j] = False
        nearest_distance[j] = np.inf

        # Rows that pointed at i or j must be rescanned; the rest can only get closer to i.
        stale = active & ((nearest == i) | (nearest == j))
        stale[i] = True
        for k in np.flatnonzero(stale):
            nearest[k] = int(np.argmin(d[k]))
            nearest_distance[k] = d[k, nearest[k]]
        closer = active & ~stale & (d[:, i] < nearest_distance)
        nearest[closer] = i
        nearest_distance[closer] = d[closer, i]

    clusters = [sorted(members[k]) for k in np.flatnonzero(active)]
    return sorted(clusters, key=lambda c: c[0])
