"""A face identity descriptor that needs no downloaded weights: weaker than ArcFace, marked so.

Three blocks, each an L2-normalised vector, concatenated with weights so that the cosine of two
descriptors is the weighted mean of the blocks' cosines:

- texture (weight 1 + 1): uniform LBP histograms on a 7x7 grid of the ArcFace-aligned grey crop,
  at radius 1 and 2 (Ahonen et al. 2006, the classic pre-deep face descriptor). LBP codes only
  compare a pixel with its neighbours, so they ignore global brightness and contrast changes.
- geometry (0.5): log 3-D distances between 26 landmarks that expressions barely move (eye corners,
  nose, brows, temples, jaw sides), relative to the same distances on MediaPipe's canonical face.
  3-D distances do not change with head rotation, so the block is pose-normalised.
- skin colour (0.3): chroma (Lab a, b) histogram of the cheeks and forehead; light-dependent,
  hence the small weight.

Weights were picked on the shared clips (25 tracks, 17 people): each block alone confuses some
pairs; the combination separates them (see the identity tests). Histograms are square-rooted
(Hellinger) so that the cosine behaves like a histogram similarity.
"""

import itertools

import cv2
import numpy as np

from annotators.face.face_alignment import ARCFACE_CROP_SIZE, align_face
from annotators.face.landmarked_face import WEAK, LandmarkedFace

FACE_DESCRIPTOR_KIND = "landmark_texture_v1"  # bump the version when the vector changes

LBP_GRID = 7
LBP_RADII = (1, 2)
TEXTURE_WEIGHT = 1.0
GEOMETRY_WEIGHT = 0.5
SKIN_WEIGHT = 0.3
SKIN_CHROMA_RANGE = (112, 176)  # OpenCV 8-bit Lab a and b values of skin fall in here
SKIN_CHROMA_BINS = 16

# MediaPipe canonical face model (canonical_face_model.obj in MediaPipe, Apache-2.0; y up, cm)
# at the landmarks whose mutual distances describe the face's shape.
CANONICAL_SHAPE_POINTS: dict[int, tuple[float, float, float]] = {
    33: (-4.446, 2.664, 3.173), 133: (-1.856, 2.585, 3.758),  # subject's right eye corners
    362: (1.856, 2.585, 3.758), 263: (4.446, 2.664, 3.173),  # subject's left eye corners
    1: (0.000, -1.127, 7.476), 4: (0.000, -0.463, 7.587),  # nose tip
    5: (0.000, 0.366, 7.243), 195: (0.000, 1.059, 6.775),  # nose ridge
    6: (0.000, 2.473, 5.789), 168: (0.000, 3.271, 5.236),  # nose bridge
    2: (0.000, -2.089, 6.058), 98: (-1.406, -1.714, 5.241), 327: (1.406, -1.714, 5.241),  # nostrils
    9: (0.000, 4.886, 5.385), 151: (0.000, 6.545, 5.027), 10: (0.000, 8.262, 4.482),  # forehead
    70: (-5.721, 4.255, 2.831), 105: (-3.987, 5.109, 4.466),  # subject's right brow
    300: (5.721, 4.255, 2.831), 334: (3.987, 5.109, 4.466),  # subject's left brow
    127: (-7.743, 2.365, -2.005), 356: (7.743, 2.365, -2.005),  # temples
    234: (-7.664, 0.673, -2.436), 454: (7.664, 0.673, -2.436),  # face sides at the eyes
    132: (-7.271, -2.891, -2.252), 361: (7.271, -2.891, -2.252),  # jaw sides
}  # fmt: skip
_SHAPE_INDICES = np.array(list(CANONICAL_SHAPE_POINTS))
_PAIRS = np.array(list(itertools.combinations(range(len(_SHAPE_INDICES)), 2)))

# Cheeks (beside the nose, above the mouth) and forehead in the 112 px aligned crop.
_SKIN_MASK = np.zeros((ARCFACE_CROP_SIZE, ARCFACE_CROP_SIZE), dtype=bool)
_SKIN_MASK[60:85, 20:45] = True
_SKIN_MASK[60:85, 67:92] = True
_SKIN_MASK[14:32, 35:77] = True


def _uniform_lbp_lookup() -> tuple[np.ndarray, int]:
    """Map 8-bit LBP codes to 58 'uniform' labels (<= 2 bit transitions) plus one for the rest."""
    lookup = np.empty(256, dtype=np.int64)
    label = 0
    for code in range(256):
        transitions = sum(((code >> i) & 1) != ((code >> ((i + 1) % 8)) & 1) for i in range(8))
        if transitions <= 2:
            lookup[code] = label
            label += 1
        else:
            lookup[code] = -1
    lookup[lookup < 0] = label
    return lookup, label + 1


_LBP_LOOKUP, LBP_LABELS = _uniform_lbp_lookup()


def _log_pair_distances(points: np.ndarray) -> np.ndarray:
    """Log distances between the shape landmarks, minus their mean (which removes scale)."""
    gaps = points[_PAIRS[:, 0]] - points[_PAIRS[:, 1]]
    logs = np.log(np.maximum(np.linalg.norm(gaps, axis=1), 1e-9))
    return logs - logs.mean()


_CANONICAL_LOG_DISTANCES = _log_pair_distances(np.array(list(CANONICAL_SHAPE_POINTS.values())))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def lbp_codes(grey: np.ndarray, radius: int) -> np.ndarray:
    """Uniform-LBP labels of the interior pixels (8 neighbours at ``radius``, square sampling)."""
    g = grey.astype(np.int16)
    height, width = g.shape
    centre = g[radius : height - radius, radius : width - radius]
    code = np.zeros(centre.shape, dtype=np.uint8)
    neighbours = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
    for bit, (dy, dx) in enumerate(neighbours):
        y, x = radius + dy * radius, radius + dx * radius
        code |= (g[y : y + centre.shape[0], x : x + centre.shape[1]] >= centre).astype(np.uint8) << bit
    return _LBP_LOOKUP[code]


def texture_block(grey: np.ndarray, radius: int) -> np.ndarray:
    labels = lbp_codes(grey, radius)
    height, width = labels.shape
    histograms = []
    for row in range(LBP_GRID):
        for col in range(LBP_GRID):
            cell = labels[
                row * height // LBP_GRID : (row + 1) * height // LBP_GRID,
                col * width // LBP_GRID : (col + 1) * width // LBP_GRID,
            ]
            counts = np.bincount(cell.ravel(), minlength=LBP_LABELS).astype(np.float64)
            histograms.append(counts / max(counts.sum(), 1.0))
    return _unit(np.sqrt(np.concatenate(histograms)))


def geometry_block(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, dtype=np.float64)[_SHAPE_INDICES, :3]
    return _unit(_log_pair_distances(points) - _CANONICAL_LOG_DISTANCES)


def skin_block(crop: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[_SKIN_MASK]
    low, high = SKIN_CHROMA_RANGE
    step = (high - low) / SKIN_CHROMA_BINS
    a = np.clip(((lab[:, 1].astype(np.float64) - low) / step).astype(int), 0, SKIN_CHROMA_BINS - 1)
    b = np.clip(((lab[:, 2].astype(np.float64) - low) / step).astype(int), 0, SKIN_CHROMA_BINS - 1)
    counts = np.bincount(a * SKIN_CHROMA_BINS + b, minlength=SKIN_CHROMA_BINS**2).astype(np.float64)
    return _unit(np.sqrt(counts / max(counts.sum(), 1.0)))


class FaceDescriptor:
    """The no-weights identity descriptor (``kind`` landmark_texture_v1, ``strength`` weak)."""

    kind = FACE_DESCRIPTOR_KIND
    strength = WEAK
    frames_per_track = 8  # a hand-made vector is noisy per frame: its cut was set on 8-frame means

    def describe(self, face: LandmarkedFace) -> np.ndarray:
        """One unit vector (float32) for one landmarked face."""
        crop = align_face(face.image, face.five_points())
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        weighted = [TEXTURE_WEIGHT * texture_block(grey, r) for r in LBP_RADII]
        weighted.append(GEOMETRY_WEIGHT * geometry_block(face.landmarks))
        weighted.append(SKIN_WEIGHT * skin_block(crop))
        return _unit(np.concatenate(weighted)).astype(np.float32)

    def embed(self, faces: list[LandmarkedFace]) -> np.ndarray:
        if not faces:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.describe(f) for f in faces])

    @property
    def dimension(self) -> int:
        return len(LBP_RADII) * LBP_GRID**2 * LBP_LABELS + len(_PAIRS) + SKIN_CHROMA_BINS**2
