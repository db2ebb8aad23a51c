"""One video's surprise becomes a ``failed`` record naming the stage, never a crashed run."""

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from media_facts import probed

from curation.media.ffmpeg_runner import ffprobe_command, run_media_tool
from curation.runtime.stage import Stage
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason


@dataclass
class Exploding(Stage):
    name: ClassVar[str] = "exploding"
    calls: int = 0

    def process(self, work: VideoWork) -> VideoWork:
        self.calls += 1
        raise ValueError("no frames where frames were promised")


@dataclass
class Stalling(Stage):
    """Probes a named pipe nobody writes to: ffprobe blocks until its timeout kills it."""

    name: ClassVar[str] = "stalling"

    def process(self, work: VideoWork) -> VideoWork:
        run_media_tool(ffprobe_command(work.uri, ["-show_format"]), timeout=1)
        return work


@dataclass
class NeedsShots(Stage):
    name: ClassVar[str] = "needs_shots"
    needs: ClassVar[tuple[str, ...]] = ("video", "analysis")

    def process(self, work: VideoWork) -> VideoWork:
        return work


def _work() -> VideoWork:
    return VideoWork(uri="/in/a.mp4", video_id="abc")


def test_exception_fails_the_video_with_type_message_and_place() -> None:
    work = run_stage(Exploding(), _work())
    assert (work.state, work.stage, work.reason) == ("failed", "exploding", Reason.ERROR)
    assert work.detail.startswith("ValueError: no frames where frames were promised (at test_stage_runner.py:")
    assert work.timings["exploding"] >= 0


def test_timeout_fails_the_video_as_timeout(tmp_path: Path) -> None:
    fifo = tmp_path / "stalled.mp4"
    os.mkfifo(fifo)
    work = VideoWork(uri=str(fifo), video_id="abc")
    work = run_stage(Stalling(), work)
    assert (work.state, work.stage, work.reason) == ("failed", "stalling", Reason.TIMEOUT)
    assert "no result after 1 s (killed)" in work.detail


def test_a_finished_video_is_not_processed_again() -> None:
    stage = Exploding()
    work = _work()
    work.reject("probe", Reason.TOO_SHORT, "0.1 s")
    assert run_stage(stage, work) is work and stage.calls == 0
    assert (work.state, work.stage) == ("rejected", "probe")


def test_missing_input_from_an_earlier_stage_is_named() -> None:
    work = run_stage(NeedsShots(), _work())
    assert work.state == "failed" and "needs 'video', which no earlier stage added" in work.detail
    work = _work()
    work.video = probed(1.0)
    assert re.fullmatch(
        r"LookupError: stage 'needs_shots' needs 'analysis', which no earlier stage added \(at stage\.py:\d+\)",
        run_stage(NeedsShots(), work).detail,
    )


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_executors_run_each_stage_in_order(ray_session: str, executor: str, tmp_path: Path) -> None:
    import ray.cloudpickle

    from curation.execution.ray_executor import make_executor
    from curation.execution.video_task import VideoTask

    # Ray workers cannot import this test module: ship its stage classes by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path), 0, True) for i in range(3)]
    results = sorted(make_executor(executor).run_videos([NeedsShots(), Exploding()], tasks), key=lambda o: o.video_id)
    # the first stage failed each video, so the second never ran; the detail is the same everywhere
    assert [(o.video_id, o.state, o.stage) for o in results] == [(f"v{i}", "failed", "needs_shots") for i in range(3)]
    (detail,) = {o.detail for o in results}
    assert detail.startswith("LookupError: stage 'needs_shots' needs 'video', which no earlier stage added")
