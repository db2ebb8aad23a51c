"""What ``bench validity`` reports of each fitted rule: the held-out figure that says what the rule is
for, found in the report and written as a share with its Wilson interval (the command's tables and the
comments of ``--write-workflow``'s file read the same figures)."""

from typing import Any

# Per rule: the path in its report (``pooled_held_out``, each fold, ``shipped.pooled``) to the figure that
# says what the rule must keep.
RULE_FIGURES: dict[str, tuple[str, ...]] = {
    "lip_sync_verdict": ("frames", "recall"),
    "mouth_motion_threshold": ("recall",),
    "performer_filter": ("talking_head_clips_kept",),
    "cascade_skip_margin": ("recall",),
}


def figure_at(figures: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        figures = figures[key]
    return figures


def share_text(row: dict[str, Any], missing: str = "-") -> str:
    """``fraction [low, high] (n/of)``; ``missing`` where nothing was measured."""
    if row["fraction"] is None:
        return missing
    low, high = row["wilson95"]
    return f"{row['fraction']:.3f} [{low:.3f}, {high:.3f}] ({row['n']}/{row['of']})"
