"""Stream videos through a chain of Ray actor pools, one video in flight per actor.

Consecutive stages that need the same kind of worker run in one pool (``ray_executor.
stage_groups``); a block with a GPU stage has a CPU pool and a GPU pool. The driver keeps, per
pool, the actors that are free and a queue of what waits for them: the first pool's queue holds
``VideoTask``s (its actors read each video's record from the run store), later pools' queues hold
the Ray references of the records the pool before made, which the next actor fetches from Ray's
object store (the record never passes through the driver), and the last pool's actors write the
record back and return a small ``VideoOutcome``. Each actor is given one video at a time, so
whichever actor is free takes the next (with several queued per actor, short videos waited behind
a long one while another actor sat idle: 42.8 s -> 32.2 s on 8 clips, 2 CPUs), and a pool runs
ahead of the next by at most twice that pool's size (records wait in the object store, not in
memory without bound).

Ray Data did this before: its streaming executor, its stats, autoscaling and location actors
cost about 10 % of a one-core run of the 8 talking heads (driver 1.3 CPU s and three helper
actors, against 0.2 CPU s here; walls 40.4-41.5 s against 34.8-40.9 s, alternating). Pools start
``now`` actors, what the cluster holds, and ask for up to ``most``: the others wait in Ray's queue
for resources, which is what makes an autoscaling cluster add nodes, and join when placed.

An actor that dies (a decoder crash, the kernel's out-of-memory killer, its node lost) is replaced
by a new one, which joins its pool once Ray places it, and the video it held starts over from the
run store in the first pool (every stage is retry-safe), at most ``RETRIES`` times; then the video
is recorded as failed, with the error, and the run goes on.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.run.video_outcome import VideoOutcome
from curation.run.video_task import VideoTask, finish_work, run_block, start_work
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason

RETRIES = 2  # times a video whose worker died under it starts over


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
        for stage in self.STAGES:
            stage.setup()

    def ready(self) -> bool:
        return True

    def run(self, item: Any) -> Any:
        task, work = (item, start_work(item)) if self.FIRST else item
        work = run_block(self.STAGES, work)
        return finish_work(task, work) if self.LAST else (task, work)


def actor_class(group: list[Stage], first: bool, last: bool) -> type[StagesActor]:
    names = "+".join(stage.name for stage in group)
    return type(f"Stages[{names}]", (StagesActor,), {"STAGES": group, "FIRST": first, "LAST": last})


@dataclass
class Pool:
    """One pool's actors and the work waiting for them."""

    actors: list[Any]
    # ready() reference -> the actor, and whether it was free from the start (a pool's first
    # actors fit the cluster: they take videos before their setup is done, the video waits)
    starting: dict[Any, tuple[Any, bool]]
    free: deque[Any] = field(default_factory=deque)
    queue: deque[tuple[VideoTask, Any]] = field(default_factory=deque)  # (task, input)
    busy: int = 0

    @property
    def size(self) -> int:
        return len(self.free) + self.busy


def stream_videos(
    groups: list[list[Stage]],
    resources: list[Resources],
    sizes: list[tuple[int, int]],
    tasks: list[VideoTask],
) -> Iterator[VideoOutcome]:
    """Every task's outcome, in the order they finish. Each group's pool asks for its
    ``resources`` per actor; ``sizes`` (``ray_executor.pool_sizes``): its actors placed now, and
    the most it asks for. Every pool's first actors are created before any pool's extra ones, so
    those cannot take the resources another pool needs to start."""
    import ray
    from ray.exceptions import ActorUnavailableError, ObjectLostError, RayActorError

    # the worker (or the node it ran on) is gone, not the video's fault: the video starts over
    lost_worker = (RayActorError, ActorUnavailableError, ObjectLostError)
    remotes = []
    for i, (group, needs) in enumerate(zip(groups, resources, strict=True)):
        remotes.append(ray.remote(**needs.ray_options())(actor_class(group, first=i == 0, last=i == len(groups) - 1)))
    # The first actors of every pool fit the cluster together: free at once (a video sent before
    # an actor's setup is done waits for it). Extra ones (up to ``most``) join once Ray places them.
    pools = [
        Pool([remote.remote() for _ in range(now)], {}) for remote, (now, _most) in zip(remotes, sizes, strict=True)
    ]
    for pool, remote, (now, most) in zip(pools, remotes, sizes, strict=True):
        pool.free.extend(pool.actors)
        pool.actors += [remote.remote() for _ in range(most - now)]
        pool.starting = {actor.ready.remote(): (actor, k < now) for k, actor in enumerate(pool.actors)}
    pools[0].queue.extend((task, task) for task in tasks)
    running: dict[Any, tuple[int, Any, VideoTask]] = {}  # run() reference -> (pool, actor, task)
    deaths: dict[str, int] = {}
    lost_in_setup = [0] * len(pools)
    try:
        while running or any(p.queue for p in pools):
            _dispatch(pools, running)
            waiting = list(running) + [ref for p in pools for ref in p.starting]
            (done,), _ = ray.wait(waiting, num_returns=1)
            placed = next((i for i, p in enumerate(pools) if done in p.starting), None)
            if placed is not None:
                pool = pools[placed]
                actor, free_already = pool.starting.pop(done)
                try:
                    ray.get(done)  # a stage whose setup fails stops the run, with its error
                except lost_worker as err:
                    # Gone in its setup, or before its answer arrived (a worker that dies within
                    # milliseconds of starting a video can take ready()'s reply with it). A video it
                    # holds starts over when that video's own reference fails; an idle one is replaced.
                    lost_in_setup[placed] += 1
                    if lost_in_setup[placed] > RETRIES + sizes[placed][1]:  # each actor once, and a few more
                        raise RuntimeError(f"the workers of pool {placed} keep dying as they start") from err
                    busy = any(a is actor for _, a, _ in running.values())
                    if not busy and actor in pool.actors:
                        if actor in pool.free:
                            pool.free.remove(actor)
                        _replace(pool, actor, remotes[placed])
                    continue
                if not free_already:
                    pool.free.append(actor)
                continue
            index, actor, task = running.pop(done)
            pool = pools[index]
            pool.busy -= 1
            try:
                result = ray.get(done)
            except lost_worker as err:
                _replace(pool, actor, remotes[index])
                deaths[task.video_id] = deaths.get(task.video_id, 0) + 1
                if deaths[task.video_id] <= RETRIES:
                    pools[0].queue.appendleft((task, task))
                    continue
                yield _failed(task, err)
                continue
            pool.free.append(actor)
            if isinstance(result, VideoOutcome):
                yield result
            else:
                pools[index + 1].queue.append((task, done))
    finally:
        for pool in pools:
            for actor in pool.actors:
                ray.kill(actor)


def _replace(pool: Pool, actor: Any, remote: Any) -> None:
    """A new actor in place of one whose worker died; it joins the pool's free actors once Ray
    has placed it and its setup is done."""
    pool.actors.remove(actor)
    replacement = remote.remote()
    pool.actors.append(replacement)
    pool.starting[replacement.ready.remote()] = (replacement, False)


def _dispatch(pools: list[Pool], running: dict[Any, tuple[int, Any, VideoTask]]) -> None:
    """Give every free actor the next video of its pool's queue; a pool runs ahead of the next one
    by at most twice that one's size."""
    for index, pool in enumerate(pools):
        following = pools[index + 1] if index + 1 < len(pools) else None
        while pool.free and pool.queue:
            if following is not None and len(following.queue) >= 2 * max(1, following.size):
                break
            task, item = pool.queue.popleft()
            actor = pool.free.popleft()
            pool.busy += 1
            running[actor.run.remote(item)] = (index, actor, task)


def _failed(task: VideoTask, error: Exception) -> VideoOutcome:
    """The outcome of a video whose worker died under it ``RETRIES`` + 1 times (its record written
    from here: a failed record holds no more than the error)."""
    work = VideoWork(uri=task.uri, video_id=task.video_id, run_uri=task.run_uri)
    work.fail(f"block{task.block}", Reason.ERROR, f"the worker died while processing it ({type(error).__name__})")
    return finish_work(task, work)
