"""MediaPipe FaceLandmarker: 478 landmarks, 52 blendshapes and head pose per face.

VIDEO running mode tracks faces between frames (the detector runs only when tracking is lost),
which is what makes it fast; it needs strictly increasing timestamps, so use one instance per
video and ``close`` it at the end (a ``with`` block does).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.face_signals import FaceSignals, face_signals
from annotators.face.head_pose import head_pose_degrees
from annotators.face.mouth_darkness import mouth_darkness
from annotators.models.landmarker_results import RawFace, detect_faces
from annotators.models.mediapipe_exit import close_before_exit
from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.models.model_store import resolve

MEDIAPIPE_MISSING = "mediapipe is not installed: pip install 'mediapipe==1.2.2'"


@dataclass(frozen=True)
class FaceObservation:
    box: np.ndarray  # (4,) x0, y0, x1, y1 in analysis pixels, from the landmarks' extent
    landmarks: np.ndarray  # (478, 3) float32, analysis pixels (z in pixel-like units)
    blendshapes: np.ndarray  # (52,) float32
    signals: FaceSignals

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


class FaceLandmarkerAnnotator(ModelWrapper):
    catalog_names = ("face_landmarker",)

    def __init__(
        self,
        model_path: Path | None = None,
        max_faces: int = 4,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        video_mode: bool = True,
        blendshapes: bool = True,
    ) -> None:
        self.model_path = Path(model_path) if model_path else resolve("face_landmarker")
        self.max_faces = max_faces
        # Without blendshapes (a confirmation needs only landmarks and pose) the blendshape model
        # does not run: the same landmarks and matrices, about 1 ms a face less. ``detect`` needs them.
        self.blendshapes = blendshapes
        self.min_detection_confidence = min_detection_confidence
        self.min_presence_confidence = min_presence_confidence
        self.video_mode = video_mode
        self._last_ms = -1

    def load_model(self) -> Any:
        tasks = optional_import("mediapipe.tasks.python", MEDIAPIPE_MISSING)
        vision = tasks.vision
        mode = vision.RunningMode.VIDEO if self.video_mode else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=tasks.BaseOptions(model_asset_buffer=self.model_path.read_bytes()),
            running_mode=mode,
            num_faces=self.max_faces,
            min_face_detection_confidence=self.min_detection_confidence,
            min_face_presence_confidence=self.min_presence_confidence,
            min_tracking_confidence=0.5,
            output_face_blendshapes=self.blendshapes,
            output_facial_transformation_matrixes=True,
        )
        landmarker = vision.FaceLandmarker.create_from_options(options)
        # A video-mode landmarker lives for one video and is closed with it; an image-mode one
        # (crops) lives as long as its worker.
        self._finalizer = landmarker.close if self.video_mode else close_before_exit(self, landmarker.close)
        self._last_ms = -1
        return landmarker

    def release(self, model: Any) -> None:
        self._finalizer()

    def detect_raw(self, rgb: np.ndarray, t_seconds: float = 0.0) -> list[RawFace]:
        """The faces as the landmarker returns them (normalised landmarks, blendshapes, matrix)."""
        import mediapipe as mp

        self.setup()
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        timestamp = None
        if self.video_mode:
            timestamp = max(int(round(t_seconds * 1000)), self._last_ms + 1)
            self._last_ms = timestamp
        return detect_faces(self._model, image, timestamp)

    def detect(self, rgb: np.ndarray, t_seconds: float = 0.0) -> list[FaceObservation]:
        if not self.blendshapes:
            raise ValueError("detect needs the blendshapes: this landmarker was built without them (detect_raw)")
        height, width = rgb.shape[:2]
        to_pixels = np.array([width, height, width], dtype=np.float32)
        faces = []
        for raw in self.detect_raw(rgb, t_seconds):
            landmarks = raw.landmarks * to_pixels
            pose = head_pose_degrees(raw.matrix)
            box = landmark_box(landmarks)
            darkness = mouth_darkness(rgb, landmarks, float(box[3] - box[1]))
            signals = face_signals(landmarks, raw.blendshapes, pose, darkness)
            faces.append(FaceObservation(box, landmarks, raw.blendshapes, signals))
        return faces


def landmark_box(landmarks: np.ndarray) -> np.ndarray:
    """(4,) float32 x0, y0, x1, y1: the landmarks' extent."""
    return np.array(
        [landmarks[:, 0].min(), landmarks[:, 1].min(), landmarks[:, 0].max(), landmarks[:, 1].max()],
        dtype=np.float32,
    )
