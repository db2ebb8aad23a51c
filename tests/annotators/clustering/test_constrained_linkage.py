import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform

from annotators.clustering.constrained_linkage import average_linkage_clusters


def _partition(labels: np.ndarray) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return sorted(groups.values(), key=lambda g: g[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_without_constraints_it_is_scipys_average_linkage_cut_at_the_threshold(seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (6, 16))
    points = np.repeat(centres, 5, axis=0) + rng.normal(0, 0.35, (30, 16))
    distances = squareform(pdist(points, "cosine"))
    threshold = 0.3
    ours = average_linkage_clusters(distances, np.zeros_like(distances, dtype=bool), threshold)
    reference = fcluster(linkage(pdist(points, "cosine"), method="average"), t=threshold, criterion="distance")
    assert ours == _partition(reference)
    assert 2 <= len(ours) <= 29  # the case is not trivially all-in-one or all-apart


def test_a_cannot_link_pair_stays_apart_and_the_constraint_spreads_to_clusters():
    # a ~ b ~ c on a line; a and c may not be together, so b joins only one of them.
    distances = np.array([[0.0, 0.1, 0.2], [0.1, 0.0, 0.12], [0.2, 0.12, 0.0]])
    cannot = np.zeros((3, 3), dtype=bool)
    cannot[0, 2] = cannot[2, 0] = True
    assert average_linkage_clusters(distances, cannot, threshold=0.5) == [[0, 1], [2]]
    assert average_linkage_clusters(distances, np.zeros_like(cannot), threshold=0.5) == [[0, 1, 2]]


def test_nothing_merges_above_the_threshold_and_empty_input_is_fine():
    distances = np.array([[0.0, 0.4], [0.4, 0.0]])
    no_constraints = np.zeros((2, 2), dtype=bool)
    assert average_linkage_clusters(distances, no_constraints, threshold=0.39) == [[0], [1]]
    assert average_linkage_clusters(distances, no_constraints, threshold=0.4) == [[0, 1]]
    assert average_linkage_clusters(np.zeros((0, 0)), np.zeros((0, 0), dtype=bool), 0.5) == []


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError):
        average_linkage_clusters(np.zeros((3, 3)), np.zeros((2, 2), dtype=bool), 0.5)


@pytest.mark.parametrize("threshold", [0.2, 0.6, 0.9])
def test_nearest_neighbour_cache_agrees_with_scipy_on_a_larger_case(threshold):
    rng = np.random.default_rng(7)
    points = np.repeat(rng.normal(0, 1, (40, 8)), 5, axis=0) + rng.normal(0, 0.5, (200, 8))
    condensed = pdist(points, "cosine")
    distances = squareform(condensed)
    ours = average_linkage_clusters(distances, np.zeros_like(distances, dtype=bool), threshold)
    reference = fcluster(linkage(condensed, method="average"), t=threshold, criterion="distance")
    assert ours == _partition(reference)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_a_cluster_cap_merges_past_the_threshold_as_scipy_cuts_at_k(k):
    rng = np.random.default_rng(5)
    points = rng.normal(0, 1, (20, 8))
    distances = squareform(pdist(points))
    apart = average_linkage_clusters(distances, np.zeros_like(distances, dtype=bool), 0.0)
    assert len(apart) == 20
    capped = average_linkage_clusters(distances, np.zeros_like(distances, dtype=bool), 0.0, max_clusters=k)
    reference = fcluster(linkage(pdist(points), method="average"), t=k, criterion="maxclust")
    assert capped == _partition(reference)
    # A cannot-link pair is never merged, even to honour the cap.
    cannot = np.zeros_like(distances, dtype=bool)
    cannot[0, 1] = cannot[1, 0] = True
    cannot[0, 2] = cannot[2, 0] = cannot[1, 2] = cannot[2, 1] = True
    assert len(average_linkage_clusters(distances, cannot, 0.0, max_clusters=1)) >= 3
