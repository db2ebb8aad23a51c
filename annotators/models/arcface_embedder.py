"""ArcFace identity embeddings through InsightFace, on crops aligned from MediaPipe landmarks.

The recognition model is InsightFace's ArcFace ONNX (registry name ``arcface``: ``w600k_r50.onnx``
from ``buffalo_l``), fetched once with ``lpm-curate models fetch arcface``. It is loaded with
``insightface.model_zoo.get_model`` on the plain ``.onnx`` path, which routes by input/output
shapes to InsightFace's ``ArcFaceONNX`` and so applies InsightFace's own preprocessing (mean/std,
channel order). We do not run InsightFace's detector: every face track already has MediaPipe
landmarks, from which the five alignment points come.
"""

from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.face_alignment import align_face
from annotators.face.landmarked_face import STRONG, LandmarkedFace
from annotators.models.model_wrapper import ModelWrapper, optional_import
from curation.models.model_store import resolve

ARCFACE_MODEL_NAME = "arcface"
ARCFACE_KIND = "arcface"


class ArcFaceEmbedder(ModelWrapper):
    """L2-normalised ArcFace embeddings of landmarked faces (CPU by default)."""

    kind = ARCFACE_KIND
    strength = STRONG
    frames_per_track = 4  # a learned vector settles within a track's best few frames (dlib's: 2, measured)

    catalog_names = (ARCFACE_MODEL_NAME,)

    def __init__(
        self, model_path: Path | None = None, providers: tuple[str, ...] = ("CPUExecutionProvider",)
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else resolve(ARCFACE_MODEL_NAME)
        self.providers = providers
        self.device = "cuda" if "CUDAExecutionProvider" in providers else "cpu"

    def load_model(self) -> Any:
        model_zoo = optional_import(
            "insightface.model_zoo",
            "ArcFace embeddings need insightface and onnxruntime: pip install 'lpm-curation[identity]'",
        )
        model = model_zoo.get_model(str(self.model_path), providers=list(self.providers))
        if model is None or getattr(model, "taskname", None) != "recognition":
            raise ValueError(
                f"{self.model_path} is not an ArcFace recognition model "
                "(expected a square input of at least 112 px and one embedding output)"
            )
        return model

    @property
    def crop_size(self) -> int:
        self.setup()
        return int(self._model.input_size[0])

    @property
    def dimension(self) -> int:
        self.setup()
        return int(self._model.output_shape[1])

    def align(self, face: LandmarkedFace) -> np.ndarray:
        """The aligned RGB crop the model sees."""
        return align_face(face.image, face.five_points(), self.crop_size)

    def embed_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        """(n, dimension) unit vectors for aligned RGB crops."""
        if not crops:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.setup()
        # InsightFace's ArcFaceONNX expects OpenCV's BGR order (it swaps to RGB itself).
        bgr = [np.ascontiguousarray(crop[..., ::-1]) for crop in crops]
        if isinstance(self._model.input_shape[0], int):  # a fixed batch size: one crop per run
            features = np.concatenate([self._model.get_feat([crop]) for crop in bgr])
        else:
            features = self._model.get_feat(bgr)
        features = np.asarray(features, dtype=np.float32).reshape(len(crops), -1)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return features / np.maximum(norms, 1e-12)

    def embed(self, faces: list[LandmarkedFace]) -> np.ndarray:
        return self.embed_crops([self.align(f) for f in faces])
