"""Close pairs among many embedding vectors through faiss, without an all-pairs matrix.

Run-wide steps (identity clustering, CLIP near-duplicates) need, for each vector, the few others
close to it. Up to ``exact_up_to`` vectors a flat faiss index answers exactly (it scans in
bounded blocks, so memory is O(n k) however large n is); beyond that an inverted-file index
(k-means cells, ``probes`` cells scanned per query) answers approximately, in a fraction of the
time. IVF rather than HNSW: IVF's answers are a function of its input alone, whereas HNSW's
multi-threaded build is not, and the stages must give the same output when run twice.

Similarities come back as faiss computes them (float32); callers that cut at a threshold ask for
a little slack here and decide on values they recompute exactly.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

SIMILARITY_SLACK = 1e-4  # float32 inner products vs exact float64 cuts: ask a little wider


@dataclass(frozen=True)
class NeighbourSearch:
    """How close pairs are searched.

    ``neighbours``: k of the k-nearest-neighbour graph; a vector whose k-th neighbour is still
    close is searched again with 4k, up to ``max_neighbours``. ``exact_up_to``: the largest set
    searched exactly. ``cells_per_sqrt`` and ``probes``: the IVF index beyond that, with
    ``cells_per_sqrt * sqrt(n)`` cells of which ``probes`` are scanned per query.
    """

    neighbours: int = 32
    max_neighbours: int = 64
    exact_up_to: int = 20_000
    cells_per_sqrt: float = 4.0
    probes: int = 32

    def __post_init__(self) -> None:
        if self.neighbours < 1 or self.max_neighbours < self.neighbours or self.probes < 1:
            raise ValueError(f"invalid neighbour search settings: {self}")


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as error:  # a core dependency: only a broken install gets here
        raise ImportError("faiss is missing: pip install 'faiss-cpu==1.15.*'") from error
    return faiss


def vector_index(vectors: np.ndarray, search: NeighbourSearch) -> Any:
    """An inner-product index over ``vectors``: flat (exact) when small enough, else IVF."""
    faiss = _faiss()
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dimension = data.shape
    if n <= search.exact_up_to:
        index = faiss.IndexFlatIP(dimension)
    else:
        # k-means needs some 39 training points per cell; faiss subsamples large sets itself,
        # with a fixed seed, so the cells are the same on every run.
        cells = max(1, min(round(search.cells_per_sqrt * np.sqrt(n)), n // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, cells, faiss.METRIC_INNER_PRODUCT)
        index.train(data)
        index.nprobe = min(search.probes, cells)
    index.add(data)
    return index


def nearest(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, ids), each (len(queries), k), best first; id -1 where fewer than k exist."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if len(queries) == 0 or index.ntotal == 0:
        return np.zeros((len(queries), k), np.float32), np.full((len(queries), k), -1, np.int64)
    return index.search(queries, min(k, index.ntotal))


def neighbour_pairs(
    vectors: np.ndarray, min_similarity: float, search: NeighbourSearch, index: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Directed pairs (i, j), i != j, where j is among i's nearest neighbours with an inner
    product of at least ``min_similarity`` (less the float32 slack).

    Rows whose k-th neighbour still passes are searched again with 4k neighbours, up to
    ``max_neighbours``: members of a large group stay linked to more than their first k mates.
    """
    n = len(vectors)
    index = index if index is not None else vector_index(vectors, search)
    cut = min_similarity - SIMILARITY_SLACK
    rows_out, cols_out = [], []
    pending = np.arange(n)
    k = search.neighbours + 1  # the vector itself usually comes first
    while len(pending):
        similarities, ids = nearest(index, vectors[pending], k)
        close = (similarities >= cut) & (ids >= 0) & (ids != pending[:, None])
        saturated = close[:, -1] & (k < min(n, search.max_neighbours + 1))
        done = ~saturated
        rows, cols = np.nonzero(close & done[:, None])
        rows_out.append(pending[rows])
        cols_out.append(ids[rows, cols])
        pending = pending[saturated]
        k = min(4 * k, search.max_neighbours + 1)
    if not rows_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows_out).astype(np.int64), np.concatenate(cols_out).astype(np.int64)


def pairs_within(vectors: np.ndarray, min_similarity: float, search: NeighbourSearch) -> tuple[np.ndarray, np.ndarray]:
    """Every directed pair (i, j), i != j, with inner product above ``min_similarity`` less the
    slack (all of them up to ``exact_up_to`` vectors; those the IVF cells find beyond).

    A range search: the answer's size is the number of close pairs, so this suits cuts that few
    pairs pass (near-duplicates), not loose ones (use ``neighbour_pairs``).
    """
    n = len(vectors)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    index = vector_index(vectors, search)
    limits, _similarities, ids = index.range_search(
        np.ascontiguousarray(vectors, dtype=np.float32), float(min_similarity - SIMILARITY_SLACK)
    )
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(limits.astype(np.int64)))
    ids = ids.astype(np.int64)
    other = ids != rows
    return rows[other], ids[other]
