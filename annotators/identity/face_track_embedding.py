"""One identity vector per face track, from its best frames.

A single frame's embedding is noisy (blur, a turned head, a dark frame). We score every frame for
sharpness, frontality, exposure and face size, embed only the best few, and average their unit
vectors: the renormalised mean is the track's embedding. Embedding only the chosen frames also
keeps the recogniser's cost per track fixed.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from annotators.face.face_alignment import align_face
from annotators.face.landmarked_face import FaceEmbedder, LandmarkedFace

DEFAULT_MAX_FRAMES = 8
MIN_SHARP_EYE_DISTANCE_PX = 30.0  # smaller faces carry little identity detail
FRONTAL_TOLERANCE_DEG = 25.0  # head rotation at which frontality drops to exp(-1)
# Landmarks spanning the face: its sides at eye level, and forehead top to chin.
FACE_RIGHT_SIDE, FACE_LEFT_SIDE = 234, 454
FOREHEAD_TOP, CHIN = 10, 152


@dataclass(frozen=True)
class FrameQuality:
    """How useful one frame is for identity; every score is in [0, 1] except ``sharpness``."""

    sharpness: float  # variance of the Laplacian of the aligned grey crop (unbounded)
    frontality: float
    exposure: float
    size: float


def head_angles_degrees(landmarks: np.ndarray) -> tuple[float, float]:
    """Approximate yaw and pitch of a face from its 3-D MediaPipe landmarks (0, 0: facing the camera).

    Yaw is the depth slope of the line across the face, pitch that of the forehead-chin line
    (MediaPipe's z grows away from the camera, y grows downwards). Good enough to rank a track's
    frames by how frontal they are; the stages' head-pose annotator is the precise measure.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    across = points[FACE_LEFT_SIDE] - points[FACE_RIGHT_SIDE]
    down = points[CHIN] - points[FOREHEAD_TOP]
    yaw = np.degrees(np.arctan2(-across[2], across[0]))
    pitch = np.degrees(np.arctan2(-down[2], down[1]))
    return float(yaw), float(pitch)


def frame_quality(face: LandmarkedFace) -> FrameQuality:
    points = face.five_points()
    crop = align_face(face.image, points)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    inner = grey[24:104, 16:96]  # the face without the crop's corners (background, black fill)
    sharpness = float(cv2.Laplacian(inner, cv2.CV_64F).var())

    yaw, pitch = head_angles_degrees(face.landmarks)
    frontality = float(np.exp(-(yaw**2 + pitch**2) / FRONTAL_TOLERANCE_DEG**2))

    clipped = float(((inner < 8) | (inner > 247)).mean())
    exposure = float(max(0.0, 1.0 - abs(float(inner.mean()) - 128.0) / 128.0) * (1.0 - clipped))

    eye_distance = float(np.linalg.norm(points[1] - points[0]))
    size = float(min(1.0, eye_distance / MIN_SHARP_EYE_DISTANCE_PX))
    return FrameQuality(sharpness, frontality, exposure, size)


def frame_scores(qualities: list[FrameQuality]) -> np.ndarray:
    """Each frame's overall score in [0, 1]; sharpness counts relative to the track's sharpest."""
    sharpness = np.array([q.sharpness for q in qualities], dtype=np.float64)
    relative_sharpness = sharpness / sharpness.max() if sharpness.max() > 0 else np.ones_like(sharpness)
    others = np.array([q.frontality * q.exposure * q.size for q in qualities], dtype=np.float64)
    return relative_sharpness * others


def select_frames(qualities: list[FrameQuality], max_frames: int = DEFAULT_MAX_FRAMES) -> list[int]:
    """Positions of the best ``max_frames`` frames, in time order; ties go to the earlier frame."""
    if not qualities:
        return []
    scores = frame_scores(qualities)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return sorted(order[:max_frames])


def mean_direction(vectors: np.ndarray) -> np.ndarray:
    """The renormalised mean of the rows' unit vectors (the rows are normalised first)."""
    rows = np.asarray(vectors, dtype=np.float64)
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    mean = rows.mean(axis=0)
    norm = np.linalg.norm(mean)
    if norm == 0:
        raise ValueError("the vectors cancel out: no mean direction")
    return mean / norm


@dataclass(frozen=True)
class TrackEmbedding:
    """A face track's identity vector, with what it was made from and how far to trust it."""

    track_id: str
    vector: np.ndarray  # float32 unit vector
    kind: str  # the embedder's vector space, e.g. "arcface" or "landmark_texture_v1"
    strength: str  # "strong" (learned recogniser) or "weak" (no-weights descriptor)
    frame_indices: tuple[int, ...]  # the faces' frame_index values that were embedded
    mean_frame_score: float


def embed_track(
    track_id: str,
    faces: list[LandmarkedFace],
    embedder: FaceEmbedder,
    max_frames: int | None = None,
) -> TrackEmbedding:
    """The track's embedding from its best ``max_frames`` faces (default: the embedder's
    ``frames_per_track``)."""
    max_frames = max_frames or embedder.frames_per_track
    if not faces:
        raise ValueError(f"track {track_id!r} has no landmarked faces")
    qualities = [frame_quality(f) for f in faces]
    chosen = select_frames(qualities, max_frames)
    vectors = embedder.embed([faces[i] for i in chosen])
    scores = frame_scores(qualities)
    return TrackEmbedding(
        track_id=track_id,
        vector=mean_direction(vectors).astype(np.float32),
        kind=embedder.kind,
        strength=embedder.strength,
        frame_indices=tuple(faces[i].frame_index for i in chosen),
        mean_frame_score=float(scores[chosen].mean()),
    )
