"""Blinks and blink rate from the per-frame blink score (mean of eyeBlinkLeft/Right).

A blink is a short peak: the score rises >= ``MIN_PROMINENCE`` above its surroundings to at least
``MIN_SCORE`` and is back within ``MAX_S`` at half height (a longer closure is an expression,
``eye_closure``, not a blink). Open-eye scores differ by face (0.02-0.12 on the clips in
shared/media, higher behind glasses), which is why the test is prominence rather than a level.
The series is not smoothed: a blink lasts only 3-8 frames at 25 fps.
"""

import numpy as np
from scipy.signal import find_peaks, peak_widths

from annotators.timelines.smoothed_series import fill_short_gaps
from schemas.annotation_classes import Blinks

MIN_SCORE = 0.35
MIN_PROMINENCE = 0.25
MAX_S = 0.4
MIN_INTERVAL_S = 0.2
FULL_CONFIDENCE_S = 10.0  # a rate from fewer seconds of face is less certain


def blink_thresholds() -> dict[str, float]:
    return {"blink_min_score": MIN_SCORE, "blink_min_prominence": MIN_PROMINENCE, "blink_max_s": MAX_S,
            "blink_min_interval_s": MIN_INTERVAL_S, "blink_full_confidence_s": FULL_CONFIDENCE_S}


def blink_frames(blink: np.ndarray, fps: float) -> np.ndarray:
    """Frame index of each blink's peak."""
    score = np.nan_to_num(fill_short_gaps(blink, 2), nan=0.0)
    peaks, props = find_peaks(score, height=MIN_SCORE, prominence=MIN_PROMINENCE,
                              distance=max(1, int(round(MIN_INTERVAL_S * fps))))
    if not len(peaks):
        return peaks
    widths = peak_widths(score, peaks, rel_height=0.5,
                         prominence_data=(props["prominences"], props["left_bases"], props["right_bases"]))[0]
    return peaks[widths <= MAX_S * fps]


def blink_section(blink: np.ndarray, fps: float, t_start: float) -> Blinks:
    present = np.isfinite(blink)
    observed_s = float(present.sum()) / fps
    if observed_s < 1.0:
        return Blinks(count=0, rate_per_min=None, times=[], confidence=0.0)
    frames = blink_frames(blink, fps)
    rate = len(frames) / observed_s * 60.0
    confidence = float(np.mean(present)) * min(1.0, observed_s / FULL_CONFIDENCE_S)
    return Blinks(count=len(frames), rate_per_min=round(rate, 2),
                  times=[round(t_start + float(f) / fps, 3) for f in frames], confidence=round(confidence, 3))
