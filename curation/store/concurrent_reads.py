"""Many small run-store reads at once: a bounded pool of threads, results by key.

At a barrier the driver or a decide task reads one object per video (outcomes on resume, the
summaries a run-wide stage decides on). In series, an object store's round trip (~20 ms on S3)
makes that hours of idle cluster at 10^5 videos; with ``readers`` requests in flight it is that
many times less. fsspec's S3 client runs its requests on one event loop, which takes calls from
any thread; a local disk gains from a few readers too (page-cache misses overlap).
"""

import os
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

REMOTE_READERS = 32  # requests in flight to an object store
LOCAL_READERS = 4


def store_readers(remote: bool) -> int:
    """Readers for a store: ``LPM_STORE_READERS`` when set, else the default for its kind."""
    configured = os.environ.get("LPM_STORE_READERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return REMOTE_READERS if remote else LOCAL_READERS


def read_concurrently(read: Callable[[K], V], keys: Iterable[K], readers: int) -> dict[K, V]:
    """``{key: read(key)}`` with at most ``readers`` reads at once; the first error is raised."""
    keys = list(keys)
    if readers <= 1 or len(keys) <= 1:
        return {key: read(key) for key in keys}
    with ThreadPoolExecutor(max_workers=min(readers, len(keys)), thread_name_prefix="store-read") as pool:
        return dict(zip(keys, pool.map(read, keys), strict=True))
