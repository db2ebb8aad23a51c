"""Work through a long sequence a page at a time, so that a page is all a step holds at once."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def pages(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive lists of ``size`` (the last one shorter), read lazily."""
    remaining = iter(items)
    while page := list(islice(remaining, size)):
        yield page
