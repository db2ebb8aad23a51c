"""Expression intervals (smile, frown, surprise, brow raise, eye closure, mouth shapes) from blendshapes.

Each expression has a score built from MediaPipe blendshapes (0..1), smoothed over 0.2 s, and an
interval is where the score reaches ``enter``, stays >= ``leave`` and lasts >= ``min_s``.

Brow, eye and lip-shape scores carry a per-face offset (on the talking-head clips in
shared/media, browInnerUp sits at 0.7-0.9 on some neutral faces and near 0 on others), so for
those rules the thresholds are also raised to ``contrast`` above the segment's own 10th
percentile: the expression must be a change on this face, not its resting shape. Smile and
frown scores rest near 0 on every face measured, so they use the absolute thresholds only.
"""

from dataclasses import dataclass

import numpy as np

from annotators.face.face_signals import BLENDSHAPE_NAMES
from annotators.timelines.smoothed_series import fill_short_gaps, hysteresis_runs, margin_confidence, smooth
from schemas.annotation_classes import ExpressionName

_B = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}
DOMINANT_FRAC = 0.25  # an expression is the segment's dominant one when it covers this share of face frames


@dataclass(frozen=True)
class ExpressionRule:
    name: ExpressionName
    enter: float
    leave: float
    min_s: float
    contrast: float  # 0: absolute thresholds only


EXPRESSION_RULES: tuple[ExpressionRule, ...] = (
    ExpressionRule("smile", 0.35, 0.25, 0.3, 0.0),
    ExpressionRule("frown", 0.3, 0.2, 0.3, 0.0),
    # brows up and eyes wide together; both parts are scored 0..1 before taking the smaller
    ExpressionRule("surprise", 0.5, 0.4, 0.3, 0.25),
    ExpressionRule("brow_raise", 0.5, 0.4, 0.3, 0.25),
    ExpressionRule("brow_furrow", 0.4, 0.3, 0.3, 0.2),
    # longer than a blink (blinks last 0.1-0.4 s), so it is a held eye closure
    ExpressionRule("eye_closure", 0.5, 0.4, 0.5, 0.2),
    # a held open jaw; speech opens the jaw for under 0.3 s at a time
    ExpressionRule("mouth_open", 0.4, 0.3, 0.5, 0.0),
    # speech rounds the lips for a few frames at a time ("oo"); a held pucker is longer
    ExpressionRule("pucker", 0.6, 0.45, 0.5, 0.2),
    ExpressionRule("lips_pressed", 0.4, 0.3, 0.4, 0.2),
)


@dataclass(frozen=True)
class ExpressionInterval:
    expression: ExpressionName
    first: int
    end: int  # exclusive
    mean_intensity: float
    peak_intensity: float
    confidence: float


def _mean(b: np.ndarray, *names: str) -> np.ndarray:
    return b[:, [_B[n] for n in names]].mean(axis=1)


def expression_scores(blendshapes: np.ndarray) -> dict[str, np.ndarray]:
    """Raw per-frame score of each expression (NaN where the face is absent)."""
    b = np.asarray(blendshapes, dtype=np.float64)
    brow_raise = np.maximum(b[:, _B["browInnerUp"]], _mean(b, "browOuterUpLeft", "browOuterUpRight"))
    eye_wide = _mean(b, "eyeWideLeft", "eyeWideRight")
    return {
        "smile": _mean(b, "mouthSmileLeft", "mouthSmileRight"),
        "frown": _mean(b, "mouthFrownLeft", "mouthFrownRight"),
        # eyeWide rarely passes 0.5 even on wide-open eyes, so it counts double
        "surprise": np.minimum(brow_raise, np.minimum(1.0, 2 * eye_wide)),
        "brow_raise": brow_raise,
        "brow_furrow": _mean(b, "browDownLeft", "browDownRight"),
        "eye_closure": _mean(b, "eyeBlinkLeft", "eyeBlinkRight"),
        "mouth_open": b[:, _B["jawOpen"]],
        "pucker": b[:, _B["mouthPucker"]],
        "lips_pressed": _mean(b, "mouthPressLeft", "mouthPressRight"),
    }


def expression_intervals(blendshapes: np.ndarray, fps: float, max_gap_s: float = 0.2) -> list[ExpressionInterval]:
    """Intervals of every expression, in time order."""
    present = np.isfinite(blendshapes).all(axis=1)
    out: list[ExpressionInterval] = []
    if not present.any():
        return out
    scores = expression_scores(blendshapes)
    for rule in EXPRESSION_RULES:
        raw = scores[rule.name]
        score = np.clip(smooth(fill_short_gaps(raw, int(round(max_gap_s * fps))), fps), 0.0, 1.0)
        enter, leave = rule.enter, rule.leave
        if rule.contrast:
            baseline = float(np.percentile(raw[present], 10))
            enter = max(enter, baseline + rule.contrast)
            leave = max(leave, enter - (rule.enter - rule.leave))
        for first, end in hysteresis_runs(score, enter, leave, max(1, int(round(rule.min_s * fps)))):
            window = score[first:end]
            mean, peak = float(np.mean(window)), float(np.max(window))
            confidence = float(np.mean(present[first:end])) * margin_confidence(mean, enter, min(1.0, enter + 0.3))
            out.append(ExpressionInterval(rule.name, first, end, round(mean, 3), round(peak, 3), round(confidence, 3)))
    return sorted(out, key=lambda e: (e.first, e.expression))


def expression_thresholds() -> dict[str, float]:
    out = {"expression_dominant_frac": DOMINANT_FRAC}
    for r in EXPRESSION_RULES:
        out |= {f"{r.name}_enter": r.enter, f"{r.name}_leave": r.leave, f"{r.name}_min_s": r.min_s,
                f"{r.name}_contrast": r.contrast}
    return out
