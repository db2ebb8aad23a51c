"""PP-OCRv4 text detection, to find burned-in text (subtitles, captions, lower thirds) on frames.

The network ships inside the ``rapidocr-onnxruntime`` wheel (Apache-2.0) and runs alone (no
recognition: where the text is matters, not what it says) on frames scaled to ``OCR_SHORT_SIDE``
pixels: at a 224-pixel short side a subtitle line of a 360p frame is still 10-15 pixels tall,
which the detector finds. What the boxes mean for a shot is ``annotators.shots.text_overlay``.
"""

from typing import Any

import cv2
import numpy as np

from annotators.models.model_wrapper import ModelWrapper

OCR_SHORT_SIDE = 224


class TextBoxDetector(ModelWrapper):
    """PP-OCRv4 text detection (``rapidocr-onnxruntime``), one thread, loaded once per worker."""

    catalog_names = ("text_detector",)

    def __init__(self, short_side: int = OCR_SHORT_SIDE) -> None:
        self.short_side = short_side
        self._detect: Any = None

    @property
    def is_set_up(self) -> bool:
        return self._detect is not None

    def close(self) -> None:
        self._detect = None

    def setup(self) -> None:
        if self._detect is not None:
            return
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as err:  # pragma: no cover - a core dependency
            raise ImportError("burned-in text detection needs rapidocr-onnxruntime: pip install -e .") from err
        # limit_type "min" with a tiny limit: the frame is scaled here, the detector keeps its size.
        engine = RapidOCR(det_limit_side_len=32, det_limit_type="min", intra_op_num_threads=1, inter_op_num_threads=1)
        self._detect = engine.text_det

    def boxes(self, rgb: np.ndarray) -> np.ndarray:
        """(k, 4) float32 x0, y0, x1, y1 of each text box as fractions of the frame."""
        self.setup()
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
