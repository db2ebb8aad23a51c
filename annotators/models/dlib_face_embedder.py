"""dlib's ResNet face embedding (128-d), aligned from MediaPipe's landmarks: the default identity
embedder wherever ArcFace has not been fetched.

The weights (``dlib_face_recognition_resnet_model_v1.dat``, CC0, from dlib's model zoo) ship
inside the ``face_recognition_models`` wheel and run through ``dlib`` (the ``dlib-bin`` wheel), so
``pip install`` brings a learned recogniser with no download step. dlib normally aligns with its
own 5-point shape predictor after its own face detector; we run neither. The five points its
aligner expects (both corners of each eye and the base of the nose) are read off the
FaceLandmarker's 478 landmarks, which every face track already has, and handed to dlib as a
``full_object_detection``: dlib's ``get_face_chip`` then warps exactly as it does for its own
predictor's points, so the network sees the 150x150 chips it was trained on.

dlib compares descriptors by Euclidean distance (0.6 is its same-person cut); we return unit
vectors so identity clustering can use cosine like every other embedder (the cut is calibrated
for this kind in ``annotators.identity.identity_clusterer``).
"""

from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.landmarked_face import STRONG, LandmarkedFace
from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.models.model_store import resolve

DLIB_MODEL_NAME = "dlib_face_resnet"
DLIB_KIND = "dlib_resnet_v1"
DLIB_CHIP_SIZE = 150
DLIB_CHIP_PADDING = 0.25  # dlib's default: the chips its network was trained on

# MediaPipe FaceMesh indices of the points of dlib's 5-point model, in dlib's order: the eye on
# the image's right (outer corner, inner corner), the eye on the image's left (outer, inner), and
# the base of the nose (subnasale), as in dlib's ``shape_predictor_5_face_landmarks``.
DLIB_FIVE_POINTS_FROM_MEDIAPIPE = (263, 362, 33, 133, 2)


def dlib_five_points(landmarks: np.ndarray) -> np.ndarray:
    """dlib's five alignment points (5, 2), in pixels, from MediaPipe landmarks (478, 2|3)."""
    points = np.asarray(landmarks, dtype=np.float64)
    return points[list(DLIB_FIVE_POINTS_FROM_MEDIAPIPE), :2]


class DlibFaceEmbedder(ModelWrapper):
    """Unit-length dlib ResNet embeddings of landmarked faces (CPU)."""

    kind = DLIB_KIND
    strength = STRONG
    dimension = 128
    # The network is the cost (about 0.1 CPU s a chip), and a learned vector barely moves past a
    # track's two best frames. Measured on the 26 real tracks of 16 people (the identity clusterer's
    # slow test): the same person at most 0.0144 apart with 2 frames (0.0127 with 4, 0.0248 with 1,
    # at the cut of 0.025), different people at least 0.048 (0.044 with 4); P = R = 1.0 with 2 and 4.
    # 8 frames took 15 % of the talking heads' analysis time, 4 took 8.5 %.
    frames_per_track = 2

    catalog_names = (DLIB_MODEL_NAME,)

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path is not None else resolve(DLIB_MODEL_NAME)

    def load_model(self) -> Any:
        return self._dlib.face_recognition_model_v1(str(self.model_path))

    @property
    def _dlib(self) -> Any:
        return optional_import(
            "dlib", "the dlib face embedding needs dlib and its weights: pip install dlib-bin face_recognition_models"
        )

    def align(self, face: LandmarkedFace) -> np.ndarray:
        """The 150x150 RGB chip the network sees, cut by dlib's own aligner."""
        return self._dlib.get_face_chip(np.ascontiguousarray(face.image), self._shape(face), DLIB_CHIP_SIZE,
                                        DLIB_CHIP_PADDING)

    def embed(self, faces: list[LandmarkedFace]) -> np.ndarray:
        """(n, 128) float32 unit vectors, one per face."""
        if not faces:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.setup()
        chips = [self.align(face) for face in faces]
        vectors = np.asarray(self._model.compute_face_descriptor(chips), dtype=np.float32).reshape(len(faces), -1)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _shape(self, face: LandmarkedFace) -> object:
        points = dlib_five_points(face.landmarks)
        left, top = np.floor(points.min(axis=0)).astype(int)
        right, bottom = np.ceil(points.max(axis=0)).astype(int)
        box = self._dlib.rectangle(int(left), int(top), int(right), int(bottom))
        return self._dlib.full_object_detection(box, [self._dlib.point(round(x), round(y)) for x, y in points])
