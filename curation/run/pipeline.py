"""One curation run: identify inputs, run the per-video stages, write manifests, check accounting.

Phases, each resumable from the ledger in the run directory:
1. identify: every input URI gets a content id (or a reason it cannot be read);
2. per-video stages over each distinct video (a file under two names is processed once), each
   finished video saved as soon as it streams out of the executor;
3. manifests from everything finished, then ``inputs = kept + rejected + failed`` is checked.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from curation.config.workflow import Workflow
from curation.dataset.shard_phase import pack_shards
from curation.dataset.shard_writer import ShardSettings
from curation.ingest.content_id import InputIdentity, identify_input
from curation.ingest.discovery import discover_inputs
from curation.manifests.manifest_writer import write_manifest
from curation.run.accounting import Accounting, check_accounting
from curation.run.crash_points import crash_point
from curation.run.ledger import Ledger
from curation.run.run_info import RunInfo
from curation.run.run_store import RunStore
from curation.run.video_rows import video_rejection_row, video_row
from curation.run.video_summary import VideoSummary, summarize_identity, summarize_work
from curation.runtime.ray_executor import make_executor
from curation.runtime.run_scope_stage import ApplyStep, SummarizeStep, split_blocks
from curation.runtime.video_work import VideoWork

ProgressCallback = Callable[[str, int, int], None]  # phase, done, total
VideoObserver = Callable[[VideoSummary], None]  # each video as it leaves a phase


@dataclass
class RunRequest:
    input: str
    out: str
    workflow: Workflow
    executor: str = "ray"
    ray_address: str | None = None
    workers: int | None = None
    limit: int | None = None


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


def run_pipeline(
    request: RunRequest, progress: ProgressCallback | None = None, on_video: VideoObserver | None = None
) -> RunResult:
    started = time.perf_counter()
    progress = progress or (lambda phase, done, total: None)
    on_video = on_video or (lambda summary: None)
    store = RunStore(request.out)
    info = RunInfo.open_or_create(store, request.workflow, request.input)
    store.remove_temporaries()
    ledger = Ledger(store)
    uris = discover_inputs(request.input, request.limit)
    executor = make_executor(request.executor, request.ray_address, request.workers)

    identities = _identify(uris, ledger, executor, progress, on_video)
    primaries = _primary_uris(identities)
    resumed = ledger.finished_video_ids(0) & set(primaries)
    last_block, run_rows = _run_blocks(request, ledger, executor, identities, primaries, progress, on_video)
    works = {video_id: ledger.finished_video(video_id, last_block) for video_id in primaries}
    shard_rows, locations = _shards(request, store, ledger, last_block, primaries, progress)
    accounting, tables, video_rows = _write_manifests(
        store, uris, identities, primaries, works, shard_rows, locations, run_rows
    )
    stage_seconds: dict[str, float] = {}
    for work in works.values():
        for stage, seconds in (work.timings if work else {}).items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + seconds
    seconds_in = sum(float(w.video.get("duration_s") or 0.0) for w in works.values() if w)
    seconds_out = sum(r["kept_seconds"] or 0.0 for r in video_rows)
    wall = time.perf_counter() - started
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
    )
    info.complete(
        accounting=accounting.__dict__,
        seconds_in=seconds_in,
        seconds_out=seconds_out,
        wall_s=wall,
        stage_seconds=stage_seconds,
        tables=run_result.tables,
        executor=request.executor,
    )
    executor.shutdown()
    return run_result


def _run_blocks(
    request: RunRequest,
    ledger: Ledger,
    executor: Any,
    identities: dict[str, InputIdentity],
    primaries: dict[str, str],
    progress: ProgressCallback,
    on_video: VideoObserver,
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """Run every block of per-video stages: (index of the last block, run-level manifest rows)."""
    blocks = split_blocks(request.workflow.stages)
    decision_step: ApplyStep | None = None
    run_rows: dict[str, list[dict[str, Any]]] = {}
    for block, (video_stages, run_stage) in enumerate(blocks):
        stages = ([decision_step] if decision_step else []) + list(video_stages)
        if run_stage is not None:
            stages.append(SummarizeStep(target=run_stage))
        done = ledger.finished_video_ids(block)
        todo = []
        for video_id, uri in _largest_first(primaries, identities):
            if video_id in done:
                continue
            if block == 0:
                todo.append(VideoWork(uri=uri, local_path=identities[uri].local_path or uri, video_id=video_id))
            else:
                todo.append(ledger.finished_video(video_id, block - 1))
        phase = "analyse" if block == 0 else f"block {block}"
        finished = len(primaries) - len(todo)
        progress(phase, finished, len(primaries))
        for work in executor.run_stages(stages, todo):
            if block == len(blocks) - 1 and work.state == "pending":
                work.state = "kept"
            ledger.save_video(work, block)
            on_video(summarize_work(phase, work, [stage.name for stage in stages], block == len(blocks) - 1))
            crash_point("video")
            finished += 1
            progress(phase, finished, len(primaries))
        if run_stage is not None:
            summaries = {vid: ledger.summaries(vid, block).get(run_stage.name) for vid in sorted(primaries)}
            decision = run_stage.decide(summaries)
            decision_step = ApplyStep(target=run_stage, decision=decision)
            for table, rows in run_stage.manifest_rows(decision).items():
                run_rows.setdefault(table, []).extend(rows)
    return len(blocks) - 1, run_rows


def _shards(
    request: RunRequest, store: RunStore, ledger: Ledger, block: int, primaries: dict[str, str],
    progress: ProgressCallback,
) -> tuple[list[dict[str, Any]] | None, dict[str, tuple[str, str]]]:
    samples = request.workflow.stage("samples")
    if samples is None:
        return None, {}
    settings = ShardSettings(target_bytes=samples.shard_target_bytes, bucket_by=list(samples.shard_bucket_by))
    progress("shards", 0, 1)
    rows, locations = pack_shards(store, ledger, block, list(primaries), settings)
    progress("shards", 1, 1)
    return rows, locations


def _identify(
    uris: list[str], ledger: Ledger, executor: Any, progress: ProgressCallback, on_video: VideoObserver
) -> dict[str, InputIdentity]:
    known = {uri: ledger.identity(uri) for uri in uris}
    todo = [uri for uri, identity in known.items() if identity is None]
    done = len(uris) - len(todo)
    progress("identify", done, len(uris))
    for identity in executor.map(identify_input, todo):
        ledger.save_identity(identity)
        on_video(summarize_identity(identity))
        known[identity.uri] = identity
        done += 1
        progress("identify", done, len(uris))
    return {uri: identity for uri, identity in known.items() if identity is not None}


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


def _write_manifests(
    store: RunStore,
    uris: list[str],
    identities: dict[str, InputIdentity],
    primaries: dict[str, str],
    works: dict[str, VideoWork | None],
    shard_rows: list[dict[str, Any]] | None,
    locations: dict[str, tuple[str, str]],
    run_rows: dict[str, list[dict[str, Any]]],
) -> tuple[Accounting, dict[str, int], list[dict[str, Any]]]:
    """Write every manifest: (accounting, rows per table, the videos table's rows)."""
    video_rows, rejection_rows = [], []
    for uri in uris:
        identity = identities[uri]
        work = works.get(identity.video_id) if identity.video_id else None
        row = video_row(uri, identity, primaries.get(identity.video_id or ""), work)
        video_rows.append(row)
        is_primary = identity.video_id is None or primaries.get(identity.video_id) == uri
        if row["state"] != "kept" and is_primary:
            rejection_rows.append(video_rejection_row(uri, identity, work, row))
    accounting = check_accounting(uris, video_rows)
    shots, tracks, segments, pairs = [], [], [], []
    for video_id in sorted(works):
        work = works[video_id]
        if work is None:
            continue
        rejection_rows.extend(work.rejections)
        shots.extend(work.shots)
        tracks.extend(work.tracks)
        pairs.extend(work.pairs)
        for segment in work.segments:
            shard, key = locations.get(segment.get("key") or "", (None, None))
            segments.append({**segment, "shard": shard, "key": key})
    tables: dict[str, int] = {
        "videos": write_manifest(store, "videos", video_rows).num_rows,
        "rejections": write_manifest(store, "rejections", rejection_rows).num_rows,
        "shots": write_manifest(store, "shots", shots).num_rows,
        "tracks": write_manifest(store, "tracks", tracks).num_rows,
        "segments": write_manifest(store, "segments", segments).num_rows,
        "pairs": write_manifest(store, "pairs", pairs).num_rows,
    }
    if shard_rows is not None:
        tables["shards"] = write_manifest(store, "shards", shard_rows).num_rows
    for table, rows in sorted(run_rows.items()):
        tables[table] = write_manifest(store, table, rows).num_rows
    return accounting, tables, video_rows
