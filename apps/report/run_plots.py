"""The plots of a run report, each a PNG (base64) ready to embed: the page needs no network."""

import base64
import io
from collections import defaultdict
from typing import Any

from apps.report.run_figures import RunFigures

STATE_COLOURS = {"speaking": "#d62728", "listening": "#1f77b4", "idle": "#7f7f7f", "kept": "#2ca02c",
                 "rejected": "#ff7f0e", "failed": "#9467bd"}
ENTITY_COLOURS = {"video": "#8c564b", "shot": "#e377c2", "track": "#17becf", "segment": "#bcbd22"}


def _png(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def rejections_plot(plt: Any, figures: RunFigures) -> Any:
    rows = figures.breakdowns.get("rejections", [])
    per_reason: dict[str, dict[str, int]] = defaultdict(dict)
    for stage, reason, entity, n in rows:
        per_reason[f"{stage}: {reason}"][entity] = n
    labels = sorted(per_reason, key=lambda k: sum(per_reason[k].values()))
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * max(len(labels), 2) + 1.2))
    if not labels:
        _empty(ax, "nothing was rejected")
    left = [0] * len(labels)
    for entity, colour in ENTITY_COLOURS.items():
        counts = [per_reason[label].get(entity, 0) for label in labels]
        if any(counts):
            ax.barh(labels, counts, left=left, color=colour, label=entity)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    if labels:
        ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel("rejected items")
    ax.set_title("rejections by stage and reason")
    return fig


def stage_time_plot(plt: Any, figures: RunFigures) -> Any:
    stages = figures.stage_seconds
    names = sorted(stages, key=stages.get)
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * max(len(names), 2) + 1.2))
    if not names:
        _empty(ax, "no stage timings recorded")
    else:
        total = sum(stages.values()) or 1.0
        ax.barh(names, [stages[n] for n in names], color="#a74")
        for i, name in enumerate(names):
            ax.text(stages[name], i, f" {100 * stages[name] / total:.0f}%", va="center", fontsize=8)
        ax.set_xlabel("seconds, summed over videos")
    ax.set_title("where the time went, by stage")
    return fig


def throughput_plot(plt: Any, figures: RunFigures) -> Any:
    points = figures.timeline
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    if len(points) < 2:
        _empty(ax, "no metrics.jsonl timeline (run predates it)")
    else:
        minutes = [p["elapsed_s"] / 60 for p in points]
        ax.plot(minutes, [p["input_hours"] for p in points], color="#47a", marker=".", label="input hours analysed")
        ax.set_xlabel("wall-clock minutes")
        ax.set_ylabel("hours of video")
        other = ax.twinx()
        other.step(minutes, [p["videos"] for p in points], where="post", color="#2ca02c", label="videos settled")
        other.set_ylabel("videos settled")
        span_h = max(minutes[-1], 1e-9) / 60
        ax.set_title(f"throughput over time: {points[-1]['input_hours'] / span_h:.2f} h of video per wall hour")
        ax.legend(loc="upper left", fontsize=8)
        other.legend(loc="lower right", fontsize=8)
    return fig


def hours_plot(plt: Any, figures: RunFigures) -> Any:
    hours_in = dict(figures.breakdowns.get("hours_in_by_state", []))
    hours_out = {state: hours for state, hours, _n in figures.breakdowns.get("hours_out_by_state", [])}
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    for row, parts in ((1, hours_in), (0, hours_out)):
        left = 0.0
        for state in sorted(parts):
            ax.barh(row, parts[state], left=left, color=STATE_COLOURS.get(state, "#999"), label=state)
            if parts[state]:
                ax.text(left + parts[state] / 2, row, f"{state}\n{parts[state]:.4f} h", ha="center", va="center",
                        fontsize=7, color="white")
            left += parts[state]
    ax.set_yticks([1, 0], ["video in\n(by input state)", "training out\n(by segment state)"])
    ax.set_xlabel("hours")
    ax.set_title("hours in vs training hours out")
    return fig


def identity_plot(plt: Any, figures: RunFigures) -> Any:
    rows = figures.breakdowns.get("identity_sizes", [])[:30]
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    if not rows:
        _empty(ax, "no segments")
    else:
        ax.bar(range(len(rows)), [seconds for _i, _n, seconds in rows], color="#7a5")
        ax.set_xticks(range(len(rows)), [identity[-8:] for identity, _n, _s in rows], rotation=60, fontsize=7)
        ax.set_ylabel("seconds of segments")
        ax.set_title(f"training material per identity ({len(figures.breakdowns['identity_sizes'])} identities)")
    return fig


def segment_length_plot(plt: Any, figures: RunFigures) -> Any:
    lengths: dict[str, list[float]] = defaultdict(list)
    for state, seconds in figures.breakdowns.get("segment_lengths", []):
        lengths[state].append(seconds)
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    if not lengths:
        _empty(ax, "no segments")
    else:
        states = sorted(lengths)
        ax.hist([lengths[s] for s in states], bins=20, stacked=True, label=states,
                color=[STATE_COLOURS.get(s, "#999") for s in states])
        ax.set_xlabel("segment length, seconds")
        ax.set_ylabel("segments")
        ax.legend(fontsize=8)
    ax.set_title("segment lengths by state")
    return fig


PLOTS = (
    ("rejections", rejections_plot),
    ("stage_time", stage_time_plot),
    ("throughput", throughput_plot),
    ("hours", hours_plot),
    ("identities", identity_plot),
    ("segment_lengths", segment_length_plot),
)


def render_plots(figures: RunFigures) -> list[tuple[str, str]]:
    """(plot name, base64 PNG) for every plot, in page order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return [(name, _png(make(plt, figures))) for name, make in PLOTS]
