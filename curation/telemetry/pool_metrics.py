"""The actor pools' state as metrics: what to scale a cluster on.

While ``actor_pools.stream_videos`` runs, the driver sets, per pool, the videos queued for it and
its actors busy, idle and starting (``lpm_pool_queued``, ``lpm_pool_actors``), and counts, per
pool and node, the videos its actors finished and the seconds they were busy
(``lpm_pool_videos_total``, ``lpm_pool_busy_seconds_total``: a rate of the first is videos per
minute, of the second the busy actors). A queue that stays long while the pool's actors wait to
start means the cluster lacks the pool's resources (the autoscaler adds them up to
``--max-workers``); a pool whose actors sit idle while the one before it has a queue is fed too
slowly. The values go to the run's ``RunMetrics`` (Ray's Prometheus endpoint and
``OUT/metrics.jsonl``, which ``lpm-curate report`` reads) when the CLI records into one
(``recording``); without one (a library call, a test) nothing is recorded.
"""

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from curation.telemetry.run_metrics import RunMetrics

# Gauges are set at most this often: the driver's loop turns many times a second on a busy run.
SAMPLE_EVERY_S = 1.0
ACTOR_STATES = ("busy", "idle", "starting")

_metrics: RunMetrics | None = None
_last_sample = -float("inf")


@dataclass(frozen=True)
class PoolCounts:
    pool: str
    queued: int
    busy: int
    idle: int
    starting: int


@contextmanager
def recording(metrics: RunMetrics) -> Iterator[None]:
    """Pool metrics of the pools that run inside this block go to ``metrics``."""
    global _metrics, _last_sample
    _metrics, _last_sample = metrics, -float("inf")
    try:
        yield
    finally:
        _metrics = None


def sample(counts: Iterable[PoolCounts], force: bool = False) -> None:
    """Set the gauges from the pools' counts now (at most every ``SAMPLE_EVERY_S`` unless ``force``)."""
    global _last_sample
    now = time.monotonic()
    if _metrics is None or (not force and now - _last_sample < SAMPLE_EVERY_S):
        return
    _last_sample = now
    for pool in counts:
        _metrics.set("lpm_pool_queued", pool.queued, pool=pool.pool)
        for state in ACTOR_STATES:
            _metrics.set("lpm_pool_actors", getattr(pool, state), pool=pool.pool, state=state)


def finished(pool: str, node: str, busy_s: float) -> None:
    """One video left ``pool`` after ``busy_s`` on an actor of ``node``."""
    if _metrics is None:
        return
    _metrics.inc("lpm_pool_videos_total", pool=pool, node=node)
    _metrics.inc("lpm_pool_busy_seconds_total", busy_s, pool=pool, node=node)


def closed(pools: Iterable[str]) -> None:
    """The pools are gone: nothing queued, no actors (a scrape after the run shows no stale load)."""
    sample([PoolCounts(name, 0, 0, 0, 0) for name in pools], force=True)
