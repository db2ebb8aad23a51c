"""Run the per-video stages on Ray actor pools (one video in flight per actor) and run-wide steps as tasks.

Consecutive stages that need the same kind of worker (CPU only, or GPU) run as one actor pool,
so every model loads once per worker and pools cannot starve each other; the group's declared
``resources`` (the largest of its stages') become Ray's ``num_cpus``/``num_gpus``/``memory``.
The first pool of a block reads each video's record from the run store, the last one writes it
back and returns a small ``VideoOutcome``: records move between pools through Ray's object store
only, and the driver receives outcomes alone (``actor_pools``). Pools start at the size the
cluster holds now and, on a cluster, may grow to ``max_workers`` actors as Ray's autoscaler adds
nodes. Without ``address`` an embedded local Ray is started with ``workers`` CPUs; with one, the
driver joins that cluster, with its token when it has token authentication on (``ray_auth``).
"""

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from curation.execution.actor_pools import stream_videos
from curation.execution.executor import Executor
from curation.execution.ray_auth import RayAuthRefusedError, prepare_client, refusal_line, with_auth_env
from curation.execution.video_task import VideoTasks
from curation.faults import fault_counts
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_outcome import VideoOutcome

In = TypeVar("In")
Out = TypeVar("Out")


def start_ray(
    address: str | None, workers: int | None, runtime_env: dict[str, Any] | None = None, log_to_driver: bool = False
) -> str | None:
    """Start or join Ray once per process; returns the dashboard's URL when there is one.

    ``runtime_env`` is the job's: the CLI passes the hook that captures each worker's output;
    ``log_to_driver`` streams the workers' output to this process (``--verbose``).
    """
    import ray

    if ray.is_initialized():
        return None
    # RAY_ADDRESS is how `ray job submit` tells a driver which cluster it runs on.
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        # A cluster with token auth on refuses a driver without its token: find out before
        # ray.init, which would retry for 20 s and end in an error that does not say why.
        runtime_env = with_auth_env(runtime_env, prepare_client(address))
        try:
            context = ray.init(
                address=address, log_to_driver=log_to_driver, logging_level="WARNING", runtime_env=runtime_env
            )
        except Exception as err:
            if line := refusal_line(err):
                raise RayAuthRefusedError(line) from None
            raise
    else:
        # "local": a private Ray. Without it ray.init() joins whatever cluster was last started on
        # this machine (Ray's ray_current_cluster file), sharing someone else's instance.
        # Metrics reach the Prometheus endpoint every 2 s instead of 10: a short run's last
        # counts are there before it exits. An idle task worker is kept for a minute instead of
        # a second: once the actor pools hold every CPU, Ray's default killed the worker that ran
        # the first tasks, and the run's closing tasks (manifests) started a new process, 0.5-1 s
        # of CPU and a second of wall on a one-CPU run (of 28 s for the 8 talking heads).
        context = ray.init(
            address="local",
            num_cpus=workers,
            include_dashboard=False,
            log_to_driver=log_to_driver,
            logging_level="WARNING",
            runtime_env=runtime_env,
            _system_config={"metrics_report_interval_ms": 2000, "idle_worker_killing_time_threshold_ms": 60_000},
        )
    return getattr(context, "dashboard_url", None) or None


def stage_groups(stages: list[Stage]) -> list[list[Stage]]:
    """Consecutive stages that need the same kind of worker (CPU only, or GPU) run together.

    One actor pool per group: models load once per worker, a video's record moves between
    workers only where the kind of worker changes, and pools cannot starve each other of CPUs
    (one pool per stage, each holding at least one actor, would deadlock a small cluster).
    """
    groups: list[list[Stage]] = []
    for stage in stages:
        if groups and (groups[-1][0].worker_resources().gpus > 0) == (stage.worker_resources().gpus > 0):
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


def group_resources(group: list[Stage]) -> Resources:
    each = [s.worker_resources() for s in group]
    return Resources(
        cpus=max(r.cpus for r in each),
        gpus=max(r.gpus for r in each),
        memory_gb=max(r.memory_gb for r in each),
    )


def pool_bounds(
    resources: Resources, cluster: dict[str, float], n_videos: int, max_workers: int | None
) -> tuple[int, int]:
    """(actors started now, most actors the pool may grow to), for a pool alone on the cluster."""
    return pool_sizes([resources], cluster, n_videos, max_workers)[0]


def pool_sizes(
    pools: list[Resources], cluster: dict[str, float], n_videos: int, max_workers: int | None
) -> list[tuple[int, int]]:
    """For pools sharing the cluster: (actors started now, most actors each may grow to).

    Now: every pool one actor, then GPU pools as many more as the GPUs (and CPUs) left hold, then
    CPU pools what is left, so a small cluster starts every actor at once and no pool's actors
    hold the CPUs another pool needs to start; never more than there are videos. Most: up to
    ``max_workers``, actors that wait for nodes an autoscaling cluster adds."""
    free = {"CPU": cluster.get("CPU", 1.0) - sum(r.cpus for r in pools), "GPU": cluster.get("GPU", 0.0)}
    free["GPU"] -= sum(r.gpus for r in pools)
    nows = [1] * len(pools)
    for i in sorted(range(len(pools)), key=lambda k: -pools[k].gpus):
        resources = pools[i]
        fits = [free["CPU"] / resources.cpus] if resources.cpus > 0 else []
        fits += [free["GPU"] / resources.gpus] if resources.gpus > 0 else []
        extra = max(0, min(int(min(fits, default=n_videos) + 1e-9), n_videos - 1))
        nows[i] += extra
        free["CPU"] -= extra * resources.cpus
        free["GPU"] -= extra * resources.gpus
    return [(now, max(now, min(max_workers, n_videos)) if max_workers else now) for now in nows]


# A task that has not answered in this long is stuck (a run-wide decision at 10^5 videos takes
# minutes): the run stops with an error naming it instead of the driver waiting forever.
TASK_STALL_S = 4 * 3600.0
WAIT_POLL_S = 30.0


def _call(fn: Callable[[Any], Any], item: Any) -> tuple[Any, dict[str, int]]:
    """``fn(item)`` and the faults its worker survived meanwhile (store retries), for the driver."""
    before = fault_counts.snapshot()
    return fn(item), fault_counts.since(before)


def _next_done(pending: list[Any], what: str) -> tuple[Any, list[Any]]:
    """The first of ``pending`` to finish (its result, the rest), never waiting without a timeout."""
    import ray

    started = time.monotonic()
    while True:
        done, rest = ray.wait(pending, num_returns=1, timeout=WAIT_POLL_S)
        if done:
            result, counts = ray.get(done[0])
            fault_counts.merge(counts)
            return result, rest
        if time.monotonic() - started > TASK_STALL_S:
            raise RuntimeError(f"no {what} task finished in {TASK_STALL_S:g} s; the cluster is stuck or lost")


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, max_workers: int | None = None) -> None:
        start_ray(address, workers)
        import ray

        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.max_workers = max_workers

    def map(self, fn: Callable[[In], Out], items: Iterable[In], resources: Resources | None = None) -> Iterator[Out]:
        """``fn`` over ``items`` as Ray tasks with ``resources`` (default half a CPU), results in
        completion order; at most twice as many tasks in flight as the cluster has CPUs."""
        import ray

        remote = ray.remote(**(resources or Resources(cpus=0.5)).ray_options())(_call)
        pending: list[Any] = []
        window = 2 * self.workers
        what = getattr(fn, "__name__", "a")
        for item in items:
            pending.append(remote.remote(fn, item))
            if len(pending) >= window:
                result, pending = _next_done(pending, what)
                yield result
        while pending:
            result, pending = _next_done(pending, what)
            yield result

    def run_videos(self, stages: list[Stage], tasks: VideoTasks) -> Iterator[VideoOutcome]:
        import ray

        if not tasks:
            return
        groups = stage_groups(stages)
        cluster = ray.cluster_resources()
        for group in groups:
            gpus = group_resources(group).gpus
            if gpus and not cluster.get("GPU") and not self.max_workers:
                names = ", ".join(s.name for s in group)
                raise RuntimeError(
                    f"stage(s) {names} ask for {gpus:g} GPU(s) per worker but the cluster has none; "
                    "join a cluster with GPU nodes (or one whose autoscaler adds them, with --max-workers), "
                    "or set gpus: 0"
                )
        resources = [group_resources(group) for group in groups]
        sizes = pool_sizes(resources, cluster, len(tasks), self.max_workers)
        yield from stream_videos(groups, resources, sizes, tasks)

    def shutdown(self) -> None:
        """Leave Ray running for the caller; the CLI process exits and takes it down."""


def make_executor(
    kind: str, address: str | None = None, workers: int | None = None, max_workers: int | None = None
) -> Executor:
    if kind == "local":
        from curation.execution.local_executor import LocalExecutor

        return LocalExecutor()
    return RayExecutor(address=address, workers=workers, max_workers=max_workers)
