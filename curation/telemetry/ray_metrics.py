"""The run's metrics as Ray metrics: Prometheus format on each node's metrics endpoint.

Ray's dashboard and its Grafana panels read them from there; names get Ray's ``ray_`` prefix
(``ray_lpm_videos_total``). The driver records them as videos stream out of the executor, so
they move while the run goes. At the end the endpoint is read back and its ``ray_lpm_`` families
saved as ``OUT/metrics.prom``, a snapshot of exactly what Prometheus would have scraped.

Ray exports a histogram's ``_sum`` from bucket midpoints (an observation of 2.5 s in the 1-3 s
bucket adds 2 s), so exact totals are the ``lpm_stage_seconds_total`` counter; the histogram is
for the distribution (its ``_count`` and buckets are exact).
"""

import time
import urllib.request
from typing import Any

from curation.store.run_store import RunStore
from curation.telemetry.run_metrics import MetricSpec, RunMetrics

RAY_PREFIX = "ray_"
SNAPSHOT_FILE = "metrics.prom"


class RayMetricsSink:
    """Forwards each increment and observation to ``ray.util.metrics`` objects, made on first use."""

    def __init__(self) -> None:
        self._metrics: dict[str, Any] = {}

    def _metric(self, spec: MetricSpec) -> Any:
        from ray.util import metrics

        if spec.name not in self._metrics:
            if spec.kind == "counter":
                self._metrics[spec.name] = metrics.Counter(spec.name, description=spec.help, tag_keys=spec.labels)
            elif spec.kind == "gauge":
                self._metrics[spec.name] = metrics.Gauge(spec.name, description=spec.help, tag_keys=spec.labels)
            else:
                self._metrics[spec.name] = metrics.Histogram(
                    spec.name, description=spec.help, boundaries=list(spec.boundaries), tag_keys=spec.labels
                )
        return self._metrics[spec.name]

    def inc(self, spec: MetricSpec, labels: dict[str, str], value: float) -> None:
        self._metric(spec).inc(value, tags=labels or None)

    def observe(self, spec: MetricSpec, labels: dict[str, str], value: float) -> None:
        self._metric(spec).observe(value, tags=labels or None)

    def set(self, spec: MetricSpec, labels: dict[str, str], value: float) -> None:
        self._metric(spec).set(value, tags=labels or None)


def metrics_endpoint() -> str | None:
    """The Prometheus endpoint of the node this driver runs on (None without a metrics agent)."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    for node in ray.nodes():
        if node.get("NodeID") == node_id and int(node.get("MetricsExportPort") or -1) > 0:
            return f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
    return None


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # Ray's own endpoint
        return response.read().decode("utf-8")


def lpm_families(text: str) -> str:
    """Only the ``ray_lpm_`` metric families (with their HELP/TYPE lines) of an endpoint's text."""
    keep = []
    for line in text.splitlines():
        comment = line.startswith(("# HELP ", "# TYPE "))
        name = line.split(" ")[2] if comment else line.split("{", 1)[0].split(" ", 1)[0]
        if name.startswith(RAY_PREFIX + "lpm_"):
            keep.append(line)
    return "\n".join(keep) + "\n"


def parse_counters(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(metric name without Ray's prefix, our labels) -> value, for counters and histogram counts."""
    from prometheus_client.parser import text_string_to_metric_families

    from curation.telemetry.run_metrics import METRICS

    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name.removeprefix(RAY_PREFIX)
            base = name.removesuffix("_count")
            spec = METRICS.get(name) or METRICS.get(base)
            if spec is None or spec.kind == "gauge" or (spec.kind == "histogram" and not name.endswith("_count")):
                continue
            labels = tuple((k, sample.labels.get(k, "")) for k in spec.labels)
            values[(name, labels)] = values.get((name, labels), 0.0) + float(sample.value)
    return values


def expected_counters(metrics: RunMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    expected = dict(metrics.counters)
    for (name, labels), histogram in metrics.histograms.items():
        expected[(f"{name}_count", labels)] = float(histogram.count)
    return expected


def matches(found: dict, expected: dict) -> bool:
    return all(abs(found.get(key, 0.0) - value) <= 1e-6 * max(1.0, abs(value)) for key, value in expected.items())


def export_snapshot(store: RunStore, metrics: RunMetrics, timeout_s: float = 30.0) -> bool:
    """Save the endpoint's ``ray_lpm_`` families once they show every value recorded (or at the
    timeout: Ray reports every few seconds); True when they did."""
    url = metrics_endpoint()
    if url is None:
        return False
    expected = expected_counters(metrics)
    deadline = time.monotonic() + timeout_s
    text = ""
    while True:
        try:
            text = lpm_families(scrape(url))
        except OSError:
            text = ""
        if text.strip() and matches(parse_counters(text), expected):
            store.write_bytes(SNAPSHOT_FILE, text.encode())
            return True
        if time.monotonic() > deadline:
            store.write_bytes(SNAPSHOT_FILE, text.encode())
            return False
        time.sleep(1.0)
