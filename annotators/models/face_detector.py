"""BlazeFace, the FaceLandmarker's own face detector, on its own: face boxes without landmarks.

It ships inside ``face_landmarker.task`` (short range: faces that fill a good part of its 128x128
input). The analysis cascade runs it on a few frames a second to decide where the landmarker must
run; ``annotators.models.small_face_finder`` runs it on tiles for faces too small for the whole frame.
"""

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.face_landmarker import MEDIAPIPE_MISSING
from annotators.models.mediapipe_exit import close_before_exit
from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.models.model_store import resolve

_DETECTOR_MEMBER = "face_detector.tflite"


class BlazeFaceDetector(ModelWrapper):
    catalog_names = ("face_landmarker",)

    def __init__(self, bundle_path: Path | None = None, min_confidence: float = 0.5) -> None:
        self.bundle_path = Path(bundle_path) if bundle_path else resolve("face_landmarker")
        self.min_confidence = min_confidence
        self._close: Callable[[], None] | None = None

    def load_model(self) -> Any:
        tasks = optional_import("mediapipe.tasks.python", MEDIAPIPE_MISSING)
        with zipfile.ZipFile(self.bundle_path) as bundle:
            model = bundle.read(_DETECTOR_MEMBER)
        options = tasks.vision.FaceDetectorOptions(
            base_options=tasks.BaseOptions(model_asset_buffer=model), min_detection_confidence=self.min_confidence
        )
        detector = tasks.vision.FaceDetector.create_from_options(options)
        # a worker holds this for its whole life: closed before the interpreter stops its threads
        self._close = close_before_exit(self, detector.close)
        return detector

    def release(self, model: Any) -> None:
        self._close()

    def detect(self, rgb: np.ndarray) -> list[tuple[float, np.ndarray]]:
        """(score, box (x0, y0, x1, y1) in ``rgb``'s pixels) of every face found."""
        import mediapipe as mp

        self.setup()
        result = self._model.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
        found = []
        for det in result.detections:
            b = det.bounding_box
            score = det.categories[0].score if det.categories else 0.0
            box = np.array([b.origin_x, b.origin_y, b.origin_x + b.width, b.origin_y + b.height], dtype=np.float32)
            found.append((score, box))
        return found
