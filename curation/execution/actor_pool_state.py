"""One actor pool's bookkeeping: its actors, which are up, what waits for them, and its churn.

Spot and preemptible nodes come and go: an actor may die while it starts (its node reclaimed,
its model load killed for memory) long after the run began. A pool therefore replaces an actor
that died in its setup after a jittered, growing pause (so a node that kills every actor it is
given is not hammered) and gives up only when none of its actors has come up and
``SETUP_DEATHS_PER_ACTOR`` times its size have died in a row, or none has come up for
``SETUP_WAIT_S``: a stage whose setup can never succeed stops the run with a clear message
instead of retrying forever, while churn on a pool that works costs nothing. Likewise a pool whose
videos have waited ``SETUP_WAIT_S`` with none of its actors up (``check_stranded``): Ray cannot
place them (the nodes that could hold them are gone and no autoscaler adds one), and the run stops
saying so rather than waiting without end; a resumed run takes it from there.
"""

import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from curation.execution.video_task import VideoTask
from curation.telemetry.pool_metrics import PoolCounts

SETUP_DEATHS_PER_ACTOR = 2  # deaths in a row, per actor the pool may hold, before it gives up
SETUP_WAIT_S = 1800.0  # and the longest it waits for any actor to come up
REPLACE_BASE_S = 0.2
REPLACE_MAX_S = 10.0


@dataclass
class Pool:
    """One pool's actors and the work waiting for them."""

    name: str
    remote: Any  # the Ray actor class
    most: int  # the most actors the pool may hold
    actors: list[Any] = field(default_factory=list)
    # ready() reference -> the actor: made, not yet up (waiting for Ray to place it, or in setup)
    starting: dict[Any, Any] = field(default_factory=dict)
    up: set[Any] = field(default_factory=set)  # actors whose setup finished
    nodes: dict[Any, str] = field(default_factory=dict)  # actor -> the IP of the node it runs on
    node_ids: dict[Any, str] = field(default_factory=dict)  # actor -> its node's Ray id
    free: deque[Any] = field(default_factory=deque)  # up and holding no video
    queue: deque[tuple[VideoTask, Any]] = field(default_factory=deque)  # (task, input)
    unfed: int = 0  # the first pool's tasks not taken into its queue yet (``actor_pools``)
    busy: int = 0
    deaths_in_a_row: int = 0  # actors that died in setup since one last came up
    last_up: float = field(default_factory=time.monotonic)  # or when the pool was made
    replacements_due: list[float] = field(default_factory=list)  # monotonic times
    stranded_since: float | None = None  # monotonic: videos wait and no actor of the pool is up

    @property
    def size(self) -> int:
        """Its actors, up or coming: what the pool before it may run ahead of (twice this many
        videos), so a pool whose models still load is fed as it was sized."""
        return len(self.free) + self.busy + len(self.starting)

    def start(self) -> Any:
        """A new actor; it takes videos once it is up (``came_up``), never before: one that Ray
        cannot place (the node the pool was sized for is gone) would hold its video forever."""
        actor = self.remote.remote()
        self.actors.append(actor)
        self.starting[actor.ready.remote()] = actor
        return actor

    def counts(self) -> PoolCounts:
        """For the pool metrics, each actor in one state: busy (holding a video), idle (up and
        free), starting (not up yet: waiting to be placed, or in its setup)."""
        return PoolCounts(self.name, len(self.queue) + self.unfed, self.busy, len(self.free), len(self.starting))

    def came_up(self, actor: Any, node: str = "", node_id: str = "") -> None:
        """Its setup is done (``ready()`` answered): it joins the free actors."""
        self._forget_setup(actor)
        if actor not in self.up:
            self.free.append(actor)
        self.up.add(actor)
        self.nodes[actor] = node or "unknown"
        if node_id:
            self.node_ids[actor] = node_id
        self.deaths_in_a_row = 0
        self.last_up = time.monotonic()

    def drop(self, actor: Any) -> None:
        """Forget an actor that died or was killed (its pending ready() included)."""
        if actor in self.actors:
            self.actors.remove(actor)
        if actor in self.free:
            self.free.remove(actor)
        self.up.discard(actor)
        self.nodes.pop(actor, None)
        self.node_ids.pop(actor, None)
        self._forget_setup(actor)

    def _forget_setup(self, actor: Any) -> None:
        for ref in [ref for ref, a in self.starting.items() if a is actor]:
            del self.starting[ref]

    def replace_now(self, actor: Any) -> None:
        """A new actor in place of one that died under a video or was stopped by the watchdog;
        it joins the free actors once Ray has placed it and its setup is done."""
        self.drop(actor)
        self.start()

    def died_in_setup(self, actor: Any, error: BaseException) -> None:
        """Schedule a replacement after a pause that grows with the deaths in a row; raise when
        the pool has never worked and keeps dying."""
        self.drop(actor)
        self.deaths_in_a_row += 1
        nobody_up = not self.up
        if nobody_up and (
            self.deaths_in_a_row > SETUP_DEATHS_PER_ACTOR * max(1, self.most)
            or time.monotonic() - self.last_up > SETUP_WAIT_S
        ):
            raise RuntimeError(
                f"the workers of pool {self.name} keep dying as they start: {self.deaths_in_a_row} in a row and "
                f"none is up (last: {type(error).__name__}: {error}); see the workers' logs for the cause "
                "(memory for the model, a missing library, nodes reclaimed as they start)"
            ) from error
        exponent = (self.deaths_in_a_row - 1) // max(1, self.most)
        pause = random.uniform(0.5, 1.0) * min(REPLACE_MAX_S, REPLACE_BASE_S * 2**exponent)
        self.replacements_due.append(time.monotonic() + pause)

    def check_stranded(self, now: float, running_here: bool) -> None:
        """Raise once videos have waited ``SETUP_WAIT_S`` for this pool with none of its actors up
        and none running a video."""
        if self.up or running_here or not (self.queue or self.unfed):
            self.stranded_since = None
            return
        if self.stranded_since is None:
            self.stranded_since = now
        elif now - self.stranded_since >= SETUP_WAIT_S:
            raise RuntimeError(
                f"videos have waited {now - self.stranded_since:.0f} s for the workers of pool {self.name} and none "
                f"is up ({len(self.starting)} not placed or still in their setup): the cluster cannot place them, "
                "most often because the nodes with the resources they ask for are gone; `ray status` shows what "
                "is pending. Add such nodes and run the same command again to resume"
            )

    def stranded_deadline(self) -> float | None:
        """When ``check_stranded`` will raise if nothing changes (monotonic), or None."""
        return None if self.stranded_since is None else self.stranded_since + SETUP_WAIT_S

    def start_due_replacements(self, now: float) -> None:
        due = [t for t in self.replacements_due if t <= now]
        self.replacements_due = [t for t in self.replacements_due if t > now]
        for _ in due:
            self.start()
