"""Models load once per actor per run, counted over a three-block run on Ray.

What the design gives, stated precisely: a block's actor pools are made when the block starts and
killed at its barrier, so actors do not live across blocks; and every stage that loads a model
runs in one block only (a per-video stage is in one block; a run-scope stage loads its model in
``setup``, which only its ``summarize`` step gets, in the block before its decision, while its
``apply`` step in the next block and its ``decide`` task load the decision alone). So over a run
each model loads exactly once in each actor of the one pool that runs its stage: loads equal
that pool's actors, never blocks x actors, and never once per video.

The stages here "load a model" by leaving a file named after the load and the Ray actor that made
it (a task has no actor id), and leave one per video they process, so the counts come from the
workers themselves."""

import os
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from curation.config.workflow import Workflow
from curation.run.pipeline import RunRequest, run_pipeline
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork

VIDEOS = 12


def _note(folder: str, event: str, what: str) -> None:
    """One file per event: ``event.what.actor.unique`` (``task-PID`` outside an actor)."""
    import ray

    actor = ray.get_runtime_context().get_actor_id() or f"task-{os.getpid()}"
    Path(folder, f"{event}.{what}.{actor}.{uuid.uuid4().hex}").touch()


@dataclass
class LoadsModel(Stage):
    """A per-video stage whose ``setup`` loads a model."""

    name: ClassVar[str] = "first_model"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    folder: str = ""

    def setup(self) -> None:
        _note(self.folder, "load", self.name)

    def process(self, work: VideoWork) -> VideoWork:
        _note(self.folder, "video", self.name)
        return work


@dataclass
class SecondModel(LoadsModel):
    name: ClassVar[str] = "second_model"


@dataclass
class ThirdModel(LoadsModel):
    name: ClassVar[str] = "third_model"


@dataclass
class RunWideModel(RunScopeStage):
    """A run-scope stage: its model for ``summarize``, its decision for ``decide`` and ``apply``."""

    name: ClassVar[str] = "run_wide_a"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    folder: str = ""

    def setup(self) -> None:
        _note(self.folder, "load", self.name)

    def setup_decision(self) -> None:
        _note(self.folder, "decision", self.name)

    def summarize(self, work: VideoWork) -> dict[str, Any]:
        _note(self.folder, "video", f"{self.name}-summarize")
        return {"seen": True}

    def decide(self, summaries: dict[str, Any]) -> dict[str, Any]:
        return {"videos": sorted(summaries)}

    def apply(self, work: VideoWork, decision: Any) -> VideoWork:
        _note(self.folder, "video", f"{self.name}-apply")
        return work


@dataclass
class OtherRunWideModel(RunWideModel):
    name: ClassVar[str] = "run_wide_b"


def _events(folder: Path) -> list[tuple[str, str, str]]:
    return [tuple(p.name.split(".")[:3]) for p in folder.iterdir()]  # type: ignore[misc]


def test_each_model_loads_once_in_each_actor_of_its_one_pool_over_a_three_block_run(
    ray_session: str, tmp_path: Path
) -> None:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    inputs, events = tmp_path / "in", tmp_path / "events"
    inputs.mkdir()
    events.mkdir()
    for i in range(VIDEOS):
        (inputs / f"v{i}.mp4").write_bytes(f"video {i}".encode() * 50)
    folder = str(events)
    stages = [LoadsModel(folder), RunWideModel(folder=folder), SecondModel(folder),
              OtherRunWideModel(folder=folder), ThirdModel(folder)]  # fmt: skip
    workflow = Workflow("model_loads", "test", stages, "test")
    result = run_pipeline(RunRequest(str(inputs), str(tmp_path / "run"), workflow, executor="ray"))
    assert (result.accounting.inputs, result.accounting.kept) == (VIDEOS, VIDEOS)

    seen = _events(events)
    loads = Counter((what, actor) for event, what, actor in seen if event == "load")
    decisions = Counter((what, actor) for event, what, actor in seen if event == "decision")
    videos: dict[str, set[str]] = {}
    for event, what, actor in seen:
        if event == "video":
            videos.setdefault(what, set()).add(actor)
    steps = ("first_model", "run_wide_a-summarize", "run_wide_a-apply", "second_model", "run_wide_b-summarize",
             "run_wide_b-apply", "third_model")  # fmt: skip
    assert Counter(what for event, what, _ in seen if event == "video") == dict.fromkeys(steps, VIDEOS)
    # The three blocks' pools: [first_model, run_wide_a.summarize], [run_wide_a.apply,
    # second_model, run_wide_b.summarize], [run_wide_b.apply, third_model].
    pools = [videos["first_model"], videos["second_model"], videos["third_model"]]
    assert videos["run_wide_a-summarize"] <= pools[0] and videos["run_wide_a-apply"] <= pools[1]
    assert videos["run_wide_b-summarize"] <= pools[1] and videos["run_wide_b-apply"] <= pools[2]
    assert all(1 <= len(pool) <= 4 < VIDEOS for pool in pools)  # two CPUs hold four half-CPU actors

    assert set(loads.values()) == {1}  # no actor loaded any model twice
    assert set(decisions.values()) == {1}
    loaders = {name: {actor for what, actor in loads if what == name} for name, _ in loads}
    # each model, in every actor of its one pool that got a video, and nowhere else: an actor loads its
    # pool's models in its setup, so one that came up after the last video was taken loaded them too
    assert loaders["first_model"] == loaders["run_wide_a"] and loaders["second_model"] == loaders["run_wide_b"]
    by_pool = [loaders["first_model"], loaders["second_model"], loaders["third_model"]]
    assert all(ran <= loaded for ran, loaded in zip(pools, by_pool, strict=True))
    assert not (by_pool[0] & by_pool[1] or by_pool[1] & by_pool[2] or by_pool[0] & by_pool[2])
    # the decisions: in the apply step's actors (set up with their pool's models) and once in the
    # decide task, which loads no model
    for name, pool, loaded in (("run_wide_a", pools[1], by_pool[1]), ("run_wide_b", pools[2], by_pool[2])):
        holders = {actor for what, actor in decisions if what == name}
        (task,) = [actor for actor in holders if actor.startswith("task-")]
        assert pool <= holders - {task} == loaded
        assert not any(actor.startswith("task-") for _, actor in loads)
    total_loads = sum(loads.values())
    actor_blocks = sum(len(pool) for pool in pools)
    print(f"{total_loads} model loads by {actor_blocks} actors over 3 blocks and {VIDEOS} videos: "
          f"{[len(pool) for pool in pools]} actors per block")
