"""Put time-stamped speech measurements onto the video's frame grid.

Frame ``i`` of a video analysed at ``fps`` covers ``[i / fps, (i + 1) / fps)``. Audio models give
values on their own grid (Silero: one per 32 ms window) or as time intervals (speech, speaker
turns); both are integrated exactly over each frame rather than sampled at frame centres, so a
short word at a frame edge still counts for the frame it falls in.
"""

from collections.abc import Sequence

import numpy as np


def frame_edges(fps: float, n_frames: int) -> np.ndarray:
    """``n_frames + 1`` frame boundaries in seconds."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return np.arange(n_frames + 1, dtype=np.float64) / fps


def frame_means(
    values: np.ndarray, step_s: float, fps: float, n_frames: int, end_s: float | None = None
) -> np.ndarray:
    """Mean over each video frame of a piecewise-constant series (``values[k]`` on
    ``[k * step_s, (k + 1) * step_s)``, 0 after the last step or after ``end_s``, where the
    signal the series was measured on ends), weighted by overlap."""
    values = np.asarray(values, dtype=np.float64)
    knots = np.arange(len(values) + 1, dtype=np.float64) * step_s
    if end_s is not None:
        knots = np.minimum(knots, end_s)
    integral = np.concatenate([[0.0], np.cumsum(values * np.diff(knots))])
    at_edges = np.interp(frame_edges(fps, n_frames), knots, integral)  # constant past the end
    return (np.diff(at_edges) * fps).astype(np.float32)


def interval_coverage(
    intervals: Sequence[tuple[float, float]], fps: float, n_frames: int
) -> np.ndarray:
    """Fraction of each video frame covered by the union of ``intervals`` (seconds)."""
    edges = frame_edges(fps, n_frames)
    covered = np.zeros(n_frames + 1, dtype=np.float64)
    for t_start, t_end in merge_intervals(intervals):
        covered += np.clip(edges - t_start, 0.0, t_end - t_start)
    return np.clip(np.diff(covered) * fps, 0.0, 1.0).astype(np.float32)


def merge_intervals(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping union of ``intervals``; empty ones are dropped."""
    merged: list[tuple[float, float]] = []
    for t_start, t_end in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if merged and t_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], t_end))
        else:
            merged.append((t_start, t_end))
    return merged
