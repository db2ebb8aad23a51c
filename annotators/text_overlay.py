"""Burned-in text (subtitles, captions, lower thirds) found by an OCR text detector.

A clip whose subtitles cross the performer's face or mouth teaches a generator to draw text, so
text over the performer's crop is a reason to drop the shot (``Reason.TEXT_OVERLAY``, decided in
``stages.performer_filter``). Text away from the crop (a logo in a corner of a wide frame) stays.

The detector is PP-OCRv4's text detection network, shipped inside the ``rapidocr-onnxruntime``
wheel (Apache-2.0), run alone (no recognition: where the text is matters, not what it says) on
a few frames per second scaled to ``OCR_SHORT_SIDE`` pixels. Subtitles stay on screen for a
second or more, so a frame a second sees them; at a 224-pixel short side a subtitle line of a
360p frame is still 10-15 pixels tall, which the detector finds.

Per sampled frame the detector gives axis-aligned boxes as fractions of the frame; per shot,
``shot_text_scores`` gives the mean area the text covers and the share of sampled frames with
any text; per face track, ``text_on_region_frac`` gives the share of the track's sampled frames
in which text covers at least ``MIN_REGION_COVER`` of the region the clip will be cut from.
"""

from collections.abc import Iterable

import cv2
import numpy as np

OCR_SHORT_SIDE = 224
# Share of the crop that text must cover in a frame to count: one subtitle line covers several
# percent of a head-and-shoulders crop; a stray detection on hair or a collar covers less.
MIN_REGION_COVER = 0.01


class TextBoxDetector:
    """PP-OCRv4 text detection (``rapidocr-onnxruntime``), one thread, loaded once per worker."""

    def __init__(self, short_side: int = OCR_SHORT_SIDE) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as err:  # pragma: no cover - a core dependency
            raise ImportError("burned-in text detection needs rapidocr-onnxruntime: pip install -e .") from err
        # limit_type "min" with a tiny limit: the frame is scaled here, the detector keeps its size.
        engine = RapidOCR(det_limit_side_len=32, det_limit_type="min", intra_op_num_threads=1, inter_op_num_threads=1)
        self._detect = engine.text_det
        self.short_side = short_side

    def boxes(self, rgb: np.ndarray) -> np.ndarray:
        """(k, 4) float32 x0, y0, x1, y1 of each text box as fractions of the frame."""
        height, width = rgb.shape[:2]
        scale = min(1.0, self.short_side / min(height, width))
        # The detector's network downsamples by 32: sizes that divide evenly avoid a resize inside.
        w = max(32, int(round(width * scale / 32)) * 32)
        h = max(32, int(round(height * scale / 32)) * 32)
        small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA) if (w, h) != (width, height) else rgb
        quads, _ = self._detect(np.ascontiguousarray(small[:, :, ::-1]))
        if quads is None or len(quads) == 0:
            return np.zeros((0, 4), dtype=np.float32)
        quads = np.asarray(quads, dtype=np.float32)
        boxes = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1) / np.array([w, h, w, h], np.float32)
        return np.clip(boxes, 0.0, 1.0)


def covered_fraction(boxes: np.ndarray, region: tuple[float, float, float, float], grid: int = 64) -> float:
    """Share of ``region`` (x0, y0, x1, y1, fractions of the frame) covered by the union of ``boxes``,
    on a ``grid`` x ``grid`` raster of the region (overlapping boxes count once)."""
    x0, y0, x1, y1 = region
    if len(boxes) == 0 or x1 <= x0 or y1 <= y0:
        return 0.0
    xs = x0 + (np.arange(grid) + 0.5) * (x1 - x0) / grid
    ys = y0 + (np.arange(grid) + 0.5) * (y1 - y0) / grid
    inside = np.zeros((grid, grid), dtype=bool)
    for bx0, by0, bx1, by1 in boxes:
        inside |= ((ys >= by0) & (ys < by1))[:, None] & ((xs >= bx0) & (xs < bx1))[None, :]
    return float(inside.mean())


def shot_text_scores(samples: dict[int, np.ndarray], first_frame: int, end_frame: int) -> dict[str, float | None]:
    """``text_area_frac`` (mean share of the frame under text) and ``text_frames_frac`` (share of
    sampled frames with any text) over the shot's sampled frames; None when none was sampled."""
    inside = [boxes for index, boxes in samples.items() if first_frame <= index < end_frame]
    if not inside:
        return {"text_area_frac": None, "text_frames_frac": None}
    return {
        "text_area_frac": float(np.mean([covered_fraction(b, (0.0, 0.0, 1.0, 1.0)) for b in inside])),
        "text_frames_frac": float(np.mean([len(b) > 0 for b in inside])),
    }


def text_on_region_frac(
    samples: dict[int, np.ndarray], regions: Iterable[tuple[int, tuple[float, float, float, float]]]
) -> float | None:
    """Share of the (frame index, region) pairs whose frame was sampled and whose region text
    covers by at least ``MIN_REGION_COVER``; None when no frame of them was sampled."""
    hits = [covered_fraction(samples[i], region) >= MIN_REGION_COVER for i, region in regions if i in samples]
    return float(np.mean(hits)) if hits else None
