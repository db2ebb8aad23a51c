"""Cheap per-frame quality measures on a small thumbnail, averaged per shot later.

Sharpness is the variance of the Laplacian on a 256-px grey image (blur and heavy compression
lower it); colourfulness is Hasler and Suesstrunk's metric; borders are rows/columns at the edges
that are near black and flat (letterbox, pillarbox: a dark stage or backdrop is dark but textured,
and is picture); motion is the mean absolute difference to the previous thumbnail, and a frame is
"frozen" when that difference is below half a grey level.
"""

import math

import cv2
import numpy as np

QUALITY_NAMES: tuple[str, ...] = (
    "sharpness",
    "brightness",
    "contrast",
    "colorfulness",
    "border_frac",
    "motion",
    "frozen",
    "noise",
)
_BLACK_LUMA = 20.0
# Letterbox bars are flat: digital black varies by a grey level or two of compression noise along a
# row or column. The dark curtain at the edge of a TED stage varies by 3.8-4.8 (on the 128-px
# thumbnail measured here); with mean luma alone it was counted as 69% border and the talk rejected
# as low quality.
_BAR_MAX_STD = 3.0
# A repeated frame differs from the previous one by compression noise only; a still talking head
# still moves more than this (mean absolute difference on the grey thumbnail, 0..255).
FROZEN_MAX_DIFF = 0.15
# Immerkaer's fast noise estimator: a Laplacian-difference kernel cancels smooth image structure.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


class FrameQualityMeter:
    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def follow(self, thumbnail_rgb: np.ndarray) -> None:
        """The frame just before the next one measured, unmeasured itself: a pass that measures
        every few frames keeps motion and frozen frames about one frame step, as at full rate."""
        self._previous = cv2.cvtColor(thumbnail_rgb, cv2.COLOR_RGB2GRAY)

    def measure(self, thumbnail_rgb: np.ndarray, sharpness_grey: np.ndarray) -> np.ndarray:
        # cv2's reductions on integer images instead of numpy's on floats: this runs on every
        # analysis frame the fine pass sees (0.77 ms -> 0.45 ms a frame, the same values).
        grey = cv2.cvtColor(thumbnail_rgb, cv2.COLOR_RGB2GRAY)
        sharpness = float(cv2.meanStdDev(cv2.Laplacian(sharpness_grey, cv2.CV_16S))[1][0, 0] ** 2)
        r, g, b = cv2.split(thumbnail_rgb)
        rg = cv2.subtract(r, g, dtype=cv2.CV_16S)
        # yb = (r + g) / 2 - b, kept doubled in whole numbers and halved after the reduction
        yb2 = cv2.subtract(cv2.add(r, g, dtype=cv2.CV_16S), cv2.add(b, b, dtype=cv2.CV_16S), dtype=cv2.CV_16S)
        (rg_mean, rg_std), (yb2_mean, yb2_std) = (_mean_std(rg), _mean_std(yb2))
        colorfulness = math.hypot(rg_std, yb2_std / 2) + 0.3 * math.hypot(rg_mean, yb2_mean / 2)
        grey_mean, grey_std = _mean_std(grey)
        if self._previous is None or self._previous.shape != grey.shape:
            motion = 0.0
            frozen = 0.0
        else:
            motion = float(cv2.mean(cv2.absdiff(grey, self._previous))[0])
            frozen = float(motion < FROZEN_MAX_DIFF)
        self._previous = grey
        return np.array(
            [
                sharpness, grey_mean, grey_std, colorfulness, _border_fraction(grey), motion, frozen,
                _noise_sigma(sharpness_grey),
            ],
            dtype=np.float32,
        )


def _mean_std(image: np.ndarray) -> tuple[float, float]:
    mean, std = cv2.meanStdDev(image)
    return float(mean[0, 0]), float(std[0, 0])


def _noise_sigma(grey: np.ndarray) -> float:
    """Standard deviation of the image noise in grey levels (Immerkaer 1996)."""
    height, width = grey.shape
    if height < 3 or width < 3:
        return 0.0
    # int16 holds every response of this kernel on 8-bit input (at most 16 * 255) and is faster.
    response = cv2.filter2D(grey, cv2.CV_16S, _NOISE_KERNEL)[1:-1, 1:-1]
    mean_abs = cv2.norm(response, cv2.NORM_L1) / response.size
    return float(np.sqrt(np.pi / 2) * mean_abs / 6.0)


def _border_fraction(grey: np.ndarray) -> float:
    row_means = cv2.reduce(grey, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    col_means = cv2.reduce(grey, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    edges = (row_means[0], row_means[-1], col_means[0], col_means[-1])
    if min(edges) >= _BLACK_LUMA:
        return 0.0  # no dark line at any edge (most frames): no bar, and no flatness to measure
    squares = cv2.multiply(grey, grey, dtype=cv2.CV_32F)
    rows = _bar_lines(row_means, cv2.reduce(squares, 1, cv2.REDUCE_AVG).ravel())
    cols = _bar_lines(col_means, cv2.reduce(squares, 0, cv2.REDUCE_AVG).ravel())
    if rows.all() or cols.all():
        return 1.0  # an all-black frame is all border
    top = int(np.argmin(rows))
    bottom = int(np.argmin(rows[::-1]))
    left = int(np.argmin(cols))
    right = int(np.argmin(cols[::-1]))
    h, w = grey.shape
    kept = (h - top - bottom) * (w - left - right)
    return float(1.0 - kept / (h * w))


def _bar_lines(means: np.ndarray, mean_squares: np.ndarray) -> np.ndarray:
    """Per line: whether it looks like a bar, near black and flat."""
    std = np.sqrt(np.maximum(mean_squares - means * means, 0.0))
    return (means < _BLACK_LUMA) & (std <= _BAR_MAX_STD)
