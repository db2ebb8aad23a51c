"""What the pipeline asks of an executor, whichever runs the work: ``LocalExecutor`` (this process,
one item after another, for debugging) or ``RayExecutor`` (Ray tasks and actor pools).

Both run the same functions and the same video tasks, so a run's outputs do not depend on the
choice (``tests/curation/execution/test_executor_parity.py``).
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from curation.execution.video_task import VideoTasks
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_outcome import VideoOutcome

In = TypeVar("In")
Out = TypeVar("Out")


class Executor(Protocol):
    def map(self, fn: Callable[[In], Out], items: Iterable[In], resources: Resources | None = None) -> Iterator[Out]:
        """``fn`` over ``items``, each call given ``resources`` (the executor's default when None);
        results as they finish, which need not be the order of ``items``."""
        ...

    def run_videos(self, stages: list[Stage], tasks: VideoTasks) -> Iterator[VideoOutcome]:
        """Each task's video through ``stages`` (set up once per worker), its record written to the
        run store by the worker; the compact outcome of each, as it finishes."""
        ...

    def shutdown(self) -> None:
        """Release what the executor holds (the caller's Ray stays up)."""
        ...
