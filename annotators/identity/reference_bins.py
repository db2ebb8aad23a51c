"""Viewpoint and expression bins of a face, and a quality score for choosing references.

Viewpoint (yaw > 0: the person turns to their own left): frontal within 15 degrees; three-quarter
from 15 to 45; profile beyond 45; up/down when the pitch passes 15 degrees while the yaw is
frontal. Expression, first match wins: eyes closed, teeth (open mouth), smile, raised brows,
frown, neutral. The score prefers sharp, large faces with open eyes.
"""

import cv2
import numpy as np

from annotators.face.face_signals import Signal

VIEW_BINS = ("frontal", "three_quarter_left", "three_quarter_right", "profile_left", "profile_right", "up", "down")
EXPRESSION_BINS = ("eyes_closed", "teeth", "smile", "brows_raised", "frown", "neutral")


def view_bin(yaw: float, pitch: float) -> str:
    if abs(yaw) < 15:
        if pitch >= 15:
            return "up"
        if pitch <= -15:
            return "down"
        return "frontal"
    side = "left" if yaw > 0 else "right"
    return f"three_quarter_{side}" if abs(yaw) < 45 else f"profile_{side}"


def expression_bin(signals: np.ndarray) -> str:
    s = np.nan_to_num(signals.astype(np.float32))
    if s[Signal.BLINK] > 0.5:
        return "eyes_closed"
    if s[Signal.JAW_OPEN] > 0.3 or s[Signal.MOUTH_OPEN] > 0.08:
        return "teeth"
    if s[Signal.SMILE] > 0.4:
        return "smile"
    if s[Signal.BROW_RAISE] > 0.4:
        return "brows_raised"
    if s[Signal.FROWN] > 0.3:
        return "frown"
    return "neutral"


def crop_sharpness(jpeg: bytes) -> float:
    grey = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var()) if grey is not None else 0.0


def reference_score(sharpness: float, face_height_px: float, eyes_open: float) -> float:
    """0..1: saturating in sharpness (150) and face size (300 px), times how open the eyes are."""
    return float(min(1.0, sharpness / 150.0) * min(1.0, face_height_px / 300.0) * (0.5 + 0.5 * eyes_open))


def candidate_facts(signals: np.ndarray, face_jpeg: bytes, scale: float) -> dict:
    """Bins and scores of one candidate crop (``scale``: analysis pixels per source pixel)."""
    signals = signals.astype(np.float32)
    sharpness = crop_sharpness(face_jpeg)
    face_height = float(signals[Signal.FACE_HEIGHT] / scale)
    eyes_open = float(1.0 - np.clip(signals[Signal.BLINK], 0, 1))
    return {
        "view_bin": view_bin(float(signals[Signal.YAW]), float(signals[Signal.PITCH])),
        "expression_bin": expression_bin(signals),
        "sharpness": sharpness,
        "face_height_px": face_height,
        "yaw": float(signals[Signal.YAW]),
        "pitch": float(signals[Signal.PITCH]),
        "score": reference_score(sharpness, face_height, eyes_open),
    }
