"""Find faces too small for the full-frame landmarker, and follow them on upscaled crops.

The FaceLandmarker's detector is BlazeFace short range: it finds faces that fill a good part of
its 128x128 input, so a face of 40 px in a 900x512 frame is missed. Here the same detector (it
ships inside ``face_landmarker.task``) runs on overlapping tiles a few times the size of a small
face; each new face is then followed frame by frame by an IMAGE-mode landmarker on a square crop
around its last box, upscaled to the landmarker's input size.
"""

from pathlib import Path

import cv2
import numpy as np

from annotators.face.face_signals import SIGNAL_NAMES, face_signals
from annotators.face.face_tracker import box_iou
from annotators.models.face_detector import BlazeFaceDetector
from annotators.models.face_landmarker import FaceLandmarkerAnnotator, FaceObservation

_MOUTH_DARK = SIGNAL_NAMES.index("mouth_dark")
CROP_SIZE = 256


class SmallFaceFinder:
    def __init__(self, bundle_path: Path, tile: int = 192, stride: int = 128, min_confidence: float = 0.5) -> None:
        self._detector = BlazeFaceDetector(bundle_path, min_confidence)
        self.tile = tile
        self.stride = stride
        self._crop_landmarker = FaceLandmarkerAnnotator(bundle_path, max_faces=1, video_mode=False)

    def close(self) -> None:
        self._detector.close()
        self._crop_landmarker.close()

    def find(self, rgb: np.ndarray, tile: int | None = None) -> list[np.ndarray]:
        """Face boxes (x0, y0, x1, y1, analysis pixels) found on tiles, merged across overlaps.
        ``tile`` (default ``self.tile``, overlapping by a third) sets the smallest face found: a
        face of about a sixth of the tile's side (measured: 192-px tiles found 24-px faces, 256-px
        ones 40-px and 360-px ones 48-px faces, on 12 of 12 talking-head frames)."""
        size = tile or self.tile
        stride = self.stride if tile is None else max(1, size * 2 // 3)
        height, width = rgb.shape[:2]
        boxes: list[tuple[float, np.ndarray]] = []
        for y in _starts(height, size, stride):
            for x in _starts(width, size, stride):
                tile_rgb = rgb[y : y + size, x : x + size]
                offset = np.array([x, y, x, y], dtype=np.float32)
                boxes += [(score, box + offset) for score, box in self._detector.detect(tile_rgb)]
        return merge_boxes(boxes)

    def landmarks_on_crop(self, rgb: np.ndarray, box: np.ndarray, expand: float = 2.2) -> FaceObservation | None:
        """Landmarks of the face in ``box``, from an upscaled square crop, in frame pixels."""
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        side = max(box[2] - box[0], box[3] - box[1]) * expand
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        side_px = max(8, int(round(side)))
        crop = _crop_padded(rgb, x0, y0, side_px)
        scale = CROP_SIZE / side_px
        faces = self._crop_landmarker.detect(cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR))
        if not faces:
            return None
        face = faces[0]
        landmarks = face.landmarks.copy()
        landmarks[:, :2] = landmarks[:, :2] / scale + np.array([x0, y0], dtype=np.float32)
        landmarks[:, 2] /= scale
        pose = tuple(float(v) for v in face.signals.values[:3])
        new_box = np.array(
            [landmarks[:, 0].min(), landmarks[:, 1].min(), landmarks[:, 0].max(), landmarks[:, 1].max()],
            dtype=np.float32,
        )
        # The mouth darkness was read on the upscaled crop, where the box has more pixels.
        darkness = float(face.signals.values[_MOUTH_DARK])
        signals = face_signals(landmarks, face.blendshapes, pose, darkness)
        return FaceObservation(new_box, landmarks, face.blendshapes, signals)


def merge_boxes(scored: list[tuple[float, np.ndarray]], max_iou: float = 0.3) -> list[np.ndarray]:
    """The boxes, best score first, without those overlapping a better one (IoU >= ``max_iou``)."""
    kept: list[np.ndarray] = []
    for _score, box in sorted(scored, key=lambda sb: -sb[0]):
        if all(box_iou(box, k) < max_iou for k in kept):
            kept.append(box)
    return kept


def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def _crop_padded(rgb: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """A side x side crop at (x0, y0), padded with black where it leaves the frame."""
    height, width = rgb.shape[:2]
    out = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + side), min(height, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out
