"""Five-point face alignment: MediaPipe's 478 landmarks to the ArcFace 112x112 crop.

Face recognisers are trained on crops warped so that the eyes, the nose tip and the mouth corners
land on fixed template positions; an embedding of an unaligned crop is far less reliable. We derive
the five points from MediaPipe landmarks (which every face track already has) instead of running a
second face detector, and warp with the same similarity transform InsightFace's ``norm_crop`` uses,
so a crop from here is what the ArcFace model expects.
"""

import cv2
import numpy as np

ARCFACE_CROP_SIZE = 112

# InsightFace's ``arcface_dst``: where the five points sit in a 112x112 ArcFace crop, in image
# order (the subject's right eye is on the image's left).
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],  # eye on the image's left (the subject's right eye)
        [73.5318, 51.5014],  # eye on the image's right
        [56.0252, 71.7366],  # nose tip
        [41.5493, 92.3655],  # mouth corner on the image's left
        [70.7299, 92.2041],  # mouth corner on the image's right
    ],
    dtype=np.float64,
)

# MediaPipe FaceMesh indices. An eye centre is the mean of its corners and mid-lids rather than
# the iris centre, so that gaze does not move the alignment.
SUBJECT_RIGHT_EYE = (33, 133, 159, 145)
SUBJECT_LEFT_EYE = (362, 263, 386, 374)
NOSE_TIP = 1
SUBJECT_RIGHT_MOUTH_CORNER = 61
SUBJECT_LEFT_MOUTH_CORNER = 291
MEDIAPIPE_LANDMARK_COUNT = 478


def five_points_from_mediapipe(landmarks: np.ndarray) -> np.ndarray:
    """The five ArcFace points (5, 2) from MediaPipe landmarks (>= 468, 2 or 3) in pixels."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] < 468 or points.shape[1] < 2:
        raise ValueError(f"expected MediaPipe landmarks of shape (478, 2|3), got {points.shape}")
    xy = points[:, :2]
    return np.stack(
        [
            xy[list(SUBJECT_RIGHT_EYE)].mean(axis=0),
            xy[list(SUBJECT_LEFT_EYE)].mean(axis=0),
            xy[NOSE_TIP],
            xy[SUBJECT_RIGHT_MOUTH_CORNER],
            xy[SUBJECT_LEFT_MOUTH_CORNER],
        ]
    )


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, translation) mapping source onto target.

    Least squares (Umeyama 1991), the estimator behind skimage's ``SimilarityTransform`` that
    ``norm_crop`` calls; written here so the no-weights path does not need scikit-image.
    """
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_centred, dst_centred = src - src_mean, dst - dst_mean
    covariance = dst_centred.T @ src_centred / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    reflection = np.ones(2)
    if np.linalg.det(covariance) < 0:
        reflection[-1] = -1.0
    rotation = u @ np.diag(reflection) @ vt
    source_variance = (src_centred**2).sum() / len(src)
    if source_variance == 0:
        raise ValueError("degenerate landmarks: all five points coincide")
    scale = float((singular * reflection).sum() / source_variance)
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def alignment_matrix(five_points: np.ndarray, size: int = ARCFACE_CROP_SIZE, zoom: float = 1.0) -> np.ndarray:
    """The 2x3 warp from image pixels to a ``size`` crop; ``zoom`` < 1 shows more around the face."""
    template = (ARCFACE_TEMPLATE - ARCFACE_CROP_SIZE / 2) * zoom + ARCFACE_CROP_SIZE / 2
    return similarity_transform(five_points, template * (size / ARCFACE_CROP_SIZE))


def align_face(
    image: np.ndarray, five_points: np.ndarray, size: int = ARCFACE_CROP_SIZE, zoom: float = 1.0
) -> np.ndarray:
    """The aligned square crop (size x size x channels), black outside the image like ``norm_crop``."""
    matrix = alignment_matrix(five_points, size, zoom)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)


def landmarks_in_crop(landmarks: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Landmark x, y moved into crop coordinates by the 2x3 alignment matrix."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return xy @ matrix[:, :2].T + matrix[:, 2]
