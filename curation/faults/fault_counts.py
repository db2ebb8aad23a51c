"""How often this process met a fault and went on: store retries, videos started over, timeouts.

Every process (the driver, each actor, each task's worker) keeps its own counts here. The driver
gathers them: a task returns its counts with its result (``RayExecutor.map``), an actor is asked
for its own before the pool is closed (``actor_pools``), and the driver counts what it decides
itself (a video started over, a watchdog timeout). The run's totals go to ``run.json`` and the
summary printed at the end, so a run that survived faults says how many it survived.
"""

import threading
from collections import Counter

STORE_RETRIES = "store_retries"  # a run-store request that failed transiently and was sent again
VIDEO_RESTARTS = "video_restarts"  # a video started over: its worker died, met a node fault, or the watchdog
WORKER_DEATHS = "worker_deaths"  # a worker lost under a video (crash, out-of-memory killer, node lost)
NODE_FAULTS = "node_faults"  # a fault of the node escaped a stage (full cache disk, store beyond its retries)
VIDEO_TIMEOUTS = "video_timeouts"  # a video stopped by the per-video watchdog (its actor replaced)
FAILED_RETRIED = "failed_retried"  # a video failed in an earlier run, run again on resume
POOL_SETUP_DEATHS = "pool_setup_deaths"  # an actor that died before its setup finished, replaced

_COUNTS: Counter[str] = Counter()
_LOCK = threading.Lock()  # store reads run in threads (concurrent_reads), each may count a retry


def count(name: str, n: int = 1) -> None:
    with _LOCK:
        _COUNTS[name] += n


def snapshot() -> dict[str, int]:
    with _LOCK:
        return dict(_COUNTS)


def since(before: dict[str, int], now: dict[str, int] | None = None) -> dict[str, int]:
    """What was counted after ``before`` (a ``snapshot``) until ``now`` (another; by default
    this moment), zeros left out."""
    now = snapshot() if now is None else now
    return {name: n - before.get(name, 0) for name, n in now.items() if n - before.get(name, 0)}


def merge(counts: dict[str, int]) -> None:
    """Add another process's counts to this one's (the driver gathering its workers')."""
    with _LOCK:
        _COUNTS.update(counts)
