"""The run's counters and histograms: one small fixed set, fed by each video as it leaves a phase.

The same values go to every sink (Ray's Prometheus metrics when Ray runs, ``OUT/metrics.jsonl``
always), so a dashboard and a run without one read the same numbers. The set is closed and
named like Prometheus metrics (``_total`` for counters, base units: seconds, bytes); label
values are stage names, states and reason codes, all from closed lists, so the number of
series stays small however long the run.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any, Protocol

from curation.telemetry.video_summary import VideoSummary

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: str  # counter | histogram | gauge
    help: str
    labels: tuple[str, ...] = ()
    boundaries: tuple[float, ...] = ()


STAGE_SECONDS_BOUNDARIES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)

METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("lpm_videos_done_total", "counter", "videos that left a phase in this session", ("phase",)),
        MetricSpec("lpm_videos_total", "counter", "distinct inputs settled as kept, rejected or failed", ("state",)),
        MetricSpec("lpm_input_seconds_total", "counter", "seconds of input video analysed"),
        MetricSpec("lpm_rejections_total", "counter", "rows of the rejections manifest",
                   ("entity", "stage", "reason")),
        MetricSpec("lpm_segments_total", "counter", "segments kept, by state", ("state",)),
        MetricSpec("lpm_segment_seconds_total", "counter", "seconds of training material, by state", ("state",)),
        MetricSpec("lpm_stage_seconds_total", "counter", "seconds spent in a stage, summed over videos", ("stage",)),
        MetricSpec("lpm_stage_seconds", "histogram", "seconds one video spent in a stage", ("stage",),
                   STAGE_SECONDS_BOUNDARIES),
        MetricSpec("lpm_bytes_written_total", "counter", "bytes written: encoded samples, shards", ("kind",)),
        # The actor pools (curation/telemetry/pool_metrics.py): what an autoscaler or an operator
        # scales on. Node label values are node IPs, as many as the cluster has nodes.
        MetricSpec("lpm_pool_queued", "gauge", "videos waiting for a free actor of the pool", ("pool",)),
        MetricSpec("lpm_pool_actors", "gauge",
                   "the pool's actors: busy (on a video), idle (up and free), starting (placed or waiting for "
                   "resources, setup not done)", ("pool", "state")),
        MetricSpec("lpm_pool_videos_total", "counter", "videos a pool's actors finished, by node", ("pool", "node")),
        MetricSpec("lpm_pool_busy_seconds_total", "counter", "seconds the pool's actors spent on videos, by node",
                   ("pool", "node")),
    )
}


class MetricSink(Protocol):
    def inc(self, spec: MetricSpec, labels: dict[str, str], value: float) -> None: ...

    def observe(self, spec: MetricSpec, labels: dict[str, str], value: float) -> None: ...

    def set(self, spec: MetricSpec, labels: dict[str, str], value: float) -> None: ...


@dataclass
class Histogram:
    boundaries: tuple[float, ...]
    buckets: list[int] = field(default_factory=list)  # per upper boundary, then +Inf; not cumulative
    count: int = 0
    sum: float = 0.0

    def observe(self, value: float) -> None:
        if not self.buckets:
            self.buckets = [0] * (len(self.boundaries) + 1)
        self.buckets[bisect_left(self.boundaries, value)] += 1
        self.count += 1
        self.sum += value


class RunMetrics:
    """Cumulative values for this session, mirrored to every sink as they change."""

    def __init__(self, sinks: list[MetricSink] | None = None) -> None:
        self.sinks = list(sinks or [])
        self.counters: dict[tuple[str, Labels], float] = {}
        self.histograms: dict[tuple[str, Labels], Histogram] = {}
        self.gauges: dict[tuple[str, Labels], float] = {}

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        if value <= 0:
            return  # counters only go up, and a zero would create a series for nothing
        spec = METRICS[name]
        key = (name, _labels(spec, labels))
        self.counters[key] = self.counters.get(key, 0.0) + value
        for sink in self.sinks:
            sink.inc(spec, labels, value)

    def observe(self, name: str, value: float, **labels: str) -> None:
        spec = METRICS[name]
        key = (name, _labels(spec, labels))
        self.histograms.setdefault(key, Histogram(spec.boundaries)).observe(value)
        for sink in self.sinks:
            sink.observe(spec, labels, value)

    def set(self, name: str, value: float, **labels: str) -> None:
        """A gauge: the value now (a queue's length, actors in a state)."""
        spec = METRICS[name]
        key = (name, _labels(spec, labels))
        if self.gauges.get(key) == value:
            return
        self.gauges[key] = value
        for sink in self.sinks:
            sink.set(spec, labels, value)

    def record(self, summary: VideoSummary) -> None:
        self.inc("lpm_videos_done_total", phase=summary.phase)
        if summary.first_phase:
            self.inc("lpm_input_seconds_total", summary.duration_s)
        if summary.final_state:
            self.inc("lpm_videos_total", state=summary.final_state)
        for (entity, stage, reason), n in sorted(summary.rejections.items()):
            self.inc("lpm_rejections_total", n, entity=entity, stage=stage, reason=reason)
        for stage, seconds in sorted(summary.stage_seconds.items()):
            self.inc("lpm_stage_seconds_total", seconds, stage=stage)
            self.observe("lpm_stage_seconds", seconds, stage=stage)
        for state, lengths in sorted(summary.segment_seconds.items()):
            self.inc("lpm_segments_total", len(lengths), state=state)
            self.inc("lpm_segment_seconds_total", sum(lengths), state=state)
        self.inc("lpm_bytes_written_total", summary.sample_bytes, kind="samples")

    def total(self, name: str, **labels: str) -> float:
        """Sum over every series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, lab), v in self.counters.items() if n == name and wanted <= set(lab))

    def snapshot(self) -> dict[str, Any]:
        return {
            "counters": [{"name": n, "labels": dict(lab), "value": v} for (n, lab), v in sorted(self.counters.items())],
            "histograms": [
                {"name": n, "labels": dict(lab), "boundaries": list(h.boundaries), "buckets": h.buckets,
                 "count": h.count, "sum": h.sum}
                for (n, lab), h in sorted(self.histograms.items())
            ],
            "gauges": [{"name": n, "labels": dict(lab), "value": v} for (n, lab), v in sorted(self.gauges.items())],
        }


def _labels(spec: MetricSpec, labels: dict[str, str]) -> Labels:
    if set(labels) != set(spec.labels):
        raise KeyError(f"{spec.name} takes labels {spec.labels}, got {sorted(labels)}")
    return tuple((k, str(labels[k])) for k in spec.labels)
