"""A picture of ``bench scale``: how each phase's seconds and the driver's memory grow with N.

Two panels on log-log axes, one line per phase (the run-wide barriers solid, the rest dashed) and
the driver's peak RSS; a dotted guide of slope 1 shows what linear growth looks like, so a phase
that grows faster than the run stands out at a glance.
"""

from pathlib import Path
from typing import Any


def write_scale_plot(report: dict[str, Any], path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a cluster head node
    import matplotlib.pyplot as plt

    counts = sorted(int(n) for n in report["per_n"])
    rows = [report["per_n"][str(n)] for n in counts]
    barriers = set(rows[-1].get("barrier_stages", []))
    phases = sorted({p for row in rows for p in row["phase_seconds"]})
    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for phase in phases:
        seconds = [row["phase_seconds"].get(phase) for row in rows]
        if all(s is not None and s > 0 for s in seconds):
            times.plot(counts, seconds, "-o" if phase in barriers else "--o", label=phase, markersize=3)
    if len(counts) > 1:
        first = max((row["phase_seconds"].get(p, 0) for row in rows[:1] for p in phases), default=1.0) or 1.0
        times.plot(counts, [first * n / counts[0] for n in counts], ":", color="grey", label="linear in N")
    times.axhline(600, color="red", linewidth=0.8, label="10 min barrier target")
    on_s3 = report.get("store") in ("s3", "s3-files")
    where = f"S3 at {report.get('latency_ms', 0):.0f} ms a request" if on_s3 else "local disk"
    times.set(xscale="log", yscale="log", xlabel="videos", ylabel="seconds", title=f"phases ({where})")
    times.legend(fontsize=7)
    memory.plot(counts, [row["driver_peak_rss_mb"] for row in rows], "-o", label="driver peak RSS")
    memory.set(xscale="log", xlabel="videos", ylabel="MB", title="driver memory")
    memory.legend(fontsize=7)
    figure.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
