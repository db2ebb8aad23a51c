"""Every actor's own counts reach the driver: each video's reply brings those made while it ran,
and the block's end gathers the rest from every actor that ran a video, which is asked to write its
summary parts too. When a pool's first actors took a video before their setup answer was read, a
busy driver could meet the video's reply first and end the block with that actor not marked up:
its counts were lost (1 of 3 here) and its summary parts not asked for (2 or 0 of the 3 were). An
actor now takes videos only once it is up, and a busy driver here checks that it stays so."""

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from curation.execution import actor_pools, block_end
from curation.execution.video_task import VideoTask
from curation.faults import fault_counts
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from schemas.reasons import Reason

SLOW_DRIVER_S = 4.0  # longer than an actor takes to start, set up and finish its video


@dataclass
class RetriesOnce(Stage):
    """Counts one store retry in its worker on each video (what a 503 answered on a write costs)."""

    name: ClassVar[str] = "retries_once"
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    def process(self, work: VideoWork) -> VideoWork:
        fault_counts.count(fault_counts.STORE_RETRIES)
        work.reject(self.name, Reason.NO_SEGMENTS, str(os.getpid()))
        return work


def test_the_counts_of_an_actor_whose_setup_answer_was_never_read_are_gathered(
    ray_session: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray.cloudpickle

    from curation.execution.ray_executor import make_executor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    sample = actor_pools.pool_metrics.sample

    def slow_sample(counts: object, force: bool = False) -> None:  # a driver busy between two looks at Ray
        time.sleep(SLOW_DRIVER_S)
        sample(counts, force=force)

    monkeypatch.setattr(actor_pools.pool_metrics, "sample", slow_sample)
    flush, asked = block_end.ask_to_flush_summary_parts, []

    def recording_flush(pools: list) -> None:  # which actors the block's end asks for their summaries
        asked.append([(len(pool.actors), len(pool.up)) for pool in pools])
        flush(pools)

    monkeypatch.setattr(block_end, "ask_to_flush_summary_parts", recording_flush)
    # The block end's last look at setup answers (those already arrived) is off: an actor that ran
    # a video must have been up before it was given one.
    monkeypatch.setattr(block_end, "read_late_setups", lambda pools: None)
    tasks = [VideoTask(f"/in/{i}.mp4", f"v{i}", str(tmp_path), 0, True) for i in range(3)]
    before = fault_counts.snapshot()
    outcomes = list(make_executor("ray").run_videos([RetriesOnce()], tasks))
    assert sorted(o.video_id for o in outcomes) == ["v0", "v1", "v2"]
    assert fault_counts.since(before).get(fault_counts.STORE_RETRIES) == 3
    # every actor that ran a video is up at the block's end, so it is asked to flush
    ledger = Ledger(RunStore(str(tmp_path)))
    ran = {ledger.record(o.video_id, 0).detail for o in outcomes}
    ((actors, up),) = asked[0]
    assert len(ran) <= up <= actors == 3, (asked, ran)
