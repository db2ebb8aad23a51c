"""A stage run in this process sees as many BLAS threads as CPUs it declares, as under Ray."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@dataclass
class _SeesThreads(Stage):
    name: ClassVar[str] = "sees_threads"
    needs: ClassVar[tuple[str, ...]] = ()
    adds: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[Resources] = Resources(cpus=1)
    seen: set[int] | None = None

    def process(self, work: VideoWork) -> VideoWork:
        np.ones((64, 64)) @ np.ones((64, 64))
        self.seen = _blas_threads()
        return work


def test_a_one_cpu_stage_runs_with_one_blas_thread_and_the_driver_gets_its_threads_back():
    assert _blas_threads(), "numpy's BLAS is loaded"
    with threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() == {2}  # the driver's pools, as on a two-core machine
        stage = _SeesThreads()
        work = run_stage(stage, VideoWork(uri="file:///clip.mp4", video_id="v", run_uri="/tmp/run"))
        assert work.state != "failed", work
        assert stage.seen == {1}
        assert _blas_threads() == {2}


def test_the_pools_are_listed_again_after_an_import(tmp_path, monkeypatch):
    # A library loaded by a later stage's imports (a second OpenBLAS) must be limited too.
    from curation.runtime import thread_limits

    first = thread_limits._controller()
    assert thread_limits._controller() is first, "no import, no new listing"
    (tmp_path / "freshly_imported_module.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import freshly_imported_module  # noqa: F401

    assert thread_limits._controller() is not first
