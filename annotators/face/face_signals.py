"""Per-face scalar performance signals from landmarks and blendshapes.

These are what later stages read: mouth opening for speaking detection, expression scores for
captions and reference bins, gaze for captions, the 5 key points for face alignment.
"""

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

# MediaPipe face-mesh indices
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
FOREHEAD_TOP, CHIN_BOTTOM = 10, 152
LEFT_EYE_CENTER_IDX = (33, 133)  # the person's right eye, image left
RIGHT_EYE_CENTER_IDX = (362, 263)
NOSE_TIP, MOUTH_LEFT, MOUTH_RIGHT = 1, 61, 291
# Iris centres exist only in the 478-point model
IRIS_A, IRIS_B = 468, 473

BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
_B = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}

class Signal(IntEnum):
    """Columns of the per-frame signal vector kept for every track frame, in their stored order:
    ``signals[:, Signal.YAW]`` reads a column, and a misspelt one fails where it is written."""

    YAW = 0
    PITCH = 1
    ROLL = 2
    MOUTH_OPEN = 3
    JAW_OPEN = 4
    SMILE = 5
    FROWN = 6
    BROW_RAISE = 7
    BROW_DOWN = 8
    BLINK = 9
    EYE_WIDE = 10
    GAZE_X = 11
    GAZE_Y = 12
    FACE_HEIGHT = 13
    MOUTH_DARK = 14  # pixel darkness of the mouth box (annotators.face.mouth_darkness); NaN when not read


# The head pose's columns (yaw, pitch, roll, degrees): ``signals[:, HEAD_POSE]``.
HEAD_POSE = slice(Signal.YAW, Signal.ROLL + 1)

# The stored column names, in order ("yaw", "pitch", ..., "mouth_dark").
SIGNAL_NAMES: tuple[str, ...] = tuple(signal.name.lower() for signal in Signal)


@dataclass(frozen=True)
class FaceSignals:
    values: np.ndarray  # (len(SIGNAL_NAMES),) float32
    kps5: np.ndarray  # (5, 2) pixels: eye (image left), eye (image right), nose, mouth left, mouth right


def five_keypoints(landmarks_px: np.ndarray) -> np.ndarray:
    if len(landmarks_px) > IRIS_B:
        eye_a, eye_b = landmarks_px[IRIS_A, :2], landmarks_px[IRIS_B, :2]
    else:
        eye_a = landmarks_px[list(LEFT_EYE_CENTER_IDX), :2].mean(axis=0)
        eye_b = landmarks_px[list(RIGHT_EYE_CENTER_IDX), :2].mean(axis=0)
    left, right = (eye_a, eye_b) if eye_a[0] <= eye_b[0] else (eye_b, eye_a)
    return np.stack(
        [left, right, landmarks_px[NOSE_TIP, :2], landmarks_px[MOUTH_LEFT, :2], landmarks_px[MOUTH_RIGHT, :2]]
    ).astype(np.float32)


def face_height_px(landmarks_px: np.ndarray) -> float:
    """Forehead top to chin bottom, in the landmarks' pixels (the ``face_height`` signal)."""
    top, chin = landmarks_px[FOREHEAD_TOP], landmarks_px[CHIN_BOTTOM]
    return math.hypot(float(top[0] - chin[0]), float(top[1] - chin[1]))


def face_signals(
    landmarks_px: np.ndarray,
    blendshapes: np.ndarray,
    pose: tuple[float, float, float],
    mouth_dark: float = float("nan"),
) -> FaceSignals:
    """Signals of one face in one frame; ``landmarks_px`` is (478, 3) in analysis pixels.

    ``mouth_dark`` needs the frame's pixels, so the caller that has them measures it."""
    # Plain floats: this runs for every face on every landmarked frame, and numpy's per-call
    # overhead on two-element means was most of its cost.
    upper, lower = landmarks_px[UPPER_INNER_LIP], landmarks_px[LOWER_INNER_LIP]
    face_height = face_height_px(landmarks_px)
    lip_gap = math.hypot(float(upper[0] - lower[0]), float(upper[1] - lower[1]))
    b = blendshapes.tolist()

    def mean(first: str, second: str) -> float:
        return (b[_B[first]] + b[_B[second]]) / 2

    # Gaze: positive x = looking towards the person's left, positive y = looking up.
    gaze_x = mean("eyeLookOutLeft", "eyeLookInRight") - mean("eyeLookInLeft", "eyeLookOutRight")
    gaze_y = mean("eyeLookUpLeft", "eyeLookUpRight") - mean("eyeLookDownLeft", "eyeLookDownRight")
    values = np.array(
        [
            *pose,
            lip_gap / max(face_height, 1e-6),
            b[_B["jawOpen"]],
            mean("mouthSmileLeft", "mouthSmileRight"),
            mean("mouthFrownLeft", "mouthFrownRight"),
            max(b[_B["browInnerUp"]], mean("browOuterUpLeft", "browOuterUpRight")),
            mean("browDownLeft", "browDownRight"),
            mean("eyeBlinkLeft", "eyeBlinkRight"),
            mean("eyeWideLeft", "eyeWideRight"),
            gaze_x,
            gaze_y,
            face_height,
            mouth_dark,
        ],
        dtype=np.float32,
    )
    return FaceSignals(values, five_keypoints(landmarks_px))
