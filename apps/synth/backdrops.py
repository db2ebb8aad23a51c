"""Rooms behind the people, and the camera's own imperfections (drift, sensor noise, a bad shot).

Backdrops of one video differ in hue and brightness from one set-up to the next, so that a cut is
a large change of the whole picture; inside a shot only the people and a slow drift move.
"""

import cv2
import numpy as np

HUE_STEP = 0.31  # between set-ups of a video: consecutive backdrops land far apart on the hue circle
DRIFT_MARGIN = 8  # pixels of backdrop kept beyond the frame for the camera to drift into
SENSOR_NOISE_SIGMA = 1.6
NOISY_SHOT_SIGMA = 14.0
NOISY_SHOT_BLUR = 2.4


def _hsv_colour(hue: float, saturation: float, value: float) -> np.ndarray:
    pixel = np.array([[[hue * 180.0, saturation * 255.0, value * 255.0]]], np.float32)
    return cv2.cvtColor(pixel.astype(np.uint8), cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def make_backdrop(rng: np.random.Generator, index: int, base_hue: float, width: int, height: int) -> np.ndarray:
    """A blurred room: graded wall, a floor or desk band, a few frames, shelves or windows."""
    w, h = width + 2 * DRIFT_MARGIN, height + 2 * DRIFT_MARGIN
    hue = (base_hue + index * HUE_STEP) % 1.0
    value = 0.78 if index % 2 == 0 else 0.5
    top = _hsv_colour(hue, 0.35, value)
    bottom = _hsv_colour(hue, 0.45, value * 0.7)
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    room = top * (1 - ramp) + bottom * ramp
    room = np.broadcast_to(room, (h, w, 3)).copy()
    floor_y = int(h * rng.uniform(0.72, 0.85))
    room[floor_y:] = _hsv_colour((hue + 0.5) % 1.0, 0.4, value * 0.55)
    for _ in range(int(rng.integers(2, 5))):
        x0 = int(rng.uniform(0, 0.85) * w)
        y0 = int(rng.uniform(0.05, 0.55) * h)
        x1 = x0 + int(rng.uniform(0.08, 0.25) * w)
        y1 = y0 + int(rng.uniform(0.1, 0.3) * h)
        colour = _hsv_colour(float(rng.random()), float(rng.uniform(0.2, 0.7)), float(rng.uniform(0.25, 0.95)))
        cv2.rectangle(room, (x0, y0), (x1, y1), colour.tolist(), -1)
    texture = cv2.resize(rng.normal(0, 6, (h // 16 + 1, w // 16 + 1)).astype(np.float32), (w, h))
    room += texture[..., None]
    room = cv2.GaussianBlur(room, (0, 0), 3.0)
    return np.clip(room, 0, 255).astype(np.uint8)


def drift_offsets(rng: np.random.Generator, n_frames: int, fps: int) -> np.ndarray:
    """(n, 2) camera offsets in pixels: a slow hand-held wander of a few pixels."""
    t = np.arange(n_frames) / fps
    offsets = np.zeros((n_frames, 2), np.float32)
    for axis in range(2):
        amplitude = rng.uniform(1.5, 3.5)
        frequency = rng.uniform(0.05, 0.15)
        offsets[:, axis] = amplitude * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))
    return np.clip(offsets, -DRIFT_MARGIN + 1, DRIFT_MARGIN - 1)


def backdrop_view(backdrop: np.ndarray, offset: np.ndarray, width: int, height: int) -> np.ndarray:
    """The frame-sized part of a backdrop seen with the camera at ``offset`` (whole pixels)."""
    x = DRIFT_MARGIN + round(float(offset[0]))
    y = DRIFT_MARGIN + round(float(offset[1]))
    return backdrop[y : y + height, x : x + width].copy()


class NoiseBank:
    """A few precomputed noise fields, drawn in random order: fresh-looking noise per frame at a
    fraction of the cost of sampling it. Each field is kept as its positive and negative parts so
    that applying it is two saturating uint8 operations."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, sigma: float, count: int = 6) -> None:
        self._rng = rng
        self._fields = []
        for _ in range(count):
            noise = np.clip(np.round(rng.normal(0, sigma, (height, width, 3))), -255, 255)
            self._fields.append((np.maximum(noise, 0).astype(np.uint8), np.maximum(-noise, 0).astype(np.uint8)))

    def apply(self, frame: np.ndarray) -> np.ndarray:
        brighter, darker = self._fields[int(self._rng.integers(len(self._fields)))]
        return cv2.subtract(cv2.add(frame, brighter), darker)


def degrade(frame: np.ndarray, noise: NoiseBank) -> np.ndarray:
    """The deliberately bad shot: out of focus and grainy."""
    return noise.apply(cv2.GaussianBlur(frame, (0, 0), NOISY_SHOT_BLUR))
