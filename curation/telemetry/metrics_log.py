"""``OUT/metrics.jsonl``: the run's metrics over time, for runs without a dashboard and for the report.

One JSON line per snapshot of the cumulative values: every few seconds while videos finish, at
each phase change and at the end. A resumed run appends lines of a new ``session``; each
session's values start at zero and count only what that session did, so a run's totals are the
sum of each session's last line (``final_totals``).
"""

import json
import time
from pathlib import Path
from typing import Any

from curation.store.run_store import RunStore
from curation.telemetry.run_metrics import RunMetrics

METRICS_LOG = "metrics.jsonl"


class MetricsLog:
    def __init__(self, store: RunStore, metrics: RunMetrics, interval_s: float = 15.0) -> None:
        self.store = store
        self.metrics = metrics
        self.interval_s = interval_s
        self.session = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.started = time.monotonic()
        self._last_write = -float("inf")
        self._remote_lines: list[bytes] = []  # object stores cannot append: the file is rewritten

    def write(self, phase: str, extra: dict[str, Any] | None = None, force: bool = False) -> bool:
        """Append a snapshot when ``interval_s`` passed since the last (always with ``force``)."""
        now = time.monotonic()
        if not force and now - self._last_write < self.interval_s:
            return False
        self._last_write = now
        line = {
            "session": self.session,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "elapsed_s": round(now - self.started, 3),
            "phase": phase,
            **(extra or {}),
            **self.metrics.snapshot(),
        }
        data = (json.dumps(line, sort_keys=True) + "\n").encode()
        if self.store.remote:
            if not self._remote_lines and self.store.exists(METRICS_LOG):
                self._remote_lines.append(self.store.read_bytes(METRICS_LOG))
            self._remote_lines.append(data)
            self.store.write_bytes(METRICS_LOG, b"".join(self._remote_lines))
        else:
            path = Path(self.store.writable_path(METRICS_LOG))
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("ab") as f:
                f.write(data)
        return True


def read_metrics_log(store: RunStore) -> list[dict[str, Any]]:
    """Every snapshot, oldest first; a line cut short by a killed run is skipped."""
    if not store.exists(METRICS_LOG):
        return []
    lines = []
    for raw in store.read_bytes(METRICS_LOG).splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return lines


def last_of_each_session(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    for line in lines:
        last[line["session"]] = line
    return list(last.values())


def final_totals(lines: list[dict[str, Any]]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(counter name, labels) -> the run's total over all its sessions."""
    totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for line in last_of_each_session(lines):
        for counter in line["counters"]:
            key = (counter["name"], tuple(sorted(counter["labels"].items())))
            totals[key] = totals.get(key, 0.0) + counter["value"]
    return totals


def total(totals: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, lab), v in totals.items() if n == name and wanted <= set(lab))
