"""The numbers of a run report, each with the SQL that gives it, so any of them can be re-asked
with ``lpm-curate query`` (the report shows the query beside the number).

Manifests are read only through the DuckDB catalog; the timeline and the time per stage come from
``OUT/metrics.jsonl`` (``run.json``'s sums when a run predates it).
"""

from dataclasses import dataclass, field
from typing import Any

from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.run.run_info import RunDocument, read_run_info
from curation.store.run_store import RunStore
from curation.telemetry.metrics_log import final_totals, last_of_each_session, read_metrics_log

# name -> (what it is, SQL returning one value); tables a run lacks are skipped
FIGURE_QUERIES: dict[str, tuple[str, str]] = {
    "inputs": ("inputs", "SELECT count(*) FROM videos"),
    "kept": ("inputs kept", "SELECT count(*) FROM videos WHERE state = 'kept'"),
    "rejected": ("inputs rejected", "SELECT count(*) FROM videos WHERE state = 'rejected'"),
    "failed": ("inputs failed", "SELECT count(*) FROM videos WHERE state = 'failed'"),
    "hours_in": ("hours of video in (distinct videos)",
                 "SELECT round(coalesce(sum(duration_s), 0) / 3600, 4) FROM videos WHERE duplicate_of IS NULL"),
    "hours_out": ("hours of training material out",
                  "SELECT round(coalesce(sum(t_end - t_start), 0) / 3600, 4) FROM segments"),
    "segments": ("segments (samples)", "SELECT count(*) FROM segments"),
    "rejection_rows": ("rejected shots, tracks, segments and videos", "SELECT count(*) FROM rejections"),
    "identities": ("identities", "SELECT count(*) FROM identities"),
}

BREAKDOWN_QUERIES: dict[str, str] = {
    "rejections": "SELECT stage, reason, entity, count(*) AS n FROM rejections GROUP BY ALL ORDER BY n DESC, 1, 2, 3",
    "hours_in_by_state": "SELECT state, coalesce(sum(duration_s), 0) / 3600 AS hours FROM videos "
                         "WHERE duplicate_of IS NULL GROUP BY 1 ORDER BY 1",
    "hours_out_by_state": "SELECT state, sum(t_end - t_start) / 3600 AS hours, count(*) AS n FROM segments "
                          "GROUP BY 1 ORDER BY 1",
    "segment_lengths": "SELECT state, t_end - t_start AS seconds FROM segments ORDER BY 1, 2",
    "identity_sizes": "SELECT coalesce(identity_id, '(none)') AS identity, count(*) AS n, "
                      "sum(t_end - t_start) AS seconds FROM segments GROUP BY 1 ORDER BY seconds DESC, 1",
}


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    sql: str
    value: Any


@dataclass(frozen=True)
class PoolFigure:
    """One actor pool on one node, over the whole run (every session)."""

    pool: str
    node: str
    videos: float
    busy_s: float  # actor-seconds spent on videos
    videos_per_min: float  # per minute of the run's wall time
    peak_queued: float  # the pool's longest queue seen (all nodes)

    @property
    def videos_per_actor_min(self) -> float:
        """Videos per busy actor-minute: one actor's speed in this pool, whatever the pool's size."""
        return 60 * self.videos / self.busy_s if self.busy_s else 0.0


@dataclass
class RunFigures:
    out: str
    figures: list[Figure] = field(default_factory=list)
    breakdowns: dict[str, list[tuple]] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    timeline: list[dict[str, float]] = field(default_factory=list)  # elapsed_s, input_hours, videos
    run_info: RunDocument | None = None
    pools: list[PoolFigure] = field(default_factory=list)


def _tables_of(sql: str, tables: list[str]) -> bool:
    words = sql.replace("(", " ").replace(")", " ").split()
    return all(words[i + 1] in tables for i, w in enumerate(words[:-1]) if w.upper() == "FROM")


def gather(out: str) -> RunFigures:
    store = RunStore(out)
    tables = manifest_names(store)
    result = RunFigures(out=out, run_info=read_run_info(store))
    with open_catalog(store) as con:
        for name, (label, sql) in FIGURE_QUERIES.items():
            if _tables_of(sql, tables):
                result.figures.append(Figure(name, label, sql, con.execute(sql).fetchone()[0]))
        for name, sql in BREAKDOWN_QUERIES.items():
            result.breakdowns[name] = con.execute(sql).fetchall() if _tables_of(sql, tables) else []
    lines = read_metrics_log(store)
    totals = final_totals(lines)
    result.stage_seconds = {
        dict(labels)["stage"]: value for (name, labels), value in totals.items() if name == "lpm_stage_seconds_total"
    } or (dict(result.run_info.stage_seconds) if result.run_info else {})
    result.timeline = _timeline(lines)
    result.pools = pool_figures(lines)
    return result


def pool_figures(lines: list[dict[str, Any]]) -> list[PoolFigure]:
    """Per pool and node: videos, busy actor-seconds, videos per wall minute, and the pool's peak
    queue (``curation/telemetry/pool_metrics.py``), from ``metrics.jsonl``."""
    totals = final_totals(lines)
    wall_min = sum(line["elapsed_s"] for line in last_of_each_session(lines)) / 60
    peaks: dict[str, float] = {}
    for line in lines:
        for gauge in line.get("gauges", []):
            if gauge["name"] == "lpm_pool_queued":
                pool = gauge["labels"]["pool"]
                peaks[pool] = max(peaks.get(pool, 0.0), gauge["value"])
    figures = []
    for (name, labels), videos in sorted(totals.items()):
        if name != "lpm_pool_videos_total":
            continue
        pool, node = dict(labels)["pool"], dict(labels)["node"]
        busy = totals.get(("lpm_pool_busy_seconds_total", labels), 0.0)
        figures.append(PoolFigure(pool, node, videos, busy, videos / wall_min if wall_min else 0.0,
                                  peaks.get(pool, 0.0)))
    return figures


def _timeline(lines: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Cumulative input hours and videos over wall-clock time, sessions laid end to end."""
    points: list[dict[str, float]] = []
    offset_s, base_hours, base_videos = 0.0, 0.0, 0.0
    sessions = [line["session"] for line in last_of_each_session(lines)]
    for session in sessions:
        hours = videos = elapsed = 0.0
        for line in (line for line in lines if line["session"] == session):
            counters = {c["name"]: c for c in line["counters"] if not c["labels"]}
            hours = counters.get("lpm_input_seconds_total", {"value": 0.0})["value"] / 3600
            videos = sum(c["value"] for c in line["counters"] if c["name"] == "lpm_videos_total")
            elapsed = line["elapsed_s"]
            points.append({"elapsed_s": offset_s + elapsed, "input_hours": base_hours + hours,
                           "videos": base_videos + videos})
        offset_s, base_hours, base_videos = offset_s + elapsed, base_hours + hours, base_videos + videos
    return points
