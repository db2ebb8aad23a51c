"""Shuffle raw (still encoded) samples with a buffer bounded in bytes, not in sample count.

Shuffling before decode keeps the buffer small (an encoded 2-s clip is ~100 kB, decoded it is
tens of MB), and a byte bound keeps memory predictable when clip lengths vary a lot.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar


class Sized(Protocol):
    @property
    def nbytes(self) -> int: ...


S = TypeVar("S", bound=Sized)


def byte_bounded_shuffle(samples: Iterable[S], max_bytes: int, rng: random.Random) -> Iterator[S]:
    """Yield ``samples`` in a random order; at most ``max_bytes`` (plus one sample) are held."""
    buffer: list[S] = []
    held = 0
    for sample in samples:
        buffer.append(sample)
        held += sample.nbytes
        while held > max_bytes and len(buffer) > 1:
            # Swap-remove a random element: O(1) and uniform over the buffer.
            index = rng.randrange(len(buffer))
            buffer[index], buffer[-1] = buffer[-1], buffer[index]
            out = buffer.pop()
            held -= out.nbytes
            yield out
    rng.shuffle(buffer)
    yield from buffer
