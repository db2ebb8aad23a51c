"""The performance annotation of one segment, from its per-frame signals.

Every field is measured: states from voice activity and speaking probability, expressions from
blendshapes, head events from the pose series, gaze and blinks from eye blendshapes, voice facts
from VAD and ASR words, shot facts from the face box and frame differences. Each section says
how sure it is, and the thresholds used are written into the annotation so any field can be
re-checked against the signals later. It is built as the classes generated from
``schemas/performance_annotation.json`` and its document (``annotation_document``) is validated
against that schema before it is returned.
"""

from dataclasses import dataclass

import numpy as np

from annotators.face.face_signals import BLENDSHAPE_NAMES, SIGNAL_NAMES, Signal
from annotators.performance.blink_rate import blink_section, blink_thresholds
from annotators.performance.expression_timeline import DOMINANT_FRAC, expression_intervals, expression_thresholds
from annotators.performance.gaze_behaviour import gaze_section, gaze_thresholds
from annotators.performance.listener_reactions import listener_reactions, reaction_thresholds
from annotators.performance.motion_events import MotionThresholds, detect_head_events
from annotators.performance.shot_facts import shot_section, shot_thresholds
from annotators.performance.voice_facts import voice_section, voice_thresholds
from annotators.timelines.smoothed_series import fill_short_gaps, margin_confidence, smooth
from annotators.timelines.state_timeline import runs
from schemas.annotation_classes import (
    AnnotatedSegment,
    DominantExpression,
    Expressions,
    ExpressionShare,
    ExpressionSpan,
    HeadEvent,
    HeadMotionLevel,
    HeadPose,
    Mouth,
    MouthActivity,
    PerformanceAnnotation,
    Pose,
    StateFractions,
    StateRun,
    StateSummary,
)
from schemas.performance_annotation import ANNOTATION_SCHEMA_VERSION, annotation_document, validate_annotation
from schemas.performer_states import PerformerState, state_name
from schemas.speech_rows import TranscribedWord

HEAD_STILL_DEG = 3.0  # every axis's 5-95 percentile range below this: the head is still
HEAD_LIVELY_DEG = 15.0
MOUTH_ACTIVE = 0.12  # mouth-opening change per second: speech measured 0.15-0.33 on shared/media
MOUTH_STILL = 0.04  # closed or held mouths measured 0.002-0.03; smiles alone about 0.06


@dataclass(frozen=True)
class SegmentSignals:
    fps: float  # analysis frame rate (e.g. 25)
    t_start: float  # source seconds of frame 0
    states: np.ndarray  # (n,) int8 PerformerState codes
    present: np.ndarray  # (n,) bool face found
    signals: np.ndarray  # (n, len(SIGNAL_NAMES)) float (NaN where absent)
    blendshapes: np.ndarray  # (n, 52) float (NaN where absent)
    vad_prob: np.ndarray  # (n,) voice activity of the audio mix
    speaking_prob: np.ndarray  # (n,) probability the visible person speaks
    loudness_db: float  # segment audio RMS dBFS
    words: list[TranscribedWord] | None  # source seconds, or None if no ASR
    face_box: np.ndarray  # (n, 4) x0, y0, x1, y1 normalised 0..1 of the frame (NaN where absent)
    frame_motion: float  # mean abs frame difference of the shot (0..255 grey levels)


def _check(s: SegmentSignals) -> int:
    n = len(s.states)
    shapes = {"present": (n,), "signals": (n, len(SIGNAL_NAMES)), "blendshapes": (n, len(BLENDSHAPE_NAMES)),
              "vad_prob": (n,), "speaking_prob": (n,), "face_box": (n, 4)}
    wrong = [f"{k} {np.shape(getattr(s, k))} != {v}" for k, v in shapes.items() if np.shape(getattr(s, k)) != v]
    if n and not np.isin(s.states, [int(c) for c in PerformerState]).all():
        wrong.append(f"states hold codes other than {[int(c) for c in PerformerState]}")
    if n == 0 or s.fps <= 0 or wrong:
        raise ValueError(f"bad SegmentSignals: n={n}, fps={s.fps}; " + "; ".join(wrong))
    return n


def _absent_to_nan(s: SegmentSignals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signals, blendshapes and face boxes with every frame without a face set to NaN."""
    present = np.asarray(s.present, dtype=bool)
    arrays = [np.asarray(a, dtype=np.float64).copy() for a in (s.signals, s.blendshapes, s.face_box)]
    for a in arrays:
        a[~present] = np.nan
    return arrays[0], arrays[1], arrays[2]


def _state_sections(s: SegmentSignals, t: float) -> tuple[StateSummary, list[StateRun]]:
    codes = np.asarray(s.states, dtype=np.int64)
    vad, speak = np.nan_to_num(s.vad_prob, nan=0.5), np.nan_to_num(s.speaking_prob, nan=0.5)
    # how clear-cut the inputs of each frame's state were: idle depends on the voice alone
    decisive = np.where(codes == PerformerState.IDLE, np.abs(vad - 0.5),
                        np.minimum(np.abs(vad - 0.5), np.abs(speak - 0.5))) * 2
    fractions = np.bincount(codes, minlength=3)[:3] / len(codes)
    dominant = int(np.argmax(fractions))
    timeline = []
    for code, first, length in runs(codes):
        timeline.append(StateRun(state=state_name(code), t_start=round(t + first / s.fps, 3),
                                 t_end=round(t + (first + length) / s.fps, 3), n_frames=length,
                                 confidence=round(float(np.mean(decisive[first : first + length])), 3)))
    state = StateSummary(
        dominant=state_name(dominant),
        fractions=StateFractions(**{state_name(c): round(float(fractions[c]), 3) for c in range(3)}),
        n_changes=len(timeline) - 1,
        confidence=round(float(fractions[dominant] * np.mean(decisive[codes == dominant])), 3),
    )
    return state, timeline


def _expression_section(blendshapes: np.ndarray, present_frac: float, fps: float, t: float) -> Expressions:
    present = np.isfinite(blendshapes).all(axis=1)
    intervals = expression_intervals(blendshapes, fps)
    timeline = [ExpressionSpan(expression=e.expression, t_start=round(t + e.first / fps, 3),
                               t_end=round(t + e.end / fps, 3), mean_intensity=e.mean_intensity,
                               peak_intensity=e.peak_intensity, confidence=e.confidence) for e in intervals]
    summary = []
    for name in dict.fromkeys(e.expression for e in intervals):
        mine = [e for e in intervals if e.expression == name]
        covered = np.zeros(len(present), dtype=bool)
        for e in mine:
            covered[e.first : e.end] = True
        frames = [(e.end - e.first, e.mean_intensity) for e in mine]
        summary.append(ExpressionShare(
            expression=name,
            frac=round(float(np.sum(covered & present) / max(1, present.sum())), 3),
            mean_intensity=round(sum(n * m for n, m in frames) / sum(n for n, _m in frames), 3),
            peak_intensity=max(e.peak_intensity for e in mine),
        ))
    summary.sort(key=lambda x: -x.frac)
    dominant: DominantExpression
    if present_frac < 0.5:
        dominant = "unknown"
    else:
        dominant = summary[0].expression if summary and summary[0].frac >= DOMINANT_FRAC else "neutral"
    return Expressions(dominant=dominant, summary=summary, timeline=timeline, confidence=round(present_frac, 3))


def _head_pose_section(signals: np.ndarray, present_frac: float) -> HeadPose:
    pose = signals[:, [Signal.YAW, Signal.PITCH, Signal.ROLL]]
    pose = pose[np.isfinite(pose).all(axis=1)]
    if len(pose) < 2:
        return HeadPose(median_deg=None, range_deg=None, level="unknown", confidence=0.0)
    spread = np.percentile(pose, 95, axis=0) - np.percentile(pose, 5, axis=0)
    widest = float(spread.max())
    level: HeadMotionLevel = (
        "still" if widest < HEAD_STILL_DEG else "lively" if widest >= HEAD_LIVELY_DEG else "moderate"
    )
    edge = min(abs(widest - HEAD_STILL_DEG), abs(widest - HEAD_LIVELY_DEG))
    return HeadPose(median_deg=_pose(np.median(pose, axis=0)), range_deg=_pose(spread), level=level,
                    confidence=round(present_frac * margin_confidence(edge, 0.0, HEAD_STILL_DEG / 2), 3))


def _pose(yaw_pitch_roll: np.ndarray) -> Pose:
    yaw, pitch, roll = (round(float(v), 2) for v in yaw_pitch_roll)
    return Pose(yaw=yaw, pitch=pitch, roll=roll)


def _mouth_section(signals: np.ndarray, states: np.ndarray, fps: float, present_frac: float) -> Mouth:
    opening = signals[:, Signal.MOUTH_OPEN]
    speaking_frac = round(float(np.mean(states == PerformerState.SPEAKING)), 3)
    valid = opening[np.isfinite(opening)]
    steps = np.abs(np.diff(smooth(fill_short_gaps(opening, int(round(0.2 * fps))), fps)))
    steps = steps[np.isfinite(steps)]
    if valid.size < 2 or not steps.size:
        return Mouth(activity="unknown", open_mean=None, open_std=None, motion_per_s=None,
                     speaking_frac=speaking_frac, confidence=0.0)
    motion = float(np.mean(steps) * fps)
    activity: MouthActivity = "active" if motion >= MOUTH_ACTIVE else "still" if motion < MOUTH_STILL else "slight"
    edge = min(abs(motion - MOUTH_ACTIVE) / MOUTH_ACTIVE, abs(motion - MOUTH_STILL) / MOUTH_STILL)
    return Mouth(activity=activity, open_mean=round(float(valid.mean()), 4),
                 open_std=round(float(valid.std()), 4), motion_per_s=round(motion, 4),
                 speaking_frac=speaking_frac,
                 confidence=round(present_frac * margin_confidence(edge, 0.0, 0.5), 3))


def annotate_segment(s: SegmentSignals) -> PerformanceAnnotation:
    """The performance annotation of one segment (its document valid against the schema)."""
    n = _check(s)
    signals, blendshapes, face_box = _absent_to_nan(s)
    t, fps = float(s.t_start), float(s.fps)
    present_frac = float(np.mean(np.asarray(s.present, dtype=bool)))
    states = np.asarray(s.states, dtype=np.int64)
    motion = MotionThresholds()
    head_events = [
        HeadEvent(type=e.type, t_start=round(t + e.first / fps, 3), t_end=round(t + e.end / fps, 3),
                  amplitude_deg=e.amplitude_deg, cycles=e.cycles, direction=e.direction, snr=e.snr,
                  confidence=e.confidence)
        for e in detect_head_events(signals[:, Signal.YAW], signals[:, Signal.PITCH], signals[:, Signal.ROLL], fps,
                                    motion)
    ]
    state, timeline = _state_sections(s, t)
    expressions = _expression_section(blendshapes, present_frac, fps, t)
    vad = np.nan_to_num(np.asarray(s.vad_prob, dtype=np.float64))
    speak = np.nan_to_num(np.asarray(s.speaking_prob, dtype=np.float64))
    annotation = PerformanceAnnotation(
        schema_version=ANNOTATION_SCHEMA_VERSION,
        segment=AnnotatedSegment(t_start=round(t, 3), t_end=round(t + n / fps, 3), fps=fps, n_frames=n,
                                 present_frac=round(present_frac, 3), confidence=round(present_frac, 3)),
        state=state,
        state_timeline=timeline,
        expressions=expressions,
        head_pose=_head_pose_section(signals, present_frac),
        head_events=head_events,
        gaze=gaze_section(signals[:, Signal.YAW], signals[:, Signal.PITCH], signals[:, Signal.GAZE_X],
                          signals[:, Signal.GAZE_Y], signals[:, Signal.BLINK], fps),
        blinks=blink_section(signals[:, Signal.BLINK], fps, t),
        mouth=_mouth_section(signals, states, fps, present_frac),
        voice=voice_section(vad, states, float(s.loudness_db), s.words, fps, t),
        listener_reactions=listener_reactions(states, vad, speak, head_events, expressions.timeline, fps, t),
        shot=shot_section(face_box, float(s.frame_motion), fps),
        thresholds={**motion.as_dict(), **expression_thresholds(), **gaze_thresholds(), **blink_thresholds(),
                    **voice_thresholds(), **reaction_thresholds(), **shot_thresholds(),
                    "head_still_deg": HEAD_STILL_DEG, "head_lively_deg": HEAD_LIVELY_DEG,
                    "mouth_active_motion": MOUTH_ACTIVE, "mouth_still_motion": MOUTH_STILL},
    )
    validate_annotation(annotation_document(annotation))
    return annotation
