"""Write the per-video manifest tables in parts, each part by a task over a group of videos.

Every ``MANIFEST_PART_VIDEOS`` videos (in sorted id order) make one part of ``shots``,
``tracks``, ``segments`` (with each sample's shard from the shard plan), ``pairs`` and the
entity ``rejections``; the task reads those rows from the videos' final records in the run
store. Run-scope tables (identities, references) are written by a task per stage from its
stored decision. Part names follow from the sorted ids, so a rerun writes the same files.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from curation.dataset.shard_phase import read_plan
from curation.manifests.manifest_writer import write_manifest
from curation.run.paging import pages
from curation.run.run_scope_steps import StoredDecision
from curation.runtime.run_scope_stage import RunScopeStage
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore

MANIFEST_PART_VIDEOS = 500
VIDEO_TABLES = ("shots", "tracks", "segments", "pairs", "rejections")


@dataclass(frozen=True)
class PartRequest:
    run_uri: str
    block: int
    part: int
    video_ids: tuple[str, ...]


@dataclass(frozen=True)
class RunTableRequest:
    run_uri: str
    stage: RunScopeStage


def part_requests(run_uri: str, block: int, sorted_ids: Iterable[str]) -> Iterator[PartRequest]:
    """A request per ``MANIFEST_PART_VIDEOS`` videos (one, empty, for none), made as they are
    taken: the driver never holds them all."""
    part = -1
    for part, page in enumerate(pages(sorted_ids, MANIFEST_PART_VIDEOS)):
        yield PartRequest(run_uri, block, part, tuple(page))
    if part < 0:
        yield PartRequest(run_uri, block, 0, ())


def part_count(n_videos: int) -> int:
    return max(1, math.ceil(n_videos / MANIFEST_PART_VIDEOS))


def write_part(request: PartRequest) -> dict[str, int]:
    """Rows per table written for this group of videos."""
    store = RunStore(request.run_uri)
    ledger = Ledger(store)
    plan = read_plan(store)
    locations = plan.locations() if plan else {}
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in VIDEO_TABLES}
    records = ledger.records_fields(request.video_ids, request.block, dict.fromkeys(VIDEO_TABLES, list[dict[str, Any]]))
    for video_id in request.video_ids:
        fields = records[video_id] or {}
        for table in VIDEO_TABLES:
            found = fields.get(table) or []
            if table == "segments":
                found = [_placed(segment, locations) for segment in found]
            rows[table].extend(found)
    part = f"{request.part:05d}"
    return {table: write_manifest(store, table, table_rows, part).num_rows for table, table_rows in rows.items()}


def _placed(segment: dict[str, Any], locations: dict[str, str]) -> dict[str, Any]:
    """The segment with its sample's shard and key (both null when it has no sample)."""
    shard = locations.get(segment.get("key") or "")
    return {**segment, "shard": shard, "key": segment.get("key") if shard else None}


def write_run_table(request: RunTableRequest) -> dict[str, int]:
    store = RunStore(request.run_uri)
    decision = StoredDecision.of(request.run_uri, request.stage, whole=True)()
    return {
        table: write_manifest(store, table, rows).num_rows
        for table, rows in request.stage.manifest_rows(decision).items()
    }
