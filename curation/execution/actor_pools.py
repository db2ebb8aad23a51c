"""Stream videos through a chain of Ray actor pools, one video in flight per actor.

Consecutive stages that need the same kind of worker run in one pool (``ray_executor.
stage_groups``); a block with a GPU stage has a CPU pool and a GPU pool. The driver keeps, per
pool, the actors that are free and a queue of what waits for them: the first pool's queue holds
``VideoTask``s (its actors read each video's record from the run store), later pools' queues hold
the Ray references of the records the pool before made, which the next actor fetches from Ray's
object store (the record never passes through the driver), and the last pool's actors write the
record back and return a small ``VideoOutcome``. The first pool's queue is fed from the block's
tasks as it empties, twice the pool's most actors at a time, so the driver never holds every
task (the pipeline makes them a page at a time). Each actor is given one video at a time, so
whichever actor is free takes the next (with several queued per actor, short videos waited behind
a long one while another actor sat idle: 42.8 s -> 32.2 s on 8 clips, 2 CPUs), and a pool runs
ahead of the next by at most twice that pool's size (records wait in the object store, not in
memory without bound).

Ray Data did this before: its streaming executor, its stats, autoscaling and location actors
cost about 10 % of a one-core run of the 8 talking heads (driver 1.3 CPU s and three helper
actors, against 0.2 CPU s here; walls 40.4-41.5 s against 34.8-40.9 s, alternating). Pools start
``now`` actors, what the cluster holds, and ask for up to ``most``: the others wait in Ray's queue
for resources, which is what makes an autoscaling cluster add nodes, and join when placed. An actor
takes videos only once it is up (its setup answered), never while Ray has yet to place it: ``now``
is read from the cluster's resources a moment before the actors are made, a node lost meanwhile
(or not yet known lost) still counts, and a video given to an actor that is never placed waited
for it with no end (the watchdog's clock then started once an actor was up): the two-node faults
test stopped so, 3 runs of 4, with one fault seed.

An actor that dies (a decoder crash, the kernel's out-of-memory killer, its node lost) is replaced
by a new one, which joins its pool once Ray places it, and the video it held starts over from the
run store in the first pool (every stage is retry-safe), at most ``RETRIES`` times; then the video
is recorded as failed (an ``infra`` failure, which a resumed run tries again), with the error, and
the run goes on. Deaths are counted per video, not per pool: spot churn that takes many workers
costs restarts, never the run. An error of the node rather than the video that escapes a stage (a
full disk, the store beyond its retries) is treated the same way, and the video is not given
again to an actor on that node while the pool has one up on another node: a node whose cache
disk is full would otherwise meet the same video on every try (the replacement of the actor that
hit the fault is placed where that actor's resources were freed, most often the same node).
Actors that die in their setup are replaced after a growing pause (``actor_pool_state``).

A watchdog bounds each video: a video still on its actor ``VideoTask.timeout_s`` after it was
given to it has its actor killed and replaced, and starts over like a video whose worker died (a read
that stalled, a node gone slow: the next try meets none of it); a video stopped by the watchdog
on every try is recorded as failed with ``timeout`` (infra). The driver never waits on Ray
without a timeout (``POLL_S``), and when nothing has come back for ``QUIET_S`` it logs what it
waits for (each pool's videos in flight and for how long, its actors not yet up): a run that
waits for nodes an autoscaler has yet to add says so, rather than going silent.
"""

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from curation.execution.actor_pool_state import Pool
from curation.execution.block_end import finish_block
from curation.execution.video_task import (
    VideoTask,
    VideoTasks,
    finish_work,
    flush_summary_parts,
    run_block,
    start_work,
)
from curation.faults import fault_counts
from curation.faults.infra_fault import is_infrastructure_fault
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_outcome import VideoOutcome
from curation.runtime.video_work import VideoWork
from curation.telemetry import pool_metrics
from schemas.reasons import Reason

log = logging.getLogger(__name__)

RETRIES = 2  # times a video whose worker died under it starts over (the third death fails it)
POLL_S = 30.0  # the longest the driver waits on Ray before it looks at its clocks again
QUIET_S = 300.0  # nothing back for this long: the driver logs what it waits for (again each QUIET_S)


class StagesActor:
    """One actor of a pool: ``setup`` of each stage once, then every video through all of them in
    order. The group is bound to a subclass (``actor_class``) rather than passed to the
    constructor: Ray warns about restartable actors whose constructor arguments live in its object
    store. The first pool of a block starts each video from the run store, the last finishes it
    there."""

    STAGES: ClassVar[list[Stage]] = []
    FIRST: ClassVar[bool] = True
    LAST: ClassVar[bool] = True

    def __init__(self) -> None:
        # Ray may give an actor a process that ran tasks before: count only from here on.
        self._reported = fault_counts.snapshot()
        for stage in self.STAGES:
            stage.setup()

    def ready(self) -> tuple[str, str]:
        """Once the setup is done: the IP of the node the actor runs on (the pool metrics' node)
        and the node's Ray id (several nodes may share an IP, one per host)."""
        import ray

        return ray.util.get_node_ip_address(), ray.get_runtime_context().get_node_id()

    def fault_counts(self) -> dict[str, int]:
        """What this actor's process counted (store retries) since it last told the driver: with
        each video's result, and once more when the block ends (its summary parts' writes)."""
        now = fault_counts.snapshot()
        counts, self._reported = fault_counts.since(self._reported, now), now
        return counts

    def flush_summary_parts(self) -> int:
        """Write the run-scope summaries this actor still holds as parts (the block is over)."""
        return flush_summary_parts()

    def run(self, item: Any) -> tuple[Any, dict[str, int]]:
        """The video's outcome (or its work, for the next pool), and the counts made meanwhile: an
        actor lost later (its node gone, the watchdog) takes no earlier video's retries with it."""
        # a later pool is given the earlier pool's reply itself (its counts the driver's already)
        task, work = (item, start_work(item)) if self.FIRST else item[0]
        work = run_block(self.STAGES, work, task)
        return (finish_work(task, work) if self.LAST else (task, work)), self.fault_counts()


def actor_class(group: list[Stage], first: bool, last: bool) -> type[StagesActor]:
    names = "+".join(stage.name for stage in group)
    return type(f"Stages[{names}]", (StagesActor,), {"STAGES": group, "FIRST": first, "LAST": last})


def stream_videos(
    groups: list[list[Stage]],
    resources: list[Resources],
    sizes: list[tuple[int, int]],
    tasks: VideoTasks,
) -> Iterator[VideoOutcome]:
    """Every task's outcome, in the order they finish. Each group's pool asks for its
    ``resources`` per actor; ``sizes`` (``ray_executor.pool_sizes``): its actors placed now, and
    the most it asks for. Every pool's first actors are created before any pool's extra ones, so
    those cannot take the resources another pool needs to start."""
    import ray
    from ray.exceptions import ActorUnavailableError, ObjectLostError, RayActorError

    # the worker (or the node it ran on) is gone, not the video's fault: the video starts over
    lost_worker = (RayActorError, ActorUnavailableError, ObjectLostError)
    pools = []
    for i, (group, needs, (_now, most)) in enumerate(zip(groups, resources, sizes, strict=True)):
        remote = ray.remote(**needs.ray_options())(actor_class(group, first=i == 0, last=i == len(groups) - 1))
        pools.append(Pool("+".join(stage.name for stage in group), remote, most))
    # The first actors of every pool fit the cluster together, and are made first; extra ones (up
    # to ``most``) wait for Ray to place them. Each joins its pool's free actors once it is up.
    for pool, (now, _most) in zip(pools, sizes, strict=True):
        for _ in range(now):
            pool.start()
    for pool, (now, most) in zip(pools, sizes, strict=True):
        for _ in range(most - now):
            pool.start()
    feed = iter(tasks)
    pools[0].unfed = len(tasks)
    running: dict[Any, Running] = {}  # run() reference -> what it runs
    deaths: dict[str, int] = {}  # video id -> tries lost to a dead worker, a node fault or the watchdog
    avoid: dict[str, set[str]] = {}  # video id -> the Ray ids of nodes where it met a node fault
    last_event = said_at = time.monotonic()
    try:
        while running or pools[0].unfed or any(p.queue for p in pools):
            now = time.monotonic()
            for index, pool in enumerate(pools):
                pool.start_due_replacements(now)
                pool.check_stranded(now, any(job.pool == index for job in running.values()))
            _feed(pools[0], feed, avoid)
            _dispatch(pools, running, avoid)
            pool_metrics.sample(pool.counts() for pool in pools)
            for ref in [ref for ref, job in running.items() if job.deadline is not None and job.deadline <= now]:
                timed_out = _stop_for_timeout(pools, running.pop(ref), deaths)
                if timed_out is not None:
                    yield timed_out
            waiting = list(running) + [ref for p in pools for ref in p.starting]
            wake = _next_wake(pools, running, now)
            if not waiting:
                time.sleep(wake)  # only replacements, pausing before they start, remain
                continue
            done, _ = ray.wait(waiting, num_returns=1, timeout=wake)
            if not done:
                if time.monotonic() - max(last_event, said_at) >= QUIET_S:
                    log.warning(waiting_for(pools, running.values(), time.monotonic() - last_event))
                    said_at = time.monotonic()  # say it again after as long
                continue
            last_event = time.monotonic()
            (done,) = done
            placed = next((p for p in pools if done in p.starting), None)
            if placed is not None:
                actor = placed.starting.pop(done)
                try:
                    node, node_id = ray.get(done)
                except Exception as err:
                    if not isinstance(err, lost_worker) and not is_infrastructure_fault(err):
                        raise  # a stage whose setup fails stops the run, with its error
                    # Gone in its setup (it held no video): replaced after a pause.
                    fault_counts.count(fault_counts.POOL_SETUP_DEATHS)
                    placed.died_in_setup(actor, err)
                    continue
                placed.came_up(actor, node, node_id)
                continue
            job = running.pop(done)
            pool = pools[job.pool]
            pool.busy -= 1
            try:
                result, counts = ray.get(done)
                fault_counts.merge(counts)
            except Exception as err:
                if not isinstance(err, lost_worker) and not is_infrastructure_fault(err):
                    raise  # a fault of the machinery itself: stop the run with it
                # The worker died, or met a fault of its node (a full disk, a store beyond its
                # retries): a new actor takes the video again from the start, on another node
                # than the one at fault when the pool has an actor elsewhere.
                if isinstance(err, lost_worker):
                    fault_counts.count(fault_counts.WORKER_DEATHS)
                else:
                    fault_counts.count(fault_counts.NODE_FAULTS)
                    if pool.node_ids.get(job.actor):
                        avoid.setdefault(job.task.video_id, set()).add(pool.node_ids[job.actor])
                pool.replace_now(job.actor)
                deaths[job.task.video_id] = deaths.get(job.task.video_id, 0) + 1
                if deaths[job.task.video_id] <= RETRIES:
                    fault_counts.count(fault_counts.VIDEO_RESTARTS)
                    pools[0].queue.appendleft((job.task, job.task))
                    continue
                if isinstance(err, lost_worker):
                    detail = f"the worker died while processing it ({type(err).__name__})"
                else:
                    cause = getattr(err, "cause", None) or err
                    detail = f"an infrastructure fault on every try ({type(cause).__name__}: {cause})"
                yield _failed(job.task, Reason.ERROR, detail)
                continue
            pool.free.append(job.actor)
            pool_metrics.finished(pool.name, pool.nodes.get(job.actor, "unknown"), time.monotonic() - job.started)
            if isinstance(result, VideoOutcome):
                yield result
            else:
                pools[job.pool + 1].queue.append((job.task, done))
        finish_block(pools)
    finally:
        for pool in pools:
            for actor in pool.actors:
                ray.kill(actor)
        pool_metrics.closed(pool.name for pool in pools)


@dataclass
class Running:
    pool: int
    actor: Any
    task: VideoTask
    deadline: float | None  # monotonic; None without a per-video timeout
    started: float  # monotonic, when the video was given to the actor


def _feed(pool: Pool, feed: Iterator[VideoTask], avoid: dict[str, set[str]] | None = None) -> None:
    """Top the first pool's queue up to twice the most actors it may hold: enough for every free
    actor to find a video it may take (``_next_for``), and videos that start over go first. Videos
    that met a node fault (``avoid``) are not counted: some actors may not take them, and a queue
    full of them would leave those actors idle while untaken tasks remain."""
    avoid = avoid or {}
    while pool.unfed and sum(1 for task, _ in pool.queue if task.video_id not in avoid) < 2 * max(1, pool.most):
        task = next(feed, None)
        if task is None:  # fewer than announced: nothing more to take
            pool.unfed = 0
            return
        pool.queue.append((task, task))
        pool.unfed -= 1


def _dispatch(pools: list[Pool], running: dict[Any, Running], avoid: dict[str, set[str]]) -> None:
    """Give every free actor the next video of its pool's queue that it may take (``_next_for``);
    a pool runs ahead of the next one by at most twice that one's size."""
    now = time.monotonic()
    for index, pool in enumerate(pools):
        following = pools[index + 1] if index + 1 < len(pools) else None
        for actor in list(pool.free):
            if not pool.queue or (following is not None and len(following.queue) >= 2 * max(1, following.size)):
                break
            position = _next_for(pool, actor, avoid)
            if position is None:
                continue  # every queued video met a node fault on this actor's node: it waits
            task, item = pool.queue[position]
            del pool.queue[position]
            pool.free.remove(actor)
            pool.busy += 1
            deadline = now + task.timeout_s if task.timeout_s else None
            running[actor.run.remote(item)] = Running(index, actor, task, deadline, now)


def _next_for(pool: Pool, actor: Any, avoid: dict[str, set[str]]) -> int | None:
    """The place in the pool's queue of the first video ``actor`` may take: any, unless the video
    met a node fault on the actor's node and an actor of the pool is up on a node where it did
    not (the video waits for that one). With no such node left the video goes anywhere."""
    node = pool.node_ids.get(actor)
    for position, (task, _item) in enumerate(pool.queue):
        faulted = avoid.get(task.video_id)
        if node is None or not faulted or node not in faulted:
            return position
        if not any(pool.node_ids.get(other) not in faulted for other in pool.up if other is not actor):
            return position
    return None


def _next_wake(pools: list[Pool], running: dict[Any, Running], now: float) -> float:
    """Seconds until the watchdog, a replacement or a stranded pool's limit needs the driver, at
    most ``POLL_S``: the driver never waits on Ray without a timeout."""
    times = [job.deadline for job in running.values() if job.deadline is not None]
    times += [t for pool in pools for t in pool.replacements_due]
    times += [t for pool in pools if (t := pool.stranded_deadline()) is not None]
    return max(0.01, min([POLL_S] + [t - now for t in times]))


def _stop_for_timeout(pools: list[Pool], job: Running, deaths: dict[str, int]) -> VideoOutcome | None:
    """The watchdog: kill the actor that ran past the video's deadline (whatever it is stuck in)
    and start another in its place. The video starts over (None) within the tries a video has
    (``RETRIES``: a stalled read or a slow node is not met again); past them it is recorded as
    failed with ``timeout``, an infrastructure failure that a resumed run tries again."""
    import ray

    pool = pools[job.pool]
    pool.busy -= 1
    ray.kill(job.actor)
    pool.replace_now(job.actor)
    fault_counts.count(fault_counts.VIDEO_TIMEOUTS)
    deaths[job.task.video_id] = deaths.get(job.task.video_id, 0) + 1
    if deaths[job.task.video_id] <= RETRIES:
        fault_counts.count(fault_counts.VIDEO_RESTARTS)
        pools[0].queue.appendleft((job.task, job.task))
        return None
    detail = (f"still running after the per-video timeout of {job.task.timeout_s:g} s "
              f"(its last worker was replaced; {deaths[job.task.video_id]} tries)")
    return _failed(job.task, Reason.TIMEOUT, detail)


def waiting_for(pools: list[Pool], running: Iterable[Running], quiet_s: float) -> str:
    """One line on what the driver waits for: per pool, its videos in flight (the longest for how
    long), its actors not up yet (unplaced, or in their setup) and its queue."""
    now = time.monotonic()
    jobs = list(running)
    parts = []
    for index, pool in enumerate(pools):
        mine = [job for job in jobs if job.pool == index]
        oldest = max(mine, key=lambda job: now - job.started, default=None)
        longest = f", the longest {oldest.task.video_id} for {now - oldest.started:.0f} s" if oldest else ""
        parts.append(f"{pool.name}: {len(mine)} video(s) in flight{longest}; {len(pool.starting)} actor(s) not up "
                     f"yet (waiting for Ray to place them, or in their setup), {len(pool.up)} up; "
                     f"{len(pool.queue) + pool.unfed} queued")  # fmt: skip
    return f"nothing came back from the workers for {quiet_s:.0f} s; waiting on " + " | ".join(parts)


def _failed(task: VideoTask, reason: Reason, detail: str) -> VideoOutcome:
    """The outcome of a video stopped by the machinery (its worker died ``RETRIES`` + 1 times, or
    the watchdog): an infrastructure failure, its record written from here (a failed record
    holds no more than the error)."""
    work = VideoWork(uri=task.uri, video_id=task.video_id, run_uri=task.run_uri)
    work.fail(f"block{task.block}", reason, detail, "infra")
    return finish_work(task, work)
