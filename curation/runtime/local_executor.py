"""Run the per-video stages in this process, one video after another: for debugging.

Results are identical to the Ray executor's because both call ``run_stage`` on the same stages.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from curation.runtime.stage import Stage
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork

In = TypeVar("In")
Out = TypeVar("Out")


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = 1

    def map(self, fn: Callable[[In], Out], items: Iterable[In]) -> Iterator[Out]:
        for item in items:
            yield fn(item)

    def run_stages(self, stages: list[Stage], works: list[VideoWork]) -> Iterator[VideoWork]:
        for stage in stages:
            stage.setup()
        for work in works:
            for stage in stages:
                work = run_stage(stage, work)
            yield work

    def shutdown(self) -> None:
        """Nothing to release."""
