"""One video through one block of per-video stages, on a worker: load, run, store, report.

The worker that runs the last stage of a block writes the video's record (and, through the
``SummarizeStep``, its run-scope summary) to the run store and returns only a ``VideoOutcome``:
records never travel to the driver. Summaries also go, many videos at once, into parts of the
block (``summary_parts``): ``finish_work`` commits the video's, ``flush_summary_parts`` writes the
rest once the block is over. Both executors call these, so their results are identical.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from curation.faults.crash_points import crash_point
from curation.ingest.local_copy import holding_media
from curation.runtime.stage import Stage
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_outcome import VideoOutcome
from curation.runtime.video_work import VideoWork
from curation.store import summary_parts
from curation.store.ledger import Ledger
from curation.store.plain_codec import PlainDataError
from curation.store.run_store import RunStore
from schemas.reasons import Reason


@dataclass(frozen=True)
class VideoTask:
    uri: str
    video_id: str
    run_uri: str
    block: int
    final: bool  # the last block: a video still pending at its end is kept
    stage_names: tuple[str, ...] = ()  # the block's stages: what its outcome counts as this block's
    timeout_s: float | None = None  # the per-video watchdog on the actor pools (None: no limit)
    node_cache_bytes: int | None = None  # the bound of each node's input cache (None: a share of its disk)


class VideoTasks(Protocol):
    """A block's tasks: how many, and each in turn. A list will do; the pipeline's driver makes
    them a page at a time as the executor takes them (10^5 tasks held at once are ~40 MB)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[VideoTask]: ...


def start_work(task: VideoTask) -> VideoWork:
    """The video's record as the block before left it (a fresh one in block 0)."""
    if task.block == 0:
        return VideoWork(uri=task.uri, video_id=task.video_id, run_uri=task.run_uri)
    try:
        work = Ledger(RunStore(task.run_uri)).record(task.video_id, task.block - 1)
    except (PlainDataError, OSError, ValueError) as err:
        work, problem = None, f"{type(err).__name__}: {err}"
    else:
        problem = "its record from the previous block is missing"
    if work is None:
        work = VideoWork(uri=task.uri, video_id=task.video_id, run_uri=task.run_uri)
        work.fail(f"block{task.block}", Reason.ERROR, f"cannot continue the video: {problem}")
    work.run_uri = task.run_uri  # the record may have been moved with its run directory
    return work


def run_block(stages: list[Stage], work: VideoWork, task: VideoTask) -> VideoWork:
    """The stages in order, the video's node copy pinned meanwhile and released after (even when
    a stage raised), so the node cache may evict it for the next videos."""
    with holding_media(task.video_id, task.node_cache_bytes):
        for stage in stages:
            work = run_stage(stage, work)
    return work


def finish_work(task: VideoTask, work: VideoWork) -> VideoOutcome:
    if task.final and work.state == "pending":
        work.state = "kept"
    ledger = Ledger(RunStore(task.run_uri))
    ledger.save_record(work, task.block)
    crash_point("record")
    outcome = VideoOutcome.of(work, task.stage_names)
    ledger.save_outcome(outcome, task.block)
    _write_parts(summary_parts.BUFFER.commit(task.run_uri, task.block, task.video_id, outcome.state == "failed"))
    return outcome


def flush_summary_parts() -> int:
    """Write what this process holds of the block's summaries (the driver has every reply: see
    ``summary_parts``); returns how many parts were written."""
    return _write_parts(summary_parts.BUFFER.take_all())


def _write_parts(parts: dict[tuple[str, int], dict[str, object]]) -> int:
    for (run_uri, block), summaries in parts.items():
        Ledger(RunStore(run_uri)).save_summary_part(block, summaries)
    return len(parts)
