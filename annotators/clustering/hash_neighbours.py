"""All pairs of 64-bit hashes within a Hamming radius, by multi-index hashing: exact, never all pairs.

Split the 64 bits into m parts. Two hashes within ``radius`` bits differ in at most
``radius // m`` bits in at least one part (pigeonhole), so every such pair is found by looking
each hash's parts up in a table of all hashes' parts, with up to ``radius // m`` bits of the part
flipped, and keeping the pairs whose full distance is within the radius. Nothing is missed.

m is chosen by an estimate of the cost: a probe per flip pattern, plus the hashes met in each
probed bucket (n / 2^part_bits for random hashes). With m = radius + 1 no bit is flipped, but the
parts are short and their buckets crowded (at radius 10 and 2 million key frames, 11 bands of 6
bits would put 17 % of all pairs in a shared bucket: worse than comparing all pairs); a few long
parts with one or two bits flipped are usually far cheaper.
"""

from collections.abc import Callable, Iterator
from itertools import combinations
from math import comb

import numpy as np

HASH_BITS = 64


def _parts(count: int) -> list[tuple[int, int]]:
    """(shift, width) of ``count`` parts covering the 64 bits, widths differing by at most one."""
    widths = [HASH_BITS // count + (1 if i < HASH_BITS % count else 0) for i in range(count)]
    shifts = np.concatenate([[0], np.cumsum(widths)[:-1]]).tolist()
    return list(zip(shifts, widths, strict=True))


def _probes(width: int, flips: int) -> int:
    return sum(comb(width, i) for i in range(flips + 1))


def part_count(n: int, radius: int) -> int:
    """The number of parts with the lowest estimated cost for ``n`` hashes at ``radius``."""

    def cost(count: int) -> float:
        width = HASH_BITS // count
        return count * _probes(width, radius // count) * (1.0 + n / 2.0**width)

    return min(range(1, min(radius + 1, HASH_BITS) + 1), key=cost)


def _flip_masks(width: int, flips: int) -> np.ndarray:
    masks = [0]
    for count in range(1, flips + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(width), count)]
    return np.array(masks, dtype=np.uint64)


TABLE_MAX_BITS = 24  # parts up to this width are looked up in a table of 2^width bucket starts


def _bucket_lookup(sorted_keys: np.ndarray, width: int) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """keys -> (start in ``sorted_keys``, count) of each key's bucket."""
    if width <= TABLE_MAX_BITS:
        sizes = np.bincount(sorted_keys.astype(np.int64), minlength=1 << width)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return lambda keys: (starts[keys.astype(np.int64)], sizes[keys.astype(np.int64)])

    def search(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts = np.searchsorted(sorted_keys, keys, side="left")
        return starts, np.searchsorted(sorted_keys, keys, side="right") - starts

    return search


def close_hash_pairs(values: np.ndarray, radius: int, block: int = 1 << 22) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of index pairs (i < j) with ``popcount(values[i] ^ values[j]) <= radius``.

    Every such pair comes at least once (possibly more: deduplicate); ``block`` bounds how many
    bucket entries are expanded at once, and so the temporary memory.
    """
    values = np.asarray(values, dtype=np.uint64)
    n = len(values)
    if n < 2 or radius < 0:
        return
    count = part_count(n, radius)
    for shift, width in _parts(count):
        keys = (values >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(keys, kind="stable")
        bucket = _bucket_lookup(keys[order], width)
        for mask in _flip_masks(width, radius // count):
            starts, counts = bucket(keys ^ mask)
            (rows,) = np.nonzero(counts)
            # Expand bucket entries in runs of rows holding at most ``block`` entries in all.
            ends = np.cumsum(counts[rows])
            first = 0
            while first < len(rows):
                last = max(first + 1, int(np.searchsorted(ends, (ends[first - 1] if first else 0) + block, "right")))
                chunk = rows[first:last]
                sizes = counts[chunk]
                offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
                left = np.repeat(chunk, sizes)
                right = order[np.repeat(starts[chunk], sizes) + offsets]
                keep = (left < right) & (np.bitwise_count(values[left] ^ values[right]) <= radius)
                if keep.any():
                    yield left[keep], right[keep]
                first = last
