"""Faults on the actor pools cost a video a restart or a timeout, never the run: the watchdog stops
a video that hangs (its actor replaced, the video started over; failed with ``timeout`` when it
hangs on every try, and run again on resume), a node fault that escapes a stage starts the video
over on a new actor (on another node when the pool has one there), and workers that die as they
start are replaced for as long as the pool has ever worked (spot churn), each counted."""

import errno
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from curation.config.workflow import Workflow
from curation.execution.actor_pools import RETRIES
from curation.execution.video_task import VideoTask
from curation.faults import fault_counts
from curation.run.pipeline import RunRequest, run_pipeline
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from schemas.reasons import Reason


def _by_value() -> None:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests


@dataclass
class Hangs(Stage):
    """Hangs (a minute: far past the watchdog) the first ``times`` times it meets the video named
    ``victim``; on every video records which process ran it."""

    name: ClassVar[str] = "hangs"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    victim: str = ""
    marker_dir: str = ""
    times: int = 1

    def process(self, work: VideoWork) -> VideoWork:
        if Path(work.uri).stem == self.victim and len(list(Path(self.marker_dir).glob("hung-*"))) < self.times:
            (Path(self.marker_dir) / f"hung-{uuid.uuid4().hex}").touch()
            time.sleep(60)
        work.reject(self.name, Reason.NO_SEGMENTS, str(os.getpid()))
        return work


def _hang_request(tmp_path: Path, times: int) -> tuple[RunRequest, Path]:
    inputs, out, markers = tmp_path / "in", tmp_path / "out", tmp_path / "markers"
    inputs.mkdir()
    markers.mkdir()
    for name in ("slow", "v1", "v2", "v3", "v4", "v5"):
        (inputs / f"{name}.mp4").write_bytes(name.encode() * 100)
    workflow = Workflow("hang", "test", [Hangs(victim="slow", marker_dir=str(markers), times=times)], "test")
    return RunRequest(str(inputs), str(out), workflow, executor="ray", video_timeout_s=4.0), markers


def test_a_video_that_hangs_once_is_stopped_and_started_over_in_the_same_run(
    ray_session: str, tmp_path: Path
) -> None:
    _by_value()
    request, markers = _hang_request(tmp_path, times=1)
    started = time.monotonic()
    result = run_pipeline(request)
    assert time.monotonic() - started < 50  # the driver did not wait out the hang
    assert len(list(markers.glob("hung-*"))) == 1
    assert result.faults[fault_counts.VIDEO_TIMEOUTS] == 1 and result.faults[fault_counts.VIDEO_RESTARTS] == 1
    assert (result.accounting.failed, result.accounting.rejected) == (0, 6)


def test_a_video_that_hangs_on_every_try_times_out_and_resume_runs_it(ray_session: str, tmp_path: Path) -> None:
    _by_value()
    request, markers = _hang_request(tmp_path, times=RETRIES + 1)
    started = time.monotonic()
    first = run_pipeline(request)
    assert time.monotonic() - started < 90  # three limits of 4 s, not three hangs of a minute
    assert first.faults[fault_counts.VIDEO_TIMEOUTS] == RETRIES + 1 == len(list(markers.glob("hung-*")))
    assert first.faults[fault_counts.VIDEO_RESTARTS] == RETRIES
    assert (first.accounting.failed, first.accounting.rejected) == (1, 5)
    ledger = Ledger(RunStore(request.out))
    outcomes = [ledger.outcome(v, 0) for v in ledger.finished_video_ids(0)]
    (timed_out,) = [o for o in outcomes if o.state == "failed"]
    assert (timed_out.reason, timed_out.failure_kind) == (Reason.TIMEOUT, "infra")
    assert "per-video timeout of 4 s" in timed_out.detail
    assert ledger.record(timed_out.video_id, 0).uri.endswith("/slow.mp4")

    second = run_pipeline(request)  # resumed: the timeout is an infrastructure failure
    assert second.faults[fault_counts.FAILED_RETRIED] == 1 and second.faults[fault_counts.VIDEO_TIMEOUTS] == 0
    assert (second.accounting.failed, second.accounting.rejected) == (0, 6)
    assert ledger.outcome(timed_out.video_id, 0).state == "rejected"


@dataclass
class DiskFullOnce(Stage):
    """Raises ENOSPC (a full node disk, which no stage catches) the first time it meets ``victim``."""

    name: ClassVar[str] = "disk_full_once"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    victim: str = ""
    marker_dir: str = ""

    def process(self, work: VideoWork) -> VideoWork:
        marker = Path(self.marker_dir) / "full"
        if work.video_id == self.victim and not marker.exists():
            marker.touch()
            raise OSError(errno.ENOSPC, "No space left on device", "/node/cache")
        work.reject(self.name, Reason.NO_SEGMENTS, str(os.getpid()))
        return work


def test_a_node_fault_escaping_a_stage_starts_the_video_over(ray_session: str, tmp_path: Path) -> None:
    from curation.execution.ray_executor import make_executor

    _by_value()
    markers = tmp_path / "markers"
    markers.mkdir()
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path / "run"), 0, True) for i in range(5)]
    before = fault_counts.snapshot()
    outcomes = {o.video_id: o for o in make_executor("ray").run_videos([DiskFullOnce("v2", str(markers))], tasks)}
    assert (markers / "full").exists()
    assert sorted(outcomes) == [f"v{i}" for i in range(5)]
    assert {o.state for o in outcomes.values()} == {"rejected"}  # v2 too, on a new actor
    assert fault_counts.since(before).get(fault_counts.VIDEO_RESTARTS) == 1


@dataclass
class ChurnInSetup(Stage):
    """The first actor to set up lives; the others die in their setup until ``deaths`` have died
    (nodes reclaimed as their actors start), then every new one lives."""

    name: ClassVar[str] = "churn_in_setup"
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    marker_dir: str = ""
    deaths: int = 0

    def setup(self) -> None:
        folder = Path(self.marker_dir)
        try:
            os.close(os.open(folder / "survivor", os.O_CREAT | os.O_EXCL))
            return
        except FileExistsError:
            pass
        if len(list(folder.glob("death-*"))) < self.deaths:
            (folder / f"death-{uuid.uuid4().hex}").touch()
            os._exit(1)

    def process(self, work: VideoWork) -> VideoWork:
        time.sleep(0.5)  # work enough that the pool replaces its dead while videos wait
        work.reject(self.name, Reason.NO_SEGMENTS, str(os.getpid()))
        return work


def test_more_setup_deaths_than_the_pool_holds_do_not_stop_a_pool_that_works(
    ray_session: str, tmp_path: Path
) -> None:
    from curation.execution.ray_executor import make_executor

    _by_value()
    markers = tmp_path / "markers"
    markers.mkdir()
    # Four actors fit two CPUs; seven die as they start: more than the pool's size + 2, which
    # stopped the run before deaths were counted per video.
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path / "run"), 0, True) for i in range(16)]
    before = fault_counts.snapshot()
    outcomes = list(make_executor("ray").run_videos([ChurnInSetup(str(markers), deaths=7)], tasks))
    assert len(list(markers.glob("death-*"))) == 7
    assert sorted(o.video_id for o in outcomes) == sorted(f"v{i}" for i in range(16))
    assert {o.state for o in outcomes} == {"rejected"}
    counted = fault_counts.since(before)
    # a death is counted once: as a setup death, or (if the actor held a video) a restart
    assert counted.get(fault_counts.POOL_SETUP_DEATHS, 0) + counted.get(fault_counts.VIDEO_RESTARTS, 0) >= 7


def test_a_video_that_met_a_node_fault_waits_for_an_actor_on_another_node() -> None:
    from curation.execution.actor_pool_state import Pool
    from curation.execution.actor_pools import _next_for

    pool = Pool("p", remote=None, most=3)
    on_full, on_roomy, unplaced = object(), object(), object()
    pool.came_up(on_full, "127.0.0.1", "node-full")
    pool.came_up(on_roomy, "127.0.0.1", "node-roomy")
    big, small = (VideoTask(f"/in/{v}.mp4", v, "/run", 0, True) for v in ("big", "small"))
    pool.queue.extend([(big, big), (small, small)])
    avoid = {"big": {"node-full"}}
    assert _next_for(pool, on_full, avoid) == 1  # the actor on the full node takes the next video
    assert _next_for(pool, on_roomy, avoid) == 0
    assert _next_for(pool, unplaced, avoid) == 0  # an actor not up yet: its node is unknown
    pool.queue.remove((small, small))
    assert _next_for(pool, on_full, avoid) is None  # big waits for the actor on the other node
    pool.drop(on_roomy)  # that node is gone: big goes where it can
    assert _next_for(pool, on_full, avoid) == 0
