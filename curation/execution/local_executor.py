"""Run everything in this process, one video after another: for debugging.

Results are identical to the Ray executor's because both run the same video tasks and steps.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from curation.execution.video_task import VideoTasks, finish_work, flush_summary_parts, run_block, start_work
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_outcome import VideoOutcome
from curation.store import summary_parts

In = TypeVar("In")
Out = TypeVar("Out")


class LocalExecutor:
    name = "local"
    workers = 1

    def map(self, fn: Callable[[In], Out], items: Iterable[In], resources: Resources | None = None) -> Iterator[Out]:
        for item in items:
            yield fn(item)

    def run_videos(self, stages: list[Stage], tasks: VideoTasks) -> Iterator[VideoOutcome]:
        for stage in stages:
            stage.setup()
        # A block this process left unfinished (an error, a test's crash point) left summaries here
        # that may belong to another run directory: dropped, read one by one where still needed.
        summary_parts.BUFFER.clear()
        for task in tasks:
            yield finish_work(task, run_block(stages, start_work(task), task))
        flush_summary_parts()

    def shutdown(self) -> None:
        """Nothing to release."""
