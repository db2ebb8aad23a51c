"""PP-OCRv4 text detection, to find burned-in text (subtitles, captions, lower thirds) on frames.

The network ships inside the ``rapidocr-onnxruntime`` wheel (Apache-2.0) and runs alone: where the
text is matters, not what it says, so only the detection network is loaded (the full RapidOCR
engine also loads the recognition and orientation networks, which doubled the set-up CPU time of
every worker). Frames are scaled to ``OCR_SHORT_SIDE`` pixels: at a 224-pixel short side a
subtitle line of a 360p frame is still 10-15 pixels tall, which the detector finds.

``boxes`` can look at a strip of rows only (the stage passes the rows of the performers' crops,
the only rows where text counts): the strip keeps the frame's whole width and is scaled by the
same factor as the whole frame, so every text line in it is as many pixels tall, and as whole, as
on the frame, and is found alike, at the cost of the strip's pixels. Cutting the frame in width
too (to the band over and under the face) would cost less but cuts subtitle lines at the sides,
and the detector then misses them: measured on five real close-ups with a subtitle burned in, a
band-wide window missed 20-34 of 216 band verdicts even with 48 pixels of context on each side,
where a full-width strip changed 9 of 540, each towards finding more text. What the boxes mean
for a shot is ``annotators.shots.text_overlay``.
"""

from typing import Any

import cv2
import numpy as np

from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.models.model_store import resolve

OCR_SHORT_SIDE = 224
# The network downsamples by 32: inputs whose sides divide evenly need no resize inside it.
_NETWORK_STRIDE = 32
# RapidOCR's own detection settings (its config.yaml for PP-OCRv4), kept so the boxes do not change.
_DETECTION_SETTINGS: dict[str, Any] = {
    "use_cuda": False,
    "use_dml": False,
    "limit_side_len": _NETWORK_STRIDE,  # with limit_type "min": the image is scaled here, not there
    "limit_type": "min",
    "mean": [0.5, 0.5, 0.5],
    "std": [0.5, 0.5, 0.5],
    "thresh": 0.3,
    "box_thresh": 0.5,
    "max_candidates": 1000,
    "unclip_ratio": 1.6,
    "use_dilation": True,
    "score_mode": "fast",
    "intra_op_num_threads": 1,
    "inter_op_num_threads": 1,
}

# A strip is widened by this many detector pixels above and below (about two subtitle lines): a
# line crossing the strip's edge is seen whole.
STRIP_CONTEXT_PX = 32


class TextBoxDetector(ModelWrapper):
    """PP-OCRv4 text detection (``rapidocr-onnxruntime``), one thread, loaded once per worker."""

    catalog_names = ("text_detector",)

    def __init__(self, short_side: int = OCR_SHORT_SIDE) -> None:
        self.short_side = short_side

    def load_model(self) -> Any:
        detection = optional_import(  # a core dependency
            "rapidocr_onnxruntime.ch_ppocr_det", "burned-in text detection needs rapidocr-onnxruntime: pip install -e ."
        )
        return detection.TextDetector({**_DETECTION_SETTINGS, "model_path": str(resolve("text_detector"))})

    def boxes(self, rgb: np.ndarray, rows: tuple[float, float] | None = None) -> np.ndarray:
        """(k, 4) float32 x0, y0, x1, y1 of each text box as fractions of the frame, found in the
        strip of ``rows`` (top, bottom as fractions of the frame height; default the whole frame)
        widened by ``STRIP_CONTEXT_PX`` detector pixels."""
        self.setup()
        height, width = rgb.shape[:2]
        scale = min(1.0, self.short_side / min(height, width))
        top, bottom = 0, height
        if rows is not None:
            pad = STRIP_CONTEXT_PX / scale
            top = max(0, int(np.floor(rows[0] * height - pad)))
            bottom = min(height, int(np.ceil(rows[1] * height + pad)))
            if bottom - top < 2:
                return np.zeros((0, 4), dtype=np.float32)
        strip = rgb[top:bottom]
        w = max(_NETWORK_STRIDE, int(round(width * scale / _NETWORK_STRIDE)) * _NETWORK_STRIDE)
        h = max(_NETWORK_STRIDE, int(round((bottom - top) * scale / _NETWORK_STRIDE)) * _NETWORK_STRIDE)
        small = cv2.resize(strip, (w, h), interpolation=cv2.INTER_AREA) if (w, h) != (width, bottom - top) else strip
        quads, _ = self._model(np.ascontiguousarray(small[:, :, ::-1]))
        if quads is None or len(quads) == 0:
            return np.zeros((0, 4), dtype=np.float32)
        quads = np.asarray(quads, dtype=np.float32)
        boxes = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1) / np.array([w, h, w, h], np.float32)
        # strip fractions -> frame fractions
        span = (bottom - top) / height
        boxes[:, [1, 3]] = boxes[:, [1, 3]] * span + top / height
        return np.clip(boxes, 0.0, 1.0).astype(np.float32)
