"""The performance annotation as classes, generated from ``performance_annotation.json`` by
``python -m schemas.annotation_codegen > schemas/annotation_classes.py``: do not edit by hand.

Read a document with ``curation.store.plain_codec.decode(document, {}, PerformanceAnnotation)``.
"""

from dataclasses import dataclass
from typing import Literal

SCHEMA_ID = "https://lpm-curation.local/schemas/performance_annotation/1.0.0.json"

StateName = Literal["idle", "speaking", "listening"]
ExpressionName = Literal[
    "smile", "frown", "surprise", "brow_raise", "brow_furrow", "eye_closure", "mouth_open", "pucker",
    "lips_pressed",
]
HeadEventType = Literal["nod", "shake", "tilt", "turn_toward", "turn_away"]
SchemaVersion = Literal["1.0.0"]
DominantExpression = ExpressionName | Literal["neutral", "unknown"]
HeadMotionLevel = Literal["still", "moderate", "lively", "unknown"]
TurnDirection = Literal["left", "right"]
GazeBehaviour = Literal["at_camera", "away", "down", "shifting", "unknown"]
MouthActivity = Literal["still", "slight", "active", "unknown"]
VoiceOwner = Literal["performer", "partner", "mixed", "none"]
SpeechRate = Literal["slow", "moderate", "fast", "unknown"]
ReactionType = Literal["back_channel_nod", "smile", "vocalisation"]
Framing = Literal["close_up", "medium", "wide", "unknown"]
CameraMotion = Literal["static", "moving", "unknown"]


@dataclass(frozen=True, kw_only=True)
class AnnotatedSegment:
    """The frames annotated. confidence = present_frac."""

    t_start: float
    t_end: float
    fps: float
    n_frames: int
    present_frac: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class StateFractions:
    """``state.fractions`` of the annotation document."""

    idle: float
    speaking: float
    listening: float


@dataclass(frozen=True, kw_only=True)
class StateSummary:
    """Dominant conversational state (PerformerState names) and the share of frames in each. confidence = dominant
    share x mean decisiveness of voice activity and speaking probability (|p - 0.5| x 2)."""

    dominant: StateName
    fractions: StateFractions
    n_changes: int
    confidence: float


@dataclass(frozen=True, kw_only=True)
class StateRun:
    """``state_timeline[]`` of the annotation document."""

    state: StateName
    t_start: float
    t_end: float
    n_frames: int
    confidence: float


@dataclass(frozen=True, kw_only=True)
class ExpressionShare:
    """``expressions.summary[]`` of the annotation document."""

    expression: ExpressionName
    frac: float
    mean_intensity: float
    peak_intensity: float


@dataclass(frozen=True, kw_only=True)
class ExpressionSpan:
    """``expressions.timeline[]`` of the annotation document."""

    expression: ExpressionName
    t_start: float
    t_end: float
    mean_intensity: float
    peak_intensity: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Expressions:
    """Expression intervals: a score per expression from blendshapes (smoothed over 0.2 s) reaching <name>_enter,
    lasting while >= <name>_leave and at least <name>_min_s; when <name>_contrast > 0 both thresholds are also
    raised to that much above the segment's own 10th percentile, because brow and eye scores carry a per-face
    offset. summary per expression; dominant = the expression covering the largest share of face frames when that
    share is at least expression_dominant_frac, else neutral (unknown when the face is mostly absent). Interval
    confidence = share of face frames x margin of the mean score over <name>_enter (full at +0.3)."""

    dominant: DominantExpression
    summary: list[ExpressionShare]
    timeline: list[ExpressionSpan]
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Pose:
    """``$defs/pose_or_null`` of the annotation document."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True, kw_only=True)
class HeadPose:
    """Median head pose and its 5-95 percentile range over face frames (degrees). level: still when every range <
    head_still_deg, lively when any range >= head_lively_deg, else moderate."""

    median_deg: Pose | None
    range_deg: Pose | None
    level: HeadMotionLevel
    confidence: float


@dataclass(frozen=True, kw_only=True)
class HeadEvent:
    """``head_events[]`` of the annotation document."""

    type: HeadEventType
    t_start: float
    t_end: float
    amplitude_deg: float
    cycles: int
    direction: TurnDirection | None
    snr: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class GazeFractions:
    """``gaze.fractions`` of the annotation document."""

    at_camera: float
    away: float
    down: float


@dataclass(frozen=True, kw_only=True)
class Gaze:
    """Per-frame gaze direction = head pose + eye_gaze_deg x eye gaze score (horizontal: yaw + gaze_x, vertical:
    pitch + gaze_y); at_camera when within gaze_at_camera_h_deg / gaze_at_camera_v_deg of the camera axis, down when
    below -gaze_down_deg, else away; frames with closed eyes (blink score >= gaze_closed_eyes_score) are not
    classed. Looks shorter than gaze_min_look_s are merged into their neighbours. behaviour: a class holding >=
    gaze_dominant_frac of classed frames unless there are >= gaze_min_shifts changes at >= gaze_shifting_per_min per
    minute; else shifting when >= gaze_min_shifts changes; else unknown."""

    behaviour: GazeBehaviour
    fractions: GazeFractions
    shifts: int
    shifts_per_min: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Blinks:
    """Blinks = peaks of the blink score (height >= blink_min_score, prominence >= blink_min_prominence, half-height
    width <= blink_max_s). rate_per_min over face-present time; confidence grows with observed time (full at
    blink_full_confidence_s)."""

    count: int
    rate_per_min: float | None
    times: list[float]
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Mouth:
    """Mouth opening (inner-lip gap / face height) statistics. motion_per_s = mean |change| of the smoothed opening
    per second; activity: active >= mouth_active_motion, still < mouth_still_motion, else slight."""

    activity: MouthActivity
    open_mean: float | None
    open_std: float | None
    motion_per_s: float | None
    speaking_frac: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Interval:
    """``$defs/interval`` of the annotation document."""

    t_start: float
    t_end: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Voice:
    """The segment's audio. owner: whose voice the voiced frames are (performer when >= 70% of them are speaking
    frames, partner when >= 70% are listening frames, none without voice, else mixed). Speech rate only from ASR
    words (words per voiced second); without ASR it is unknown, never estimated. Pauses = unvoiced runs >=
    pause_min_s between voiced frames. confidence = decisiveness of voice activity (|p - 0.5| x 2);
    speech_rate_confidence = min(1, n_words / speech_rate_full_words) x margin of the rate from the class edges (0
    without a rate)."""

    loudness_db: float
    voiced_frac: float
    owner: VoiceOwner
    asr: bool
    n_words: int | None
    speech_rate_wps: float | None
    speech_rate: SpeechRate
    pauses: list[Interval]
    speech_rate_confidence: float
    transcript: str | None
    confidence: float


@dataclass(frozen=True, kw_only=True)
class ListenerReaction:
    """``listener_reactions[]`` of the annotation document."""

    type: ReactionType
    t_start: float
    t_end: float
    evidence: str | None
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Shot:
    """framing from the median face-box height as a fraction of frame height (close_up >= framing_close_up, medium
    >= framing_medium, else wide); camera_motion from the mean grey-level frame difference: static <
    camera_static_max, moving when >= camera_moving_min or when >= camera_static_max while the face box stays still
    (face_speed < camera_face_still), else unknown. framing_confidence = face-frame share x relative margin from the
    nearest class edge; camera_confidence = margin from the motion thresholds; confidence = the smaller."""

    framing: Framing
    face_height_frac: float | None
    camera_motion: CameraMotion
    frame_motion: float | None
    face_speed: float | None
    framing_confidence: float
    camera_confidence: float
    confidence: float


@dataclass(frozen=True, kw_only=True)
class PerformanceAnnotation:
    """What one visible performer does in one segment, derived only from measured signals (face landmarks,
    blendshapes, head pose, voice activity, ASR words, face box, frame differences). Times are seconds of the source
    video. Every section and every event carries a confidence in 0..1 built from the signals (fraction of frames
    with a face, margin over the documented threshold, signal-to-noise of an event). The thresholds used are
    recorded in `thresholds` so a reader can re-check any field. Captions written from an annotation follow
    `$defs/caption`."""

    schema_version: SchemaVersion
    segment: AnnotatedSegment
    state: StateSummary
    state_timeline: list[StateRun]
    expressions: Expressions
    head_pose: HeadPose
    head_events: list[HeadEvent]
    gaze: Gaze
    blinks: Blinks
    mouth: Mouth
    voice: Voice
    listener_reactions: list[ListenerReaction]
    shot: Shot
    thresholds: dict[str, float]
