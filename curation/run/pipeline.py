"""One curation run: identify inputs, run the per-video stages, write shards and manifests.

Phases, each resumable from the ledger in the run store:
1. identify: every input URI gets a content id (or a reason it cannot be read);
2. blocks of per-video stages over each distinct video (a file under two names is processed
   once); workers read and write each video's record in the run store and send the driver a
   small outcome; between blocks, a run-scope stage decides in a task of its own;
3. shards: a task plans them, a task per shard packs it;
4. manifests: ``inputs = kept + rejected + failed`` is checked, then a task per group of videos
   writes its part of each table and the driver writes the videos table from the outcomes.
What the driver knows of each input and video (identities, outcomes) is in an index on its local
disk (``video_index``), read back a page at a time: it holds counts and pages, and its memory
grows neither with the videos' content nor, beyond the input list it is given, with their number.

A resumed run runs again every video whose recorded failure was an infrastructure one (the store,
a disk, a worker that kept dying, the watchdog); ``retry_failed`` runs content failures again too.
The faults a run survived (store retries, videos started over, timeouts) are counted in every
process, gathered here and stored in ``run.json`` (``fault_counts``).
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from curation.config.workflow import Workflow
from curation.dataset.shard_phase import PACK_RESOURCES, PackRequest, PlanRequest, make_plan, pack_shard
from curation.execution.executor import Executor
from curation.execution.ray_executor import make_executor
from curation.execution.video_task import VideoTask
from curation.faults import fault_counts
from curation.faults.crash_points import crash_point
from curation.ingest.content_id import identify_input
from curation.ingest.discovery import discover_inputs
from curation.manifests.manifest_writer import MANIFEST_DIR, write_manifest
from curation.run.accounting import Accounting, check_accounting
from curation.run.manifest_phase import RunTableRequest, part_count, part_requests, write_part, write_run_table
from curation.run.paging import pages
from curation.run.run_info import RunInfo
from curation.run.run_scope_steps import (
    ApplyStep,
    DecideRequest,
    StoredDecision,
    SummarizeStep,
    decide_and_store,
    split_blocks,
)
from curation.run.video_index import VideoIndex
from curation.run.video_rows import video_rows, write_video_tables
from curation.run.video_watchdog import video_timeout_s
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from curation.telemetry.video_summary import VideoSummary, summarize_identity, summarize_outcome
from schemas.tables import ShardRow

ProgressCallback = Callable[[str, int, int], None]  # phase, done, total
# Hashing a local file is CPU-bound. At Ray's half a CPU (the executor's default for tasks) two ran
# on each CPU at once, each in a worker process of its own: one more process to start (1.3-1.7 s
# of CPU on this machine) while the analysis waits, on a one-CPU run.
IDENTIFY_RESOURCES = Resources(cpus=1)
READ_PAGE = 1000  # identities or outcomes read from the ledger at once (~2 MB; the readers kept busy)
VideoObserver = Callable[[VideoSummary], None]  # each video as it leaves a phase
FAULT_NAMES = (
    fault_counts.STORE_RETRIES, fault_counts.VIDEO_RESTARTS, fault_counts.WORKER_DEATHS, fault_counts.NODE_FAULTS,
    fault_counts.VIDEO_TIMEOUTS, fault_counts.FAILED_RETRIED, fault_counts.POOL_SETUP_DEATHS,
)  # fmt: skip


@dataclass
class RunRequest:
    input: str
    out: str
    workflow: Workflow
    executor: str = "ray"
    ray_address: str | None = None
    workers: int | None = None
    limit: int | None = None
    max_workers: int | None = None  # actors a pool may grow to on a cluster (default: what is there)
    inputs: list[str] | None = None  # the URIs ``input`` names, when the caller has listed them already
    retry_failed: bool = False  # run content failures again too (infrastructure ones always are)
    video_timeout_s: float | None = None  # the per-video watchdog (None: grows with the video)
    node_cache_gb: float | None = None  # each node's input cache bound (None: half its free disk)


@dataclass
class RunResult:
    out: str
    accounting: Accounting
    seconds_in: float
    seconds_out: float
    wall_s: float
    n_videos: int
    resumed_videos: int
    stage_seconds: dict[str, float] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)  # faults survived, by kind (fault_counts)


def run_pipeline(
    request: RunRequest, progress: ProgressCallback | None = None, on_video: VideoObserver | None = None
) -> RunResult:
    started = time.perf_counter()
    counts_before = fault_counts.snapshot()
    progress = progress or (lambda phase, done, total: None)
    on_video = on_video or (lambda summary: None)
    store = RunStore(request.out)
    ledger = Ledger(store)
    ledger.check_format()
    # listed before the first write: an --input that names nothing leaves no run.json behind
    uris = request.inputs if request.inputs is not None else discover_inputs(request.input, request.limit)
    info = RunInfo.open_or_create(store, request.workflow, request.input)
    store.remove_temporaries()
    executor = make_executor(request.executor, request.ray_address, request.workers, request.max_workers)

    with VideoIndex() as index:
        _identify(uris, ledger, executor, index, progress, on_video)
        resumed = len(index.videos_among(ledger.finished_video_ids(0)))
        run_stages = _run_blocks(request, store, ledger, executor, index, progress, on_video)
        last_block = len(split_blocks(request.workflow.stages)) - 1
        shard_rows = write_shards(request, store, executor, last_block, index, progress)
        accounting, tables, seconds_out = write_manifests(
            store, executor, uris, index, shard_rows, run_stages, last_block, progress
        )
        stage_seconds, seconds_in = _totals(index)
        n_videos = index.n_videos
    wall = time.perf_counter() - started
    faults = {name: fault_counts.since(counts_before).get(name, 0) for name in FAULT_NAMES}
    run_result = RunResult(
        out=request.out,
        accounting=accounting,
        seconds_in=seconds_in,
        seconds_out=seconds_out,
        wall_s=wall,
        n_videos=n_videos,
        resumed_videos=resumed,
        stage_seconds=stage_seconds,
        tables=dict(tables),
        faults=faults,
    )
    info.complete(
        accounting=accounting.__dict__,
        seconds_in=seconds_in,
        seconds_out=seconds_out,
        wall_s=wall,
        stage_seconds=stage_seconds,
        tables=run_result.tables,
        faults=faults,
        executor=request.executor,
    )
    executor.shutdown()
    return run_result


def _identify(
    uris: list[str], ledger: Ledger, executor: Executor, index: VideoIndex, progress: ProgressCallback,
    on_video: VideoObserver,
) -> None:
    """Every input's identity into ``index`` (read where an earlier attempt stored it, else made
    by a task), then each distinct video's primary URI."""
    index.add_inputs(uris)
    done = 0
    for page in pages(uris, READ_PAGE):
        known = [identity for identity in ledger.identities(page).values() if identity is not None]
        index.set_identities(known)
        done += len(known)
    progress("identify", done, len(uris))
    for identity in executor.map(identify_input, index.unidentified(), IDENTIFY_RESOURCES):
        ledger.save_identity(identity)
        on_video(summarize_identity(identity))
        index.set_identities([identity])
        done += 1
        progress("identify", done, len(uris))
    index.choose_primaries()


def _run_blocks(
    request: RunRequest,
    store: RunStore,
    ledger: Ledger,
    executor: Executor,
    index: VideoIndex,
    progress: ProgressCallback,
    on_video: VideoObserver,
) -> list[RunScopeStage]:
    """Run every block of per-video stages (each video's final outcome is left in ``index``);
    returns the run-scope stages."""
    blocks = split_blocks(request.workflow.stages)
    decision_step: ApplyStep | None = None
    run_stages: list[RunScopeStage] = []
    retried: set[str] = set()
    n_videos = index.n_videos
    cache_bytes = None if request.node_cache_gb is None else int(request.node_cache_gb * 1e9)
    for block, (video_stages, run_stage) in enumerate(blocks):
        final = block == len(blocks) - 1
        stages = ([decision_step] if decision_step else []) + list(video_stages)
        if run_stage is not None:
            stages.append(SummarizeStep(target=run_stage, block=block))
        index.start_block()  # what the next block needs of the last one's outcomes: their durations
        retried |= resume_block(ledger, index, block, request.retry_failed)
        names = tuple(stage.name for stage in stages)
        phase = "analyse" if block == 0 else f"block {block}"
        done = index.n_outcomes
        progress(phase, done, n_videos)
        todo = BlockTasks(index, VideoTask("", "", store.uri, block, final, names, node_cache_bytes=cache_bytes),
                          request.video_timeout_s)
        for outcome in executor.run_videos(stages, todo):
            on_video(summarize_outcome(phase, index.primary_uri(outcome.video_id), outcome, names, final))
            done += index.put_outcome(outcome.kept_by_driver())
            crash_point("video")
            progress(phase, done, n_videos)
        if run_stage is not None:
            # Every video's summary is in the run store now; the decision is made by one task
            # with the stage's CPUs (no GPU: it runs no model), never on the driver.
            decide = DecideRequest(
                run_stage, store.uri, block, tuple(index.video_ids()),
                failed_ids=tuple(index.with_outcome("failed")),
                later_blocks=tuple(range(block + 1, len(blocks))),
                later_stages=tuple(s.name for _, s in blocks[block + 1 :] if s is not None),
            )  # fmt: skip
            progress(f"{run_stage.name} (run-wide)", 0, 1)
            list(executor.map(decide_and_store, [decide], run_stage.decide_resources()))
            del decide  # its ids, once decided
            progress(f"{run_stage.name} (run-wide)", 1, 1)
            decision_step = ApplyStep(target=run_stage, load_decision=StoredDecision.of(store.uri, run_stage))
            run_stages.append(run_stage)
    fault_counts.count(fault_counts.FAILED_RETRIED, len(retried))
    return run_stages


class BlockTasks:
    """A block's video tasks, made from the index a page at a time as the executor takes them,
    biggest files first (``VideoIndex.largest_first``): the driver never holds them all."""

    def __init__(self, index: VideoIndex, template: VideoTask, chosen_timeout_s: float | None) -> None:
        self._index = index
        self._template = template  # the block's task, without a video
        self._chosen_timeout_s = chosen_timeout_s
        self._n = index.n_without_outcome

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[VideoTask]:
        for video_id, uri, size, duration in self._index.largest_first():
            # the watchdog's limit grows with the video: its duration once a block probed it, else its size
            timeout = video_timeout_s(self._chosen_timeout_s, size, duration)
            yield replace(self._template, uri=uri, video_id=video_id, timeout_s=timeout)


def resume_block(ledger: Ledger, index: VideoIndex, block: int, retry_failed: bool) -> set[str]:
    """The outcomes an earlier attempt stored for this block into ``index``, a page at a time,
    except those a resumed run runs again (``VideoOutcome.retried_on_resume``); returns the ids of
    those run again."""
    retry: set[str] = set()
    for page in pages(index.videos_among(ledger.finished_video_ids(block)), READ_PAGE):
        outcomes = ledger.outcomes(page, block, for_driver=True)
        kept = [o for o in outcomes.values() if o is not None and not o.retried_on_resume(retry_failed)]
        index.put_outcomes(kept)
        retry.update(set(page) - {o.video_id for o in kept})
    return retry


def write_shards(
    request: RunRequest, store: RunStore, executor: Executor, block: int, index: VideoIndex,
    progress: ProgressCallback,
) -> list[ShardRow] | None:
    source = next((s for s in request.workflow.stages if hasattr(s, "shard_settings")), None)
    if source is None:
        return None
    settings = source.shard_settings()
    # the kept videos' ids travel in the request, which nothing here keeps once the plan is made
    plan = PlanRequest(store.uri, block, tuple(index.with_outcome("kept", with_samples=True)), settings)
    planned = next(iter(executor.map(make_plan, [plan], PACK_RESOURCES)))
    del plan
    progress("shards", 0, len(planned))
    rows = []
    packs = [PackRequest(store.uri, block, shard, settings) for shard in planned]
    for row in executor.map(pack_shard, packs, PACK_RESOURCES):
        rows.append(row)
        progress("shards", len(rows), len(planned))
    return sorted(rows, key=lambda r: r.path or "")


def write_manifests(
    store: RunStore,
    executor: Executor,
    uris: list[str],
    index: VideoIndex,
    shard_rows: list[ShardRow] | None,
    run_stages: list[RunScopeStage],
    block: int,
    progress: ProgressCallback,
) -> tuple[Accounting, dict[str, int], float]:
    """Write every manifest: (accounting, rows per table, kept seconds over the videos table)."""
    # A resumed run writes every part again; parts of an earlier attempt must not linger.
    store.remove(MANIFEST_DIR)
    # Before anything is written: an input without its row publishes no manifest. The rows are
    # made from the index twice, here and to write them, never held all at once.
    accounting = check_accounting(uris, video_rows(index))
    n_videos, n_rejections, seconds_out = write_video_tables(store, index)
    tables: dict[str, int] = {"videos": n_videos, "rejections": n_rejections}
    n_parts = part_count(index.n_outcomes)
    progress("manifests", 0, n_parts)
    parts = part_requests(store.uri, block, index.with_outcome())
    for i, counts in enumerate(executor.map(write_part, parts)):
        for table, n in counts.items():
            tables[table] = tables.get(table, 0) + n
        progress("manifests", i + 1, n_parts)
    for counts in executor.map(write_run_table, [RunTableRequest(store.uri, s) for s in run_stages]):
        tables.update(counts)
    if shard_rows is not None:
        tables["shards"] = write_manifest(store, "shards", shard_rows).num_rows
    return accounting, tables, seconds_out


def _totals(index: VideoIndex) -> tuple[dict[str, float], float]:
    """(seconds per stage, seconds of input video) over the videos' final outcomes."""
    stage_seconds: dict[str, float] = {}
    seconds_in = 0.0
    for outcome in index.outcomes():
        for stage, seconds in outcome.timings.items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + seconds
        seconds_in += outcome.duration_s
    return stage_seconds, seconds_in
