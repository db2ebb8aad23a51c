"""One curation run: identify inputs, run the per-video stages, write shards and manifests.

Phases, each resumable from the ledger in the run store:
1. identify: every input URI gets a content id (or a reason it cannot be read);
2. blocks of per-video stages over each distinct video (a file under two names is processed
   once); workers read and write each video's record in the run store and send the driver a
   small outcome; between blocks, a run-scope stage decides in a task of its own;
3. shards: a task plans them, a task per shard packs it;
4. manifests: a task per group of videos writes its part of each table; the driver writes the
   videos table from the outcomes, then ``inputs = kept + rejected + failed`` is checked.
The driver holds ids, outcomes and counts: its memory does not grow with the videos' content.

A resumed run runs again every video whose recorded failure was an infrastructure one (the store,
a disk, a worker that kept dying, the watchdog); ``retry_failed`` runs content failures again too.
The faults a run survived (store retries, videos started over, timeouts) are counted in every
process, gathered here and stored in ``run.json`` (``fault_counts``).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from curation.config.workflow import Workflow
from curation.dataset.shard_phase import PACK_RESOURCES, PackRequest, PlanRequest, make_plan, pack_shard
from curation.execution.executor import Executor
from curation.execution.ray_executor import make_executor
from curation.execution.video_task import VideoTask
from curation.faults import fault_counts
from curation.faults.crash_points import crash_point
from curation.ingest.content_id import InputIdentity, identify_input
from curation.ingest.discovery import discover_inputs
from curation.manifests.manifest_writer import MANIFEST_DIR, write_manifest
from curation.run.accounting import Accounting, check_accounting
from curation.run.manifest_phase import RunTableRequest, part_requests, write_part, write_run_table
from curation.run.run_info import RunInfo
from curation.run.run_scope_steps import (
    ApplyStep,
    DecideRequest,
    StoredDecision,
    SummarizeStep,
    decide_and_store,
    split_blocks,
)
from curation.run.video_rows import as_dicts, video_rejection_row, video_row
from curation.run.video_watchdog import video_timeout_s
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_outcome import VideoOutcome
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from curation.telemetry.video_summary import VideoSummary, summarize_identity, summarize_outcome

ProgressCallback = Callable[[str, int, int], None]  # phase, done, total
# Hashing a local file is CPU-bound. At Ray's half a CPU (the executor's default for tasks) two ran
# on each CPU at once, each in a worker process of its own: one more process to start (1.3-1.7 s
# of CPU on this machine) while the analysis waits, on a one-CPU run.
IDENTIFY_RESOURCES = Resources(cpus=1)
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

    identities = _identify(uris, ledger, executor, progress, on_video)
    primaries = _primary_uris(identities)
    resumed = ledger.finished_video_ids(0) & set(primaries)
    outcomes, run_stages = _run_blocks(request, store, ledger, executor, identities, primaries, progress, on_video)
    last_block = len(split_blocks(request.workflow.stages)) - 1
    shard_rows = write_shards(request, store, executor, last_block, outcomes, progress)
    accounting, tables, video_rows = write_manifests(
        store, executor, uris, identities, primaries, outcomes, shard_rows, run_stages, last_block, progress
    )
    stage_seconds: dict[str, float] = {}
    for outcome in outcomes.values():
        for stage, seconds in outcome.timings.items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + seconds
    seconds_in = sum(o.duration_s for o in outcomes.values())
    seconds_out = sum(r["kept_seconds"] or 0.0 for r in video_rows)
    wall = time.perf_counter() - started
    faults = {name: fault_counts.since(counts_before).get(name, 0) for name in FAULT_NAMES}
    run_result = RunResult(
        out=request.out,
        accounting=accounting,
        seconds_in=seconds_in,
        seconds_out=seconds_out,
        wall_s=wall,
        n_videos=len(primaries),
        resumed_videos=len(resumed),
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


def _run_blocks(
    request: RunRequest,
    store: RunStore,
    ledger: Ledger,
    executor: Executor,
    identities: dict[str, InputIdentity],
    primaries: dict[str, str],
    progress: ProgressCallback,
    on_video: VideoObserver,
) -> tuple[dict[str, VideoOutcome], list[RunScopeStage]]:
    """Run every block of per-video stages: (each video's final outcome, the run-scope stages)."""
    blocks = split_blocks(request.workflow.stages)
    decision_step: ApplyStep | None = None
    run_stages: list[RunScopeStage] = []
    outcomes: dict[str, VideoOutcome] = {}
    retried: set[str] = set()
    for block, (video_stages, run_stage) in enumerate(blocks):
        final = block == len(blocks) - 1
        stages = ([decision_step] if decision_step else []) + list(video_stages)
        if run_stage is not None:
            stages.append(SummarizeStep(target=run_stage, block=block))
        done = ledger.finished_video_ids(block) & set(primaries)
        # what the next block needs of the last one's outcomes (its watchdog limits), not the outcomes
        earlier = {video_id: outcome.duration_s for video_id, outcome in outcomes.items()}
        outcomes = {}
        for video_id, outcome in sorted(ledger.outcomes(done, block, for_driver=True).items()):
            if outcome is not None and not outcome.retried_on_resume(request.retry_failed):
                outcomes[video_id] = outcome
        retry = done - set(outcomes)
        retried |= retry
        names = tuple(stage.name for stage in stages)
        todo = [
            VideoTask(
                uri, video_id, store.uri, block, final, names,
                timeout_s=_timeout(request, identities[uri], earlier.get(video_id)),
                node_cache_bytes=None if request.node_cache_gb is None else int(request.node_cache_gb * 1e9),
            )
            for video_id, uri in _largest_first(primaries, identities)
            if video_id not in outcomes
        ]  # fmt: skip
        phase = "analyse" if block == 0 else f"block {block}"
        progress(phase, len(outcomes), len(primaries))
        for outcome in executor.run_videos(stages, todo):
            on_video(summarize_outcome(phase, primaries[outcome.video_id], outcome, names, final))
            outcomes[outcome.video_id] = outcome.kept_by_driver()
            crash_point("video")
            progress(phase, len(outcomes), len(primaries))
        if run_stage is not None:
            # Every video's summary is in the run store now; the decision is made by one task
            # with the stage's CPUs (no GPU: it runs no model), never on the driver.
            decide = DecideRequest(
                run_stage, store.uri, block, tuple(sorted(primaries)),
                failed_ids=tuple(sorted(v for v, o in outcomes.items() if o.state == "failed")),
                later_blocks=tuple(range(block + 1, len(blocks))),
                later_stages=tuple(s.name for _, s in blocks[block + 1 :] if s is not None),
            )  # fmt: skip
            progress(f"{run_stage.name} (run-wide)", 0, 1)
            list(executor.map(decide_and_store, [decide], run_stage.decide_resources()))
            progress(f"{run_stage.name} (run-wide)", 1, 1)
            decision_step = ApplyStep(target=run_stage, load_decision=StoredDecision(store.uri, run_stage.name))
            run_stages.append(run_stage)
    fault_counts.count(fault_counts.FAILED_RETRIED, len(retried))
    return outcomes, run_stages


def write_shards(
    request: RunRequest, store: RunStore, executor: Executor, block: int, outcomes: dict[str, VideoOutcome],
    progress: ProgressCallback,
) -> list[dict[str, Any]] | None:
    source = next((s for s in request.workflow.stages if hasattr(s, "shard_settings")), None)
    if source is None:
        return None
    with_samples = tuple(sorted(v for v, o in outcomes.items() if o.state == "kept" and o.n_samples))
    plan_request = PlanRequest(store.uri, block, with_samples, source.shard_settings())
    planned = next(iter(executor.map(make_plan, [plan_request], PACK_RESOURCES)))
    progress("shards", 0, len(planned))
    rows = []
    packs = [PackRequest(store.uri, block, shard, plan_request.settings) for shard in planned]
    for row in executor.map(pack_shard, packs, PACK_RESOURCES):
        rows.append(row)
        progress("shards", len(rows), len(planned))
    return sorted(rows, key=lambda r: r["path"])


def _identify(
    uris: list[str], ledger: Ledger, executor: Executor, progress: ProgressCallback, on_video: VideoObserver
) -> dict[str, InputIdentity]:
    known = ledger.identities(uris)
    todo = [uri for uri, identity in known.items() if identity is None]
    done = len(uris) - len(todo)
    progress("identify", done, len(uris))
    for identity in executor.map(identify_input, todo, IDENTIFY_RESOURCES):
        ledger.save_identity(identity)
        on_video(summarize_identity(identity))
        known[identity.uri] = identity
        done += 1
        progress("identify", done, len(uris))
    return {uri: identity for uri, identity in known.items() if identity is not None}


def _timeout(request: RunRequest, identity: InputIdentity, duration: float | None) -> float:
    """The video's watchdog limit: the one asked for, or one that grows with the video (its
    duration once a block has probed it, its size before)."""
    return video_timeout_s(request.video_timeout_s, identity.size_bytes, duration)


def _largest_first(primaries: dict[str, str], identities: dict[str, InputIdentity]) -> list[tuple[str, str]]:
    """Biggest files first (ties by id): workers finish close together instead of one worker
    starting the longest video last while the others sit idle (longest-processing-time-first)."""
    return sorted(primaries.items(), key=lambda item: (-(identities[item[1]].size_bytes or 0), item[0]))


def _primary_uris(identities: dict[str, InputIdentity]) -> dict[str, str]:
    """video_id -> the first URI (in sorted order) with that content."""
    primaries: dict[str, str] = {}
    for uri in sorted(identities):
        video_id = identities[uri].video_id
        if video_id and video_id not in primaries:
            primaries[video_id] = uri
    return primaries


def write_manifests(
    store: RunStore,
    executor: Executor,
    uris: list[str],
    identities: dict[str, InputIdentity],
    primaries: dict[str, str],
    outcomes: dict[str, VideoOutcome],
    shard_rows: list[dict[str, Any]] | None,
    run_stages: list[RunScopeStage],
    block: int,
    progress: ProgressCallback,
) -> tuple[Accounting, dict[str, int], list[dict[str, Any]]]:
    """Write every manifest: (accounting, rows per table, the videos table's rows)."""
    # A resumed run writes every part again; parts of an earlier attempt must not linger.
    store.remove(MANIFEST_DIR)
    video_rows, rejection_rows = [], []
    for uri in uris:
        identity = identities[uri]
        outcome = outcomes.get(identity.video_id) if identity.video_id else None
        row = video_row(uri, identity, primaries.get(identity.video_id or ""), outcome)
        video_rows.append(row)
        is_primary = identity.video_id is None or primaries.get(identity.video_id) == uri
        if row.state != "kept" and is_primary:
            rejection_rows.append(video_rejection_row(uri, identity, row))
    video_dicts = as_dicts(video_rows)
    accounting = check_accounting(uris, video_dicts)
    tables: dict[str, int] = {
        "videos": write_manifest(store, "videos", video_rows).num_rows,
        "rejections": write_manifest(store, "rejections", rejection_rows, part="videos").num_rows,
    }
    parts = part_requests(store.uri, block, [v for v in primaries if v in outcomes])
    progress("manifests", 0, len(parts))
    for i, counts in enumerate(executor.map(write_part, parts)):
        for table, n in counts.items():
            tables[table] = tables.get(table, 0) + n
        progress("manifests", i + 1, len(parts))
    for counts in executor.map(write_run_table, [RunTableRequest(store.uri, s) for s in run_stages]):
        tables.update(counts)
    if shard_rows is not None:
        tables["shards"] = write_manifest(store, "shards", shard_rows).num_rows
    return accounting, tables, video_dicts

