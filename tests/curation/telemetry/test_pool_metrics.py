"""Pool metrics: the gauges and counters a pool sets, and what the Prometheus endpoint of a real
run shows while it goes (the shared smoke run: embedded Ray, 2 CPUs, 5 inputs)."""

import json

import pytest

from curation.telemetry import pool_metrics
from curation.telemetry.pool_metrics import PoolCounts
from curation.telemetry.run_metrics import RunMetrics


class Recorded:
    """A sink keeping every call, as Ray's sink would receive them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], float]] = []

    def inc(self, spec, labels, value):
        self.calls.append(("inc", spec.name, labels, value))

    def observe(self, spec, labels, value):
        self.calls.append(("observe", spec.name, labels, value))

    def set(self, spec, labels, value):
        self.calls.append(("set", spec.name, labels, value))


def test_gauges_and_counters_while_recording_and_nothing_outside():
    pool_metrics.sample([PoolCounts("probe", 3, 1, 0, 1)], force=True)
    pool_metrics.finished("probe", "10.0.0.2", 2.5)  # no recording: dropped
    sink = Recorded()
    metrics = RunMetrics([sink])
    with pool_metrics.recording(metrics):
        pool_metrics.sample([PoolCounts("probe", 3, 1, 0, 1), PoolCounts("asr", 0, 0, 2, 0)])
        pool_metrics.sample([PoolCounts("probe", 9, 9, 9, 9)])  # within SAMPLE_EVERY_S: skipped
        pool_metrics.finished("probe", "10.0.0.2", 2.5)
        pool_metrics.finished("probe", "10.0.0.2", 1.5)
        pool_metrics.finished("probe", "10.0.0.3", 4.0)
        pool_metrics.closed(["probe", "asr"])
    pool_metrics.finished("probe", "10.0.0.2", 2.5)
    gauges = {(name, tuple(sorted(labels.items()))): value for kind, name, labels, value in sink.calls
              if kind == "set"}
    assert ("lpm_pool_queued", (("pool", "probe"),)) in gauges
    sets = [(name, labels, value) for kind, name, labels, value in sink.calls if kind == "set"]
    assert sets[:4] == [
        ("lpm_pool_queued", {"pool": "probe"}, 3),
        ("lpm_pool_actors", {"pool": "probe", "state": "busy"}, 1),
        ("lpm_pool_actors", {"pool": "probe", "state": "idle"}, 0),
        ("lpm_pool_actors", {"pool": "probe", "state": "starting"}, 1),
    ]
    assert 9 not in [value for _name, _labels, value in sets]
    # closed: every value back to 0 (only the ones that changed are sent again)
    assert all(v == 0 for v in metrics.gauges.values())
    assert metrics.total("lpm_pool_videos_total", pool="probe") == 3
    assert metrics.total("lpm_pool_videos_total", node="10.0.0.2") == 2
    assert metrics.total("lpm_pool_busy_seconds_total", pool="probe", node="10.0.0.2") == pytest.approx(4.0)
    snapshot = json.loads(json.dumps(metrics.snapshot()))
    assert {"name": "lpm_pool_actors", "labels": {"pool": "asr", "state": "idle"}, "value": 0} in snapshot["gauges"]


def test_a_gauge_takes_exactly_its_labels():
    with pytest.raises(KeyError, match="takes labels"):
        RunMetrics().set("lpm_pool_actors", 1, pool="probe")


@pytest.mark.slow
def test_the_prometheus_endpoint_shows_the_pool_gauges_during_a_run(smoke_run):
    seen = [scrape for scrape in smoke_run.pool_scrapes if scrape]
    assert seen, f"no pool gauge in {len(smoke_run.pool_scrapes)} scrapes"
    pools = {dict(labels)["pool"] for scrape in seen for (_name, labels) in scrape}
    states = {dict(labels).get("state") for scrape in seen for (name, labels) in scrape if name == "lpm_pool_actors"}
    assert pools and states == {"busy", "idle", "starting"}
    busy = max(v for scrape in seen for (name, labels), v in scrape.items() if dict(labels).get("state") == "busy")
    # one video per actor: never more busy actors than inputs (actors may take less than a CPU)
    assert 1 <= busy <= len(list(smoke_run.inputs.iterdir()))
    lines = [json.loads(line) for line in (smoke_run.out / "metrics.jsonl").read_text().splitlines()]
    assert any(g["name"] == "lpm_pool_queued" for line in lines for g in line["gauges"])
