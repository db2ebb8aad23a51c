"""A stage that holds a model runs as a Ray actor pool: the model loads once per actor, not per video."""

import os
import sys
from dataclasses import dataclass
from typing import ClassVar

from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class CountingModel(Stage):
    """Records, on each video, which process loaded the model and how often it had loaded it."""

    name: ClassVar[str] = "counting_model"
    holds_model: ClassVar[bool] = True
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    def setup(self) -> None:
        self._loads = getattr(self, "_loads", 0) + 1
        self._pid = os.getpid()

    def process(self, work: VideoWork) -> VideoWork:
        work.extras["model"] = (self._pid, self._loads)
        return work


def test_model_stage_loads_once_per_actor_and_actors_are_reused(ray_session: str) -> None:
    import ray.cloudpickle

    from curation.runtime.ray_executor import make_executor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    works = [VideoWork(uri=f"/in/{i}.mp4", local_path=f"/in/{i}.mp4", video_id=f"v{i}") for i in range(10)]
    results = list(make_executor("ray").run_stages([CountingModel()], works))
    assert sorted(w.video_id for w in results) == [f"v{i}" for i in range(10)]
    loads = {w.extras["model"] for w in results}
    assert {count for _, count in loads} == {1}  # setup ran once in each actor
    actors = {pid for pid, _ in loads}
    assert os.getpid() not in actors  # the model lives in the workers, not the driver
    # two CPUs hold at most four half-CPU actors, so ten videos reuse loaded models
    assert 1 <= len(actors) <= 4
