"""MediaPipe FaceLandmarker on still images: where the faces are in a source photo or a frame.

The generator looks at each source photo once (to find, crop and rig the faces) and the tests use
the same wrapper to check what a real face model sees in the generated frames. IMAGE running mode
is used on purpose: stills and sparse test frames have no timestamps to keep increasing.
"""

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

# MediaPipe face-mesh indices the rig and the tests rely on.
FOREHEAD_TOP = 10
CHIN = 152
NOSE_TIP = 1
UPPER_INNER_LIP = 13
LOWER_INNER_LIP = 14
MOUTH_CORNERS = (61, 291)
INNER_LIP_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIP_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
JAW_AT_MOUTH = (172, 397)
# The face outline: the landmark box of a face is the box of these points.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
# Per eye: outer corner, inner corner, upper-lid middle, lower-lid middle, then the full contour.
RIGHT_EYE = (33, 133, 159, 145)
LEFT_EYE = (263, 362, 386, 374)
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)


@dataclass(frozen=True)
class FaceObservation:
    """One face found in an image, in that image's pixel coordinates."""

    landmarks: np.ndarray  # (478, 2) float32, x and y in pixels
    blendshapes: dict[str, float]

    @property
    def box(self) -> tuple[float, float, float, float]:
        x0, y0 = self.landmarks.min(axis=0)
        x1, y1 = self.landmarks.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def height(self) -> float:
        """Forehead-to-chin distance: the face size every scale in the generator refers to."""
        return float(np.linalg.norm(self.landmarks[CHIN] - self.landmarks[FOREHEAD_TOP]))

    @property
    def inner_lip_gap(self) -> float:
        """Inner-lip distance divided by face height (0 for a closed mouth)."""
        gap = np.linalg.norm(self.landmarks[LOWER_INNER_LIP] - self.landmarks[UPPER_INNER_LIP])
        return float(gap) / max(self.height, 1e-6)


def face_landmarker_model() -> Path:
    """The FaceLandmarker bundle from the toolkit's model registry (``LPM_MODELS_DIR``)."""
    from curation.models.model_store import resolve

    return resolve("face_landmarker")


class StillFaceLandmarker:
    """FaceLandmarker in IMAGE mode with blendshapes; a context manager that frees the graph."""

    def __init__(self, max_faces: int = 4, min_confidence: float = 0.5) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(face_landmarker_model())),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=max_faces,
            min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=min_confidence,
            output_face_blendshapes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)

    def detect(self, image_bgr: np.ndarray) -> list[FaceObservation]:
        import mediapipe as mp

        height, width = image_bgr.shape[:2]
        rgb = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        faces = []
        for points, shapes in zip(result.face_landmarks, result.face_blendshapes, strict=True):
            xy = np.array([[p.x * width, p.y * height] for p in points], dtype=np.float32)
            faces.append(FaceObservation(xy, {s.category_name: float(s.score) for s in shapes}))
        return faces

    def detect_tiled(self, image_bgr: np.ndarray, tile: int = 400) -> list[FaceObservation]:
        """Faces anywhere in a large photo: the detector is short-range, so small faces in a group
        photo are only found in crops. Detections of the same face in overlapping tiles are merged
        (the one seen furthest from its tile's border wins)."""
        height, width = image_bgr.shape[:2]
        if max(height, width) <= tile:
            return self.detect(image_bgr)
        found: list[tuple[float, FaceObservation]] = []
        step = tile // 2
        for y in range(0, max(height - step, 1), step):
            for x in range(0, max(width - step, 1), step):
                crop = image_bgr[y : y + tile, x : x + tile]
                for face in self.detect(crop):
                    x0, y0, x1, y1 = face.box
                    margin = min(x0, y0, crop.shape[1] - x1, crop.shape[0] - y1)
                    shifted = FaceObservation(face.landmarks + np.float32([x, y]), face.blendshapes)
                    found.append((margin, shifted))
        found.sort(key=lambda item: -item[0])
        kept: list[FaceObservation] = []
        for _, face in found:
            if all(box_iou(face.box, other.box) < 0.3 for other in kept):
                kept.append(face)
        return kept

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> "StillFaceLandmarker":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
