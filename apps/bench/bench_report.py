"""A small HTML report with plots for ``bench pipeline``: accuracy and speed at a glance."""

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

STATES = ("idle", "speaking", "listening")


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _plots(report: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = []
    if report.get("state_confusion"):
        fig, ax = plt.subplots(figsize=(4, 3.4))
        confusion = np.array(report["state_confusion"], dtype=float)
        rows = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(3), STATES)
        ax.set_yticks(range(3), STATES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("truth")
        for (i, j), v in np.ndenumerate(rows):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v > 0.5 else "black")
        ax.set_title("per-frame state (row-normalised)")
        plots.append(("state confusion", _png(fig)))
        plt.close(fig)
    accuracy = {
        k: report.get(k)
        for k in (
            "shot_f1",
            "track_recall",
            "state_accuracy",
            "pair_precision",
            "identity_precision",
            "identity_recall",
        )
    }
    accuracy = {k: v for k, v in accuracy.items() if v is not None}
    if accuracy:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.barh(list(accuracy), list(accuracy.values()), color="#4a7")
        ax.axvline(0.95, color="red", linestyle="--", label="target 0.95")
        ax.set_xlim(0, 1)
        ax.legend(loc="lower right")
        ax.set_title("accuracy against ground truth")
        plots.append(("accuracy", _png(fig)))
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 2.2))
    ax.barh(
        ["decode floor", "pipeline"], [report["decode_floor_seconds"], report["wall_seconds"]], color=["#999", "#47a"]
    )
    ax.set_xlabel("wall seconds")
    ax.set_title(f"{report['video_seconds']:.0f} s of video, {report['workers']} worker(s)")
    plots.append(("speed", _png(fig)))
    plt.close(fig)
    stages = report.get("stage_seconds") or {}
    if stages:
        fig, ax = plt.subplots(figsize=(6, 0.35 * len(stages) + 1))
        names = sorted(stages, key=stages.get)
        ax.barh(names, [stages[n] for n in names], color="#a74")
        ax.set_xlabel("CPU-side seconds summed over videos")
        ax.set_title("where the time goes")
        plots.append(("stage time", _png(fig)))
        plt.close(fig)
    return plots


def write_report(report: dict[str, Any], path: Path) -> None:
    images = "".join(
        f"<figure><img alt='{html.escape(t)}' src='data:image/png;base64,{png}'><figcaption>{html.escape(t)}"
        f"</figcaption></figure>"
        for t, png in _plots(report)
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>lpm-curate bench pipeline</title>"
        "<style>body{font-family:sans-serif;margin:1em}figure{display:inline-block;margin:8px}</style></head>"
        f"<body><h1>bench pipeline</h1>{images}<h2>figures</h2><pre>{html.escape(json.dumps(report, indent=1))}"
        "</pre></body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
