"""A run-wide stage reads its summaries from parts of many videos: O(parts) store reads, not
O(videos), and the same summaries as the per-video copies, whichever attempt wrote them last."""

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from curation.execution.local_executor import LocalExecutor
from curation.execution.video_task import VideoTask, finish_work, flush_summary_parts, run_block, start_work
from curation.run.run_scope_steps import DecideRequest, StoredDecision, SummarizeStep, decide_and_store
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from curation.store import summary_parts
from curation.store.ledger import Ledger, block_dir
from curation.store.run_store import RunStore
from schemas.reasons import Reason


@dataclass
class VectorSum(RunScopeStage):
    """Summaries with arrays (a JSON and an npz each, as identity's); the decision sums them by video."""

    name: ClassVar[str] = "vector_sum"

    def summarize(self, work: VideoWork) -> Any:
        seed = int(work.video_id[-4:], 16)
        return {"vector": np.arange(4, dtype=np.float32) + seed, "attempt": work.uri}

    def decide(self, summaries: dict[str, Any]) -> Any:
        return {v: None if s is None else [float(s["vector"].sum()), s["attempt"]]
                for v, s in sorted(summaries.items())}


class CountingStore(RunStore):
    reads: ClassVar[list[str]] = []

    def read_bytes(self, relative: str) -> bytes:
        CountingStore.reads.append(relative)
        return super().read_bytes(relative)


def _video_ids(n: int) -> list[str]:
    return [f"{k:016x}" for k in range(n)]


def _run_block(run: str, ids: list[str], uri: str = "file://a.mp4") -> None:
    stages = [SummarizeStep(target=VectorSum(), block=0)]
    tasks = [VideoTask(uri, video_id, run, 0, False, ("vector_sum.summarize",)) for video_id in ids]
    list(LocalExecutor().run_videos(stages, tasks))


def _decide(run: str, ids: list[str], failed: tuple[str, ...] = ()) -> tuple[Any, list[str]]:
    CountingStore.reads = []
    request = DecideRequest(VectorSum(), run, 0, tuple(ids), failed_ids=failed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("curation.run.run_scope_steps.RunStore", CountingStore)
        assert decide_and_store(request) == len(ids)
    return StoredDecision(run, "vector_sum", whole=True)(), list(CountingStore.reads)


def test_a_run_wide_stage_reads_its_summaries_in_parts_not_per_video(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(summary_parts.BUFFER, "part_videos", 16)
    run, ids = str(tmp_path / "run"), _video_ids(120)
    _run_block(run, ids)
    parts = sorted((tmp_path / "run" / block_dir(0) / summary_parts.PARTS_DIR).glob("*.json"))
    assert len(parts) == 8  # 7 full parts of 16, then the block's end writes the last 8

    decision, reads = _decide(run, ids)
    summary_reads = [r for r in reads if r.startswith(block_dir(0))]
    # one JSON and one npz per part, nothing per video (the old layout: 240 reads, 2 per video)
    assert len(summary_reads) == 2 * len(parts), summary_reads[:5]
    assert decision[ids[7]] == [float(np.arange(4).sum() + 4 * 7), "file://a.mp4"]

    # A run made before parts (the per-video layout only) is read per video, to the same decision.
    shutil.rmtree(tmp_path / "run" / block_dir(0) / summary_parts.PARTS_DIR)
    Ledger(RunStore(run)).forget_decision("vector_sum")
    old_decision, old_reads = _decide(run, ids)
    assert old_decision == decision
    assert len([r for r in old_reads if r.startswith(block_dir(0))]) == 2 * len(ids)


def test_a_video_redone_or_lost_from_the_buffer_is_read_from_its_latest_copy(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(summary_parts.BUFFER, "part_videos", 4)
    run, ids = str(tmp_path / "run"), _video_ids(10)
    _run_block(run, ids, uri="file://first.mp4")
    # Redone by a second attempt (a killed run resumed around it): its new summary is in a part too.
    _run_block(run, ids[:2], uri="file://second.mp4")
    # A worker that died after its outcome and before any part: its summary is in no part.
    stage = SummarizeStep(target=VectorSum(), block=0)
    late = VideoTask("file://third.mp4", "00000000000000ff", run, 0, False)
    finish_work(late, run_block([stage], start_work(late), late))
    summary_parts.BUFFER.clear()  # the worker is gone, with what it held
    # A video whose outcome says failed: its summary never enters a part.
    failed = VideoTask("file://third.mp4", "00000000000000fe", run, 0, False)
    work = run_block([stage], start_work(failed), failed)
    work.fail("later", Reason.ERROR, "after its summary", "infra")
    finish_work(failed, work)
    assert flush_summary_parts() == 0

    everyone = [*ids, "00000000000000fe", "00000000000000ff"]
    decision, reads = _decide(run, everyone, failed=("00000000000000fe",))
    assert decision[ids[0]][1] == decision[ids[1]][1] == "file://second.mp4"
    assert decision[ids[2]][1] == "file://first.mp4"
    assert decision["00000000000000ff"][1] == "file://third.mp4"
    per_video = sorted({r.rsplit("/", 1)[-1].split(".")[0] for r in reads if ".summary." in r})
    assert per_video == sorted([ids[0], ids[1], "00000000000000fe", "00000000000000ff"])
