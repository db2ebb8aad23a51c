"""One frame of a face track as identity annotators see it, and what a face embedder provides.

Both identity embedders (ArcFace and the no-weights descriptor) take the same input, the decoded
frame plus MediaPipe's landmarks, so a stage can swap one for the other by configuration.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from annotators.face.face_alignment import MEDIAPIPE_LANDMARK_COUNT, five_points_from_mediapipe

STRONG = "strong"  # a learned face-recognition embedding (ArcFace)
WEAK = "weak"  # a hand-made descriptor: separates few, distinct people; merges look-alikes


@dataclass(frozen=True)
class LandmarkedFace:
    """A face in one frame.

    ``image``: the frame, RGB uint8 (H, W, 3). ``landmarks``: MediaPipe's 478 points with x, y in
    pixels of ``image`` and z in the same units (MediaPipe's normalised z times the image width).
    ``frame_index``: the frame's index in its video, carried through so callers know which frames
    an embedding used.
    """

    image: np.ndarray
    landmarks: np.ndarray
    frame_index: int = 0

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3:
            raise ValueError(f"image must be RGB (H, W, 3), got shape {self.image.shape}")
        if self.landmarks.shape != (MEDIAPIPE_LANDMARK_COUNT, 3):
            raise ValueError(f"landmarks must be (478, 3) pixels, got shape {self.landmarks.shape}")

    def five_points(self) -> np.ndarray:
        return five_points_from_mediapipe(self.landmarks)


class FaceEmbedder(Protocol):
    """Anything that turns landmarked faces into identity vectors of one ``kind``.

    ``kind`` names the vector space (vectors of different kinds are never compared) and
    ``strength`` says how far to trust it (``STRONG`` or ``WEAK``).
    """

    kind: str
    strength: str
    frames_per_track: int  # how many of a track's best frames make its vector

    def embed(self, faces: list[LandmarkedFace]) -> np.ndarray:
        """(n, dimension) float32 unit vectors, one per face."""
        ...
