"""``lpm-curate export``: the segments a query selects, as a new self-contained dataset.

The export is a run directory of its own: shards with indexes (each sample's members copied byte
for byte from the source shard, read through the source index and checked against its SHA-256),
the manifests restricted to the selection, and a ``run.json`` naming the source run, the query
and the review filter. Readers, ``query`` and ``status --verify`` treat it like any run.

Deterministic: samples go in segment-id order through the same shard writer as a run, into shards
planned from the source index sizes (``shard_plan``), and ``run.json`` carries no clock, so the same
request gives the same bytes. Resumable: ``run.json`` is written first with the request and state
``running``; a re-run of the same request removes a killed attempt's temporaries, keeps each shard
already committed whole with its planned samples, and writes the rest; a different request into
the same folder is refused. A selection of no segments is refused before anything is written.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from curation.dataset.shard_reader import read_sample
from curation.dataset.shard_writer import (
    SHARDS_DIR,
    ShardSettings,
    ShardWriter,
    committed_shards,
    shard_name,
    staging_folder,
)
from curation.export.selected_manifests import write_selected_manifests
from curation.export.shard_plan import PlannedSample, committed_shard, plan_shards
from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.review_verdicts import item_decisions, read_verdicts
from curation.manifests.where_filter import check_where
from curation.run.run_info import RUN_FILE, RunDocument, read_run_info
from curation.store.run_store import RunStore
from schemas.tables import ShardRow
from schemas.version import SCHEMA_VERSION


class ExportError(RuntimeError):
    """The export cannot start: no source run, or the destination holds something else."""


@dataclass(frozen=True)
class ExportRequest:
    source: str
    dest: str
    where: str
    shard_bytes: int = 1_000_000_000
    exclude_rejected_by_review: bool = False


@dataclass(frozen=True)
class ExportResult:
    dest: str
    selected: int  # segments the query selected
    excluded_by_review: int
    exported: int  # samples written
    shards: int


def export_dataset(request: ExportRequest) -> ExportResult:
    source = RunStore(request.source)
    dest = RunStore(request.dest)
    if os.path.abspath(source.root) == os.path.abspath(dest.root) and source.remote == dest.remote:
        raise ExportError("--to is the source run itself; export into a new folder")
    info = read_run_info(source)
    if info is None or "segments" not in manifest_names(source):
        raise ExportError(f"{request.source} is not a finished run (no run.json or no segments manifest)")
    with open_catalog(source) as con:
        predicate = check_where(con, request.where)
        selected = con.execute(
            f"SELECT segment_id, shard, key FROM segments WHERE key IS NOT NULL AND {predicate} ORDER BY segment_id"
        ).fetchall()
    rejected = set()
    verdicts = read_verdicts(source) if request.exclude_rejected_by_review else []
    if request.exclude_rejected_by_review:
        rejected = {item for item, decision in item_decisions(verdicts).items() if decision == "reject"}
    chosen = [row for row in selected if row[0] not in rejected]
    if not chosen:
        # refused before _claim writes anything: an empty dataset is no dataset
        raise ExportError(_nothing_selected(request, len(selected)))
    description = _describe(request, source, info, chosen, selected, verdicts)
    _claim(dest, description)
    shard_rows, locations = _write_shards(source, dest, chosen, request.shard_bytes)
    write_selected_manifests(source, dest, [row[0] for row in chosen], shard_rows, locations)
    description.update(state="complete", shards=len(shard_rows))
    dest.write_bytes(RUN_FILE, json.dumps(description, indent=2, sort_keys=True).encode())
    return ExportResult(request.dest, len(selected), len(selected) - len(chosen), len(chosen), len(shard_rows))


def _nothing_selected(request: ExportRequest, selected: int) -> str:
    if selected:
        return (f"all {selected} segments --where selects are rejected by review; nothing to export "
                f"(nothing was written to {request.dest})")
    return (f"--where {request.where!r} selects no segments with a sample; nothing to export "
            f"(nothing was written to {request.dest})")


def _describe(request: ExportRequest, source: RunStore, info: RunDocument, chosen: list[tuple],
              selected: list[tuple], verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    keys = "\n".join(row[2] for row in chosen).encode()
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "export",
        "state": "running",
        "source": {"run": source.uri if source.remote else source.root, "workflow_fingerprint":
                   info.workflow_fingerprint, "state": info.state},
        "query": request.where,
        "review_filter": {
            "exclude_rejected_by_review": request.exclude_rejected_by_review,
            "verdicts_read": len(verdicts),
            "excluded_segments": sorted({row[0] for row in selected} - {row[0] for row in chosen}),
        },
        "shard_bytes": request.shard_bytes,
        "selection": {"segments": len(chosen), "keys_sha256": hashlib.sha256(keys).hexdigest()},
        # status shows the workflow; it is the source's, since the samples are the source's
        "workflow": info.workflow,
        "workflow_fingerprint": info.workflow_fingerprint,
    }


def _claim(dest: RunStore, description: dict[str, Any]) -> None:
    """Write the request as ``run.json``; refuse a folder that holds another dataset or request."""
    existing = read_run_info(dest)
    if existing is not None:
        same = {k: v for k, v in existing.document.items() if k not in ("state", "shards")} == {
            k: v for k, v in description.items() if k not in ("state", "shards")}
        if not same:
            raise ExportError(f"{dest.uri} already holds another run or export; choose an empty --to")
    elif any(True for _ in dest.list("")):  # committed entries only: temporaries of a killed write don't count
        raise ExportError(f"{dest.uri} is not empty; choose an empty --to")
    dest.remove_temporaries()
    dest.write_bytes(RUN_FILE, json.dumps(description, indent=2, sort_keys=True).encode())


def _write_shards(source: RunStore, dest: RunStore, chosen: list[tuple],
                  shard_bytes: int) -> tuple[list[ShardRow], dict[str, str]]:
    """Copy each sample into the planned shards, keeping those a killed attempt already committed:
    (shards manifest rows, key -> shard path in the export)."""
    plan = plan_shards(source, [PlannedSample(*row) for row in chosen], shard_bytes)
    planned = {f"{SHARDS_DIR}/{shard_name('', n)}" for n in range(len(plan))}
    for relative in committed_shards(dest):  # files no shard of this plan owns
        if relative.rsplit(".", 1)[0] + ".tar" not in planned:
            dest.remove(relative)
    with staging_folder(dest) as staging:
        rows, locations = [], {}
        for number, samples in enumerate(plan):
            row = committed_shard(dest, number, samples)
            if row is None:
                # the plan decided which samples the shard holds and its number
                row = ShardWriter(dest, ShardSettings(), staging).write_shard(
                    "", number, ((s.key, read_sample(source, s.source_shard, s.key)) for s in samples)
                )
            rows.append(row)
            locations.update({sample.key: row.path or "" for sample in samples})
    return rows, locations
