"""Stages run as a Ray actor pool: a model loads once per actor, not per video, and each video's
record is written to the run store by the worker while the driver receives its outcome."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from curation.execution.video_task import VideoTask
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from schemas.reasons import Reason


@dataclass
class CountingModel(Stage):
    """Records, on each video (as its rejection detail), which process loaded the model and how
    often it had loaded it."""

    name: ClassVar[str] = "counting_model"
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    def setup(self) -> None:
        self._loads = getattr(self, "_loads", 0) + 1
        self._pid = os.getpid()

    def process(self, work: VideoWork) -> VideoWork:
        work.reject(self.name, Reason.NO_SEGMENTS, f"{self._pid}:{self._loads}")
        return work


def test_model_stage_loads_once_per_actor_and_actors_are_reused(ray_session: str, tmp_path: Path) -> None:
    import ray.cloudpickle

    from curation.execution.ray_executor import make_executor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path), 0, True) for i in range(10)]
    results = list(make_executor("ray").run_videos([CountingModel()], tasks))
    assert sorted(o.video_id for o in results) == [f"v{i}" for i in range(10)]
    # the workers wrote every record; the driver got outcomes only
    ledger = Ledger(RunStore(str(tmp_path)))
    assert ledger.finished_video_ids(0) == {f"v{i}" for i in range(10)}
    records = {o.video_id: ledger.record(o.video_id, 0) for o in results}
    assert all((records[o.video_id].state, records[o.video_id].detail) == ("rejected", o.detail) for o in results)
    loads = {tuple(int(x) for x in o.detail.split(":")) for o in results}
    assert {count for _, count in loads} == {1}  # setup ran once in each actor
    actors = {pid for pid, _ in loads}
    assert os.getpid() not in actors  # the model lives in the workers, not the driver
    # two CPUs hold at most four half-CPU actors, so ten videos reuse loaded models
    assert 1 <= len(actors) <= 4


@dataclass
class DiesOn(Stage):
    """Kills its worker process on the named videos: once each (a marker file remembers), or every
    time (``always``)."""

    name: ClassVar[str] = "dies_on"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    victims: tuple[str, ...] = ()
    marker_dir: str = ""
    always: bool = False

    def process(self, work: VideoWork) -> VideoWork:
        marker = Path(self.marker_dir) / f"{work.video_id}.died"
        if work.video_id in self.victims and (self.always or not marker.exists()):
            marker.touch()
            os._exit(1)  # what a segfault in a decoder, or the out-of-memory killer, looks like
        work.reject(self.name, Reason.NO_SEGMENTS, str(os.getpid()))
        return work


def test_a_worker_that_dies_is_replaced_and_its_video_starts_over(ray_session: str, tmp_path: Path) -> None:
    import ray.cloudpickle

    from curation.execution.ray_executor import make_executor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    store, markers = tmp_path / "run", tmp_path / "markers"
    markers.mkdir()
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(store), 0, True) for i in range(6)]
    once = DiesOn(victims=("v1",), marker_dir=str(markers))
    outcomes = {o.video_id: o for o in make_executor("ray").run_videos([once], tasks)}
    assert sorted(outcomes) == [f"v{i}" for i in range(6)]
    assert {o.state for o in outcomes.values()} == {"rejected"}  # v1 too, on its second try
    # a video that kills every worker it is given is recorded as failed; the others go on
    always = DiesOn(victims=("v4",), marker_dir=str(markers), always=True)
    store = tmp_path / "run2"
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(store), 0, True) for i in range(6)]
    outcomes = {o.video_id: o for o in make_executor("ray").run_videos([always], tasks)}
    assert outcomes["v4"].state == "failed" and "worker died" in outcomes["v4"].detail
    assert all(o.state == "rejected" for v, o in outcomes.items() if v != "v4")
    record = Ledger(RunStore(str(store))).record("v4", 0)
    assert record.state == "failed" and record.reason == Reason.ERROR


@dataclass
class DiesInSetup(Stage):
    """Kills the first worker that sets it up (an exclusive marker file picks one), or every one
    (``always``)."""

    name: ClassVar[str] = "dies_in_setup"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    marker_dir: str = ""
    always: bool = False

    def setup(self) -> None:
        if self.always:
            os._exit(1)
        try:
            os.close(os.open(Path(self.marker_dir) / "setup.died", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        os._exit(1)

    def process(self, work: VideoWork) -> VideoWork:
        work.reject(self.name, Reason.NO_SEGMENTS, str(os.getpid()))
        return work


def test_a_worker_that_dies_as_it_starts_is_replaced(ray_session: str, tmp_path: Path) -> None:
    import ray.cloudpickle

    from curation.execution.ray_executor import make_executor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    markers = tmp_path / "markers"
    markers.mkdir()
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path / "run"), 0, True) for i in range(6)]
    outcomes = list(make_executor("ray").run_videos([DiesInSetup(marker_dir=str(markers))], tasks))
    assert (markers / "setup.died").exists()  # one worker did die
    assert sorted(o.video_id for o in outcomes) == [f"v{i}" for i in range(6)]
    assert {o.state for o in outcomes} == {"rejected"}
    # workers that can never start stop the run with a clear error instead of retrying forever
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path / "run2"), 0, True) for i in range(2)]
    with pytest.raises(RuntimeError, match="keep dying as they start"):
        list(make_executor("ray").run_videos([DiesInSetup(always=True)], tasks))


def test_the_first_pool_takes_the_tasks_as_its_queue_empties() -> None:
    """The driver holds twice the pool's most actors of a block's tasks, not all of them; a video
    that starts over goes first, and the pool's metrics count the tasks not taken yet as queued."""
    from curation.execution.actor_pool_state import Pool
    from curation.execution.actor_pools import _feed

    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", "/run", 0, True) for i in range(9)]
    pool = Pool("p", remote=None, most=2, unfed=len(tasks))
    feed = iter(tasks)
    _feed(pool, feed)
    assert [task.video_id for task, _ in pool.queue] == ["v0", "v1", "v2", "v3"]
    assert (pool.unfed, pool.counts().queued) == (5, 9)
    pool.queue.popleft()
    pool.queue.appendleft((tasks[0], tasks[0]))  # started over
    pool.queue.popleft()
    pool.queue.popleft()
    _feed(pool, feed)
    assert [task.video_id for task, _ in pool.queue] == ["v2", "v3", "v4", "v5"]
    pool.queue.clear()
    _feed(pool, feed)
    assert [task.video_id for task, _ in pool.queue] == ["v6", "v7", "v8"] and pool.counts().queued == 3
    short = Pool("p", remote=None, most=4, unfed=3)  # fewer tasks than announced
    _feed(short, iter(tasks[:2]))
    assert (len(short.queue), short.unfed) == (2, 0)
    # a video that met a node fault may be refused by some actors: the others still find two each
    avoided = Pool("p", remote=None, most=1, unfed=4)
    _feed(avoided, iter(tasks[:4]), {"v0": {"node-a"}})
    assert [task.video_id for task, _ in avoided.queue] == ["v0", "v1", "v2"]
