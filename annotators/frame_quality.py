"""Cheap per-frame quality measures on a small thumbnail, averaged per shot later.

Sharpness is the variance of the Laplacian on a 256-px grey image (blur and heavy compression
lower it); colourfulness is Hasler and Suesstrunk's metric; borders are rows/columns at the edges
whose mean luma is near black (letterbox, pillarbox); motion is the mean absolute difference to
the previous thumbnail, and a frame is "frozen" when that difference is below half a grey level.
"""

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
# A repeated frame differs from the previous one by compression noise only; a still talking head
# still moves more than this (mean absolute difference on the grey thumbnail, 0..255).
FROZEN_MAX_DIFF = 0.15
# Immerkaer's fast noise estimator: a Laplacian-difference kernel cancels smooth image structure.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


class FrameQualityMeter:
    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def measure(self, thumbnail_rgb: np.ndarray, sharpness_grey: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(thumbnail_rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        sharpness = float(cv2.Laplacian(sharpness_grey, cv2.CV_32F).var())
        rgb = thumbnail_rgb.astype(np.float32)
        rg = rgb[..., 0] - rgb[..., 1]
        yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
        colorfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
        if self._previous is None or self._previous.shape != grey.shape:
            motion = 0.0
            frozen = 0.0
        else:
            motion = float(np.abs(grey - self._previous).mean())
            frozen = float(motion < FROZEN_MAX_DIFF)
        self._previous = grey
        return np.array(
            [
                sharpness, float(grey.mean()), float(grey.std()), colorfulness, _border_fraction(grey), motion, frozen,
                _noise_sigma(sharpness_grey),
            ],
            dtype=np.float32,
        )


def _noise_sigma(grey: np.ndarray) -> float:
    """Standard deviation of the image noise in grey levels (Immerkaer 1996)."""
    height, width = grey.shape
    if height < 3 or width < 3:
        return 0.0
    response = cv2.filter2D(grey.astype(np.float32), -1, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6.0)


def _border_fraction(grey: np.ndarray) -> float:
    rows = grey.mean(axis=1) < _BLACK_LUMA
    cols = grey.mean(axis=0) < _BLACK_LUMA
    if rows.all() or cols.all():
        return 1.0  # an all-black frame is all border
    top = int(np.argmin(rows))
    bottom = int(np.argmin(rows[::-1]))
    left = int(np.argmin(cols))
    right = int(np.argmin(cols[::-1]))
    h, w = grey.shape
    kept = (h - top - bottom) * (w - left - right)
    return float(1.0 - kept / (h * w))
