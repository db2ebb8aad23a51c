"""Per-frame signal series with gaps: fill short gaps, smooth, and threshold into runs.

Face signals are NaN on frames without a face. A gap of a few frames is a detector miss and is
interpolated; a longer one is real absence and splits the series, so nothing is invented there.
Smoothing is Savitzky-Golay (a local polynomial fit), which removes landmark jitter while keeping
the height and timing of peaks better than a moving average of the same length.
"""

import itertools

import numpy as np
from scipy.signal import savgol_filter


def finite_spans(x: np.ndarray) -> list[tuple[int, int]]:
    """``(first, end)`` of each run of finite values."""
    ok = np.concatenate([[False], np.isfinite(x), [False]])
    edges = np.flatnonzero(np.diff(ok.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def fill_short_gaps(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate NaN runs of at most ``max_gap`` frames that have a value on both sides."""
    out = np.asarray(x, dtype=np.float64).copy()
    spans = finite_spans(out)
    for (_a0, a1), (b0, _b1) in itertools.pairwise(spans):
        if b0 - a1 <= max_gap:
            out[a1 - 1 : b0 + 1] = np.linspace(out[a1 - 1], out[b0], b0 - a1 + 2)
    return out


def odd_window(fps: float, seconds: float, minimum: int = 5) -> int:
    n = max(minimum, int(round(seconds * fps)))
    return n if n % 2 else n + 1


def smooth(x: np.ndarray, fps: float, window_s: float = 0.2, polyorder: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing of each finite span; spans shorter than the window stay as they are."""
    out = np.asarray(x, dtype=np.float64).copy()
    window = odd_window(fps, window_s)
    for first, end in finite_spans(out):
        if end - first >= window:
            out[first:end] = savgol_filter(out[first:end], window, polyorder)
    return out


def hysteresis_runs(score: np.ndarray, enter: float, leave: float, min_frames: int) -> list[tuple[int, int]]:
    """Runs that reach ``enter`` and last while the score stays >= ``leave``; NaN ends a run.

    Two thresholds stop a score hovering at one threshold from flickering into many tiny runs.
    """
    above_leave = np.nan_to_num(score, nan=-np.inf) >= leave
    above_enter = np.nan_to_num(score, nan=-np.inf) >= enter
    runs = []
    for first, end in finite_spans(np.where(above_leave, 1.0, np.nan)):
        if above_enter[first:end].any() and end - first >= min_frames:
            runs.append((first, end))
    return runs


def margin_confidence(value: float, threshold: float, full: float) -> float:
    """0.5 at the threshold rising linearly to 1 at ``full`` (and down to 0 as far below)."""
    span = max(abs(full - threshold), 1e-9)
    return float(np.clip(0.5 + 0.5 * (value - threshold) / span, 0.0, 1.0))


def robust_noise(x: np.ndarray, smoothed: np.ndarray, floor: float) -> float:
    """Scale of the jitter around the smoothed series (1.4826 x median absolute residual)."""
    residual = np.abs(x - smoothed)
    residual = residual[np.isfinite(residual)]
    return max(floor, 1.4826 * float(np.median(residual))) if residual.size else floor
