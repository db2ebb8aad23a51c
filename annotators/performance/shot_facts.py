"""Shot facts of a segment: framing from the face box, camera motion from frame differences.

The face box is the landmarks' extent (forehead to chin), about 0.75 of a whole head. On the
clips in shared/media, head-and-shoulders talking heads measure 0.30-0.60 of frame height, so a
close-up starts at 0.25; a waist-up medium shot puts the face near 0.1.

``frame_motion`` (mean absolute grey-level difference between consecutive frames, on the 128 px
thumbnails the visual analysis stage measures quality on) mixes camera motion with the person's
own motion. Measured there at 25 fps: static cameras 0.2-2.2; a camera drifting past a still
subject 2.95 with the face box nearly still (0.04 frame heights/s); a child bobbing in front of a
static camera 3.2 with the face moving 0.3 frame heights/s; a hand-held selfie 6.8. So below
``STATIC_MAX`` the camera is static, from ``MOVING_MIN`` it moves, and in between it moves only if
the face box is still (the difference is not the person's); otherwise it is unknown.
"""

import numpy as np

from annotators.timelines.smoothed_series import margin_confidence
from schemas.annotation_classes import CameraMotion, Framing, Shot

CLOSE_UP = 0.25
MEDIUM = 0.08
STATIC_MAX = 2.5
MOVING_MIN = 6.0
FACE_STILL = 0.06  # face-box centre speed, frame heights per second


def shot_thresholds() -> dict[str, float]:
    return {"framing_close_up": CLOSE_UP, "framing_medium": MEDIUM, "camera_static_max": STATIC_MAX,
            "camera_moving_min": MOVING_MIN, "camera_face_still": FACE_STILL}


def face_speed(face_box: np.ndarray, fps: float) -> float | None:
    """Median speed of the face-box centre in frame units per second (None without two faces in a row)."""
    box = np.asarray(face_box, dtype=np.float64)
    centre = np.stack([(box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2], axis=1)
    steps = np.linalg.norm(np.diff(centre, axis=0), axis=1)
    steps = steps[np.isfinite(steps)]
    return float(np.median(steps) * fps) if steps.size else None


def shot_section(face_box: np.ndarray, frame_motion: float, fps: float) -> Shot:
    box = np.asarray(face_box, dtype=np.float64)
    heights = (box[:, 3] - box[:, 1])[np.isfinite(box).all(axis=1)]
    coverage = heights.size / max(1, len(box))
    framing: Framing
    camera: CameraMotion
    if heights.size:
        height = float(np.median(heights))
        framing = "close_up" if height >= CLOSE_UP else "medium" if height >= MEDIUM else "wide"
        edge = min(abs(height - CLOSE_UP), abs(height - MEDIUM))
        framing_conf = coverage * margin_confidence(edge / max(height, 1e-6), 0.0, 0.3)
    else:
        height, framing, framing_conf = None, "unknown", 0.0
    speed = face_speed(box, fps)
    motion = float(frame_motion) if np.isfinite(frame_motion) else None
    if motion is None:
        camera, camera_conf = "unknown", 0.0
    elif motion < STATIC_MAX:
        camera, camera_conf = "static", margin_confidence(STATIC_MAX - motion, 0.0, STATIC_MAX / 2)
    elif motion >= MOVING_MIN:
        camera, camera_conf = "moving", margin_confidence(motion, MOVING_MIN, 2 * MOVING_MIN)
    elif speed is not None and speed < FACE_STILL:
        camera = "moving"
        camera_conf = margin_confidence(FACE_STILL - speed, 0.0, FACE_STILL) * margin_confidence(
            motion, STATIC_MAX, MOVING_MIN)
    else:
        camera, camera_conf = "unknown", 0.0
    return Shot(
        framing=framing,
        face_height_frac=None if height is None else round(height, 3),
        camera_motion=camera,
        frame_motion=None if motion is None else round(max(0.0, motion), 3),
        face_speed=None if speed is None else round(speed, 4),
        framing_confidence=round(framing_conf, 3),
        camera_confidence=round(camera_conf, 3),
        # the section is as sure as its less certain fact
        confidence=round(min(framing_conf, camera_conf), 3),
    )
