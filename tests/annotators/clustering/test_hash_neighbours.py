import numpy as np
import pytest

from annotators.clustering.hash_neighbours import close_hash_pairs, part_count


def _brute_force(values: np.ndarray, radius: int) -> set[tuple[int, int]]:
    distance = np.bitwise_count(values[:, None] ^ values[None, :])
    rows, cols = np.nonzero(np.triu(distance <= radius, k=1))
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


def _found(values: np.ndarray, radius: int, block: int = 1 << 22) -> set[tuple[int, int]]:
    pairs = set()
    for left, right in close_hash_pairs(values, radius, block):
        assert (left < right).all()
        pairs.update(zip(left.tolist(), right.tolist(), strict=True))
    return pairs


def _planted(seed: int, n: int = 1500) -> np.ndarray:
    """Random hashes plus copies of some of them with 0 to 12 bits flipped anywhere."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64, n, dtype=np.uint64)
    copies = []
    for source in rng.choice(n, 400):
        flipped = rng.choice(64, rng.integers(0, 13), replace=False)
        copies.append(values[source] ^ np.uint64(sum(1 << int(b) for b in flipped)))
    return np.concatenate([values, np.array(copies, dtype=np.uint64)])


@pytest.mark.parametrize("radius", [0, 1, 3, 4, 6, 10])
def test_multi_index_hashing_finds_exactly_the_pairs_brute_force_finds(radius):
    values = _planted(radius)
    expected = _brute_force(values, radius)
    assert len(expected) > 20  # the planted copies, not only chance pairs
    assert _found(values, radius) == expected
    assert _found(values, radius, block=7) == expected  # many tiny expansion blocks


def test_adversarial_hashes_in_one_bucket_and_across_part_borders():
    # Pairs that differ only at the borders of the parts, and many hashes sharing every part but one.
    base = np.uint64(0x0123456789ABCDEF)
    one_bit = [base ^ np.uint64(1 << b) for b in range(64)]
    two_bits = [base ^ np.uint64((1 << b) | (1 << 63 - b)) for b in range(20)]
    values = np.array([*one_bit, *two_bits, base], dtype=np.uint64)
    for radius in (1, 2, 4):
        assert _found(values, radius) == _brute_force(values, radius)


def test_the_part_count_follows_the_radius_and_the_corpus_size():
    assert part_count(2_000_000, 4) == 3  # 21-22 bit parts, one flipped bit
    assert part_count(100, 4) == 5  # tiny corpus: exact bands, no flips
    assert part_count(10, 0) == 1
    assert _found(np.array([5, 5, 6], dtype=np.uint64), -1) == set()
