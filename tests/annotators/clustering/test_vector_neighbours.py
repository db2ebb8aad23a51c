import numpy as np
import pytest

from annotators.clustering.vector_neighbours import NeighbourSearch, neighbour_pairs, pairs_within


def _groups(seed: int, groups: int = 30, size: int = 40, dimension: int = 32, noise: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (groups, dimension))
    points = np.repeat(centres, size, axis=0) + rng.normal(0, noise, (groups * size, dimension))
    points = np.concatenate([points, rng.normal(0, 1, (300, dimension))])  # loners
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def _brute_force(vectors: np.ndarray, min_similarity: float) -> set[tuple[int, int]]:
    similarity = vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    np.fill_diagonal(similarity, -np.inf)
    rows, cols = np.nonzero(similarity >= min_similarity)
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


def _as_set(pairs: tuple[np.ndarray, np.ndarray]) -> set[tuple[int, int]]:
    return set(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))


@pytest.mark.parametrize("min_similarity", [0.5, 0.9])
def test_range_search_finds_every_close_pair(min_similarity):
    vectors = _groups(0)
    expected = _brute_force(vectors, min_similarity)
    assert len(expected) > 1000
    found = _as_set(pairs_within(vectors, min_similarity, NeighbourSearch()))
    assert expected <= found  # the float32 slack may add pairs a hair under the cut, never lose one
    assert all(float(vectors[i] @ vectors[j]) >= min_similarity - 1e-3 for i, j in found - expected)
    approximate = _as_set(pairs_within(vectors, min_similarity, NeighbourSearch(exact_up_to=0, probes=8)))
    assert len(expected & approximate) >= 0.95 * len(expected)


def test_knn_pairs_grow_past_k_for_members_of_large_groups():
    # Groups of 40 with k = 5: the first search saturates, the second (4k = 24) and third reach all.
    vectors = _groups(1)
    expected = _brute_force(vectors, 0.6)
    found = _as_set(neighbour_pairs(vectors, 0.6, NeighbourSearch(neighbours=5, max_neighbours=64)))
    assert expected <= found
    capped = _as_set(neighbour_pairs(vectors, 0.6, NeighbourSearch(neighbours=5, max_neighbours=5)))
    assert len(capped) < len(expected) / 4  # at most 5 a vector: what the linkage's later rounds make up for


def test_the_approximate_index_gives_the_same_answer_every_time():
    vectors = _groups(2)
    search = NeighbourSearch(exact_up_to=0, probes=2)
    first = neighbour_pairs(vectors, 0.5, search)
    second = neighbour_pairs(vectors, 0.5, search)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        NeighbourSearch(neighbours=10, max_neighbours=5)
