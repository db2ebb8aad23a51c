"""Gaze behaviour of a segment: at the camera, away, down, or shifting.

Where a person looks is the head direction plus the eyes' direction in the head. The eye part
comes from MediaPipe's eyeLook blendshapes (``gaze_x``/``gaze_y`` in -1..1), converted to degrees
with ``EYE_GAZE_DEG``: on talkvid_talk_emotion_gt the head is turned -13 deg while the eyes hold the
camera with gaze_x 0.63, i.e. about 20 deg per unit. The blendshapes are a coarse gaze measure
(they also move with eyelid shape: eyeLookDown rises as the lids close, so frames with a blink
score >= ``CLOSED_EYES_SCORE`` are left out), and the confidence of this section is capped at
``GAZE_RELIABILITY``.
"""

import numpy as np

from annotators.timelines.smoothed_series import fill_short_gaps, margin_confidence, smooth
from schemas.annotation_classes import Gaze, GazeBehaviour, GazeFractions

EYE_GAZE_DEG = 20.0
AT_CAMERA_H_DEG = 15.0
AT_CAMERA_V_DEG = 18.0  # looser than horizontal: camera height puts a pitch offset on frontal faces
DOWN_DEG = 18.0
DOMINANT_FRAC = 0.6
SHIFTING_PER_MIN = 15.0
MIN_LOOK_S = 0.3  # a look shorter than this is a saccade or noise, not a change of gaze
GAZE_RELIABILITY = 0.8
CLOSED_EYES_SCORE = 0.35
MIN_SHIFTS = 3  # fewer changes than this in a segment is not "shifting", whatever the rate
CLASSES: tuple[GazeBehaviour, ...] = ("at_camera", "away", "down")


def gaze_thresholds() -> dict[str, float]:
    return {"eye_gaze_deg": EYE_GAZE_DEG, "gaze_at_camera_h_deg": AT_CAMERA_H_DEG,
            "gaze_at_camera_v_deg": AT_CAMERA_V_DEG, "gaze_down_deg": DOWN_DEG,
            "gaze_dominant_frac": DOMINANT_FRAC, "gaze_shifting_per_min": SHIFTING_PER_MIN,
            "gaze_min_look_s": MIN_LOOK_S, "gaze_reliability": GAZE_RELIABILITY,
            "gaze_closed_eyes_score": CLOSED_EYES_SCORE, "gaze_min_shifts": MIN_SHIFTS}


def gaze_classes(yaw: np.ndarray, pitch: np.ndarray, gaze_x: np.ndarray, gaze_y: np.ndarray,
                 blink: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame class index into ``CLASSES`` (-1 where there is no face or the eyes are closed)."""
    gap = int(round(0.2 * fps))
    h = smooth(fill_short_gaps(yaw + EYE_GAZE_DEG * gaze_x, gap), fps)
    v = smooth(fill_short_gaps(pitch + EYE_GAZE_DEG * gaze_y, gap), fps)
    out = np.full(len(h), -1, dtype=np.int8)
    known = np.isfinite(h) & np.isfinite(v) & ~(np.nan_to_num(blink, nan=1.0) >= CLOSED_EYES_SCORE)
    at = known & (np.abs(h) <= AT_CAMERA_H_DEG) & (np.abs(v) <= AT_CAMERA_V_DEG)
    down = known & ~at & (v < -DOWN_DEG)
    out[known] = CLASSES.index("away")
    out[at] = CLASSES.index("at_camera")
    out[down] = CLASSES.index("down")
    return out


def _looks(classes: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """(class, length) runs of known frames after absorbing looks shorter than ``min_frames``."""
    runs: list[list[int]] = []
    for c in classes[classes >= 0]:
        if runs and runs[-1][0] == c:
            runs[-1][1] += 1
        else:
            runs.append([int(c), 1])
    changed = True
    while changed and len(runs) > 1:
        changed = False
        i = min(range(len(runs)), key=lambda k: runs[k][1])
        if runs[i][1] < min_frames:
            j = i - 1 if i == len(runs) - 1 or (i > 0 and runs[i - 1][1] >= runs[i + 1][1]) else i + 1
            runs[j][1] += runs.pop(i)[1]
            merged = [runs[0]]
            for run in runs[1:]:
                if run[0] == merged[-1][0]:
                    merged[-1][1] += run[1]
                else:
                    merged.append(run)
            runs, changed = merged, True
    return [(c, n) for c, n in runs]


def gaze_section(yaw: np.ndarray, pitch: np.ndarray, gaze_x: np.ndarray, gaze_y: np.ndarray,
                 blink: np.ndarray, fps: float) -> Gaze:
    classes = gaze_classes(yaw, pitch, gaze_x, gaze_y, blink, fps)
    known = classes >= 0
    n_known = int(known.sum())
    if n_known < fps * 0.5:
        return Gaze(behaviour="unknown", fractions=GazeFractions(**dict.fromkeys(CLASSES, 0.0)), shifts=0,
                    shifts_per_min=0.0, confidence=0.0)
    fractions = {c: round(float(np.mean(classes[known] == i)), 3) for i, c in enumerate(CLASSES)}
    shifts = len(_looks(classes, max(1, int(round(MIN_LOOK_S * fps))))) - 1
    per_min = shifts / (n_known / fps) * 60.0
    dominant = max(CLASSES, key=lambda c: fractions[c])
    coverage = n_known / len(classes)
    behaviour: GazeBehaviour
    if fractions[dominant] >= DOMINANT_FRAC and (per_min < SHIFTING_PER_MIN or shifts < MIN_SHIFTS):
        behaviour = dominant
        confidence = margin_confidence(fractions[dominant], DOMINANT_FRAC, 1.0)
    elif shifts >= MIN_SHIFTS:
        behaviour = "shifting"
        confidence = margin_confidence(per_min, SHIFTING_PER_MIN / 2, SHIFTING_PER_MIN * 2)
    else:
        behaviour, confidence = "unknown", 0.0
    return Gaze(behaviour=behaviour, fractions=GazeFractions(**fractions), shifts=shifts,
                shifts_per_min=round(per_min, 2), confidence=round(coverage * confidence * GAZE_RELIABILITY, 3))
