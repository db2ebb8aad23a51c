"""Find faces too small for the full-frame landmarker, and follow them on upscaled crops.

The FaceLandmarker's detector is BlazeFace short range: it finds faces that fill a good part of
its 128x128 input, so a face of 40 px in a 900x512 frame is missed. Here the same detector (it
ships inside ``face_landmarker.task``) runs on overlapping tiles a few times the size of a small
face; each new face is then followed frame by frame by an IMAGE-mode landmarker on a square crop
around its last box, upscaled to the landmarker's input size.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from annotators.face.face_signals import Signal, face_height_px, face_signals
from annotators.face.face_tracker import box_iou
from annotators.face.head_pose import head_pose_degrees
from annotators.models.face_detector import BlazeFaceDetector
from annotators.models.face_landmarker import FaceLandmarkerAnnotator, FaceObservation, landmark_box

CROP_SIZE = 256


@dataclass(frozen=True)
class CropConfirmation:
    """A face the landmarker confirms on its crop: the landmarks' box and forehead-to-chin height
    in frame pixels, and the head's yaw and pitch (degrees); the numbers ``landmarks_on_crop``'s
    observation carries (its float32 signals), without the blendshapes."""

    box: np.ndarray
    height_px: float
    yaw: float
    pitch: float


@dataclass(frozen=True)
class _Crop:
    """A square crop around a face, upscaled to ``CROP_SIZE``: frame pixel = crop pixel / scale + origin."""

    rgb: np.ndarray
    scale: float
    origin: np.ndarray  # (2,) float32 x0, y0 of the crop in the frame

    def to_frame(self, landmarks_crop_px: np.ndarray) -> np.ndarray:
        landmarks = landmarks_crop_px.copy()
        landmarks[:, :2] = landmarks[:, :2] / self.scale + self.origin
        landmarks[:, 2] /= self.scale
        return landmarks


class SmallFaceFinder:
    def __init__(self, bundle_path: Path, tile: int = 192, stride: int = 128, min_confidence: float = 0.5) -> None:
        self._detector = BlazeFaceDetector(bundle_path, min_confidence)
        self.tile = tile
        self.stride = stride
        self._crop_landmarker = FaceLandmarkerAnnotator(bundle_path, max_faces=1, video_mode=False)
        # the analysis cascade confirms the detector's faces: landmarks and pose, no blendshapes
        self._confirm_landmarker = FaceLandmarkerAnnotator(
            bundle_path, max_faces=1, video_mode=False, blendshapes=False
        )

    def close(self) -> None:
        self._detector.close()
        self._crop_landmarker.close()
        self._confirm_landmarker.close()

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
        crop = _crop_around(rgb, box, expand)
        faces = self._crop_landmarker.detect(crop.rgb)
        if not faces:
            return None
        face = faces[0]
        landmarks = crop.to_frame(face.landmarks)
        pose = tuple(float(v) for v in face.signals.values[:3])
        # The mouth darkness was read on the upscaled crop, where the box has more pixels.
        darkness = float(face.signals.values[Signal.MOUTH_DARK])
        signals = face_signals(landmarks, face.blendshapes, pose, darkness)
        return FaceObservation(landmark_box(landmarks), landmarks, face.blendshapes, signals)

    def confirm_on_crop(self, rgb: np.ndarray, box: np.ndarray, expand: float = 2.2) -> CropConfirmation | None:
        """Whether the landmarker finds a face in ``box`` (on the same crop as ``landmarks_on_crop``),
        with its box, height and pose: the same numbers, at about 1 ms less, since no blendshapes
        are computed for a face that only decides where the landmarker runs."""
        crop = _crop_around(rgb, box, expand)
        faces = self._confirm_landmarker.detect_raw(crop.rgb)
        if not faces:
            return None
        raw = faces[0]
        landmarks = crop.to_frame(raw.landmarks * np.float32(CROP_SIZE))
        yaw, pitch, _roll = head_pose_degrees(raw.matrix)
        # rounded as the observation's float32 signals round them
        height, yaw, pitch = (float(np.float32(v)) for v in (face_height_px(landmarks), yaw, pitch))
        return CropConfirmation(landmark_box(landmarks), height, yaw, pitch)


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


def _crop_around(rgb: np.ndarray, box: np.ndarray, expand: float) -> _Crop:
    """The square ``expand`` times the box's larger side around its centre, upscaled to ``CROP_SIZE``."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1]) * expand
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    side_px = max(8, int(round(side)))
    crop = _crop_padded(rgb, x0, y0, side_px)
    upscaled = cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)
    return _Crop(upscaled, CROP_SIZE / side_px, np.array([x0, y0], dtype=np.float32))


def _crop_padded(rgb: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """A side x side crop at (x0, y0), padded with black where it leaves the frame."""
    height, width = rgb.shape[:2]
    out = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + side), min(height, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out
