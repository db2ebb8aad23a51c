"""Group samples into batches whose tensors share a shape, so a batch needs no padding.

The shape is known before decode (frame bucket from the record's ``n_frames``, number of
references from the member names), so the expensive decode runs only on samples that will be
batched, and a resumed run can skip whole batches without decoding them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def batches_by_shape(
    samples: Iterable[T],
    shape_of: Callable[[T], Hashable | None],
    batch_size: int,
    max_pending: int,
) -> Iterator[tuple[Hashable, list[T]]]:
    """Yield ``(shape, batch)``; samples whose shape is ``None`` (unusable) are dropped here and
    ``shape_of`` is expected to log why. When more than ``max_pending`` samples wait across all
    shapes, the fullest shape is flushed as a short batch, so rare shapes cannot pile up."""
    pending: OrderedDict[Hashable, list[T]] = OrderedDict()
    waiting = 0
    for sample in samples:
        shape = shape_of(sample)
        if shape is None:
            continue
        bucket = pending.setdefault(shape, [])
        bucket.append(sample)
        waiting += 1
        if len(bucket) >= batch_size:
            waiting -= len(bucket)
            yield shape, pending.pop(shape)
        elif waiting > max_pending:
            fullest = max(pending, key=lambda s: len(pending[s]))
            waiting -= len(pending[fullest])
            yield fullest, pending.pop(fullest)
    for shape, bucket in pending.items():
        yield shape, bucket
