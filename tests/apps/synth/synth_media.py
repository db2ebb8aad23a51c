"""Read back what the generator wrote: decoded frames, decoded audio, ffprobe facts, and what a
real face model measures on a face inside a frame."""

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np

from apps.synth.still_landmarks import FaceObservation, StillFaceLandmarker, box_iou

CORPUS_SEED = 3  # the session corpus of conftest.small_corpus
CORPUS_DURATION_S = 8.0
DETECTOR_MIN_SIDE = 256  # the short-range detector wants a face filling a good part of the image


def decode_frames(video: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def decode_audio(video: Path, rate: int = 16_000) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(video), "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0


def probe(video: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", str(video)],
        capture_output=True, check=True, timeout=60,
    ).stdout
    return json.loads(out)


def face_in_box(
    landmarker: StillFaceLandmarker, frame: np.ndarray, box: np.ndarray
) -> tuple[FaceObservation, float] | None:
    """Detect the face around a truth box (cropped and enlarged, as a pipeline would for a small
    face); return it in frame coordinates with its IoU against the box."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = 2.4 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height, width = frame.shape[:2]
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    crop = frame[top:bottom, left:right]
    scale = max(1.0, DETECTOR_MIN_SIDE / max(min(crop.shape[:2]), 1))
    if scale > 1:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    faces = landmarker.detect(crop)
    if not faces:
        return None
    best = None
    for face in faces:
        moved = FaceObservation(face.landmarks / np.float32(scale) + np.float32([left, top]), face.blendshapes)
        iou = box_iou(moved.box, (x0, y0, x1, y1))
        if best is None or iou > best[1]:
            best = (moved, iou)
    return best
