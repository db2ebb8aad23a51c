"""Check a caption against its annotation: every claim is backed, every cue word is claimed.

A caption lists its ``claims`` (``{"claim", "evidence", "qualifier"?, "in"?}``). A claim is
backed when its evidence path exists in the annotation, says the same thing (a ``nod`` claim
points at a head event of type nod), is at least ``CLAIM_MIN_CONFIDENCE`` sure, and fits its
qualifier (``brief`` < ``BRIEF_S``, ``broad`` peak >= ``BROAD_PEAK``, ``early`` in the first
third...). Then the words: a caption that says "nods" must carry a nod claim for that caption,
and words for what is never measured (gender, age, identity, emotions, laughter) are refused.
The VLM captioner rejects answers with problems; the tests run it on every deterministic caption.
"""

import re
from typing import Any

from schemas.annotation_classes import (
    AnnotatedSegment,
    Blinks,
    Expressions,
    ExpressionShare,
    ExpressionSpan,
    Gaze,
    HeadEvent,
    HeadPose,
    Interval,
    ListenerReaction,
    Mouth,
    PerformanceAnnotation,
    Shot,
    StateRun,
    StateSummary,
    Voice,
)
from schemas.performance_annotation import AnnotationSchemaError, evidence_item

CLAIM_MIN_CONFIDENCE = 0.5
BRIEF_S = 1.5
BROAD_PEAK = 0.7
SUSTAINED_FRAC = 0.5
PARTLY_VISIBLE_FRAC = 0.8
MIN_BLINKS_FOR_RATE = 2  # one blink in a few seconds says little about a rate per minute
HEAD_EVENTS = ("nod", "shake", "tilt", "turn_toward", "turn_away")
EXPRESSIONS = ("smile", "frown", "surprise", "brow_raise", "brow_furrow", "eye_closure", "mouth_open", "pucker",
               "lips_pressed")
REACTIONS = {"back_channel_nod": "back_channel_nod", "listener_smile": "smile", "vocalisation": "vocalisation"}

# the evidence that carries a confidence of its own, and the evidence that has a start and an end
_CONFIDENT = (AnnotatedSegment, StateSummary, StateRun, ExpressionSpan, Expressions, HeadPose, HeadEvent, Gaze, Blinks,
              Mouth, Interval, Voice, ListenerReaction, Shot)
_TIMED = (AnnotatedSegment, StateRun, ExpressionSpan, HeadEvent, Interval, ListenerReaction)

# cue pattern -> claims of which at least one must be made for the caption using the word
_CUES: tuple[tuple[str, frozenset[str]], ...] = tuple((p, frozenset(c)) for p, c in (
    (r"\bnod", {"nod", "back_channel_nod"}),
    (r"\bsmil", {"smile", "listener_smile"}),
    (r"\bshak", {"shake"}),
    (r"\btilt", {"tilt"}),
    (r"\bturn", {"turn_toward", "turn_away"}),
    (r"\bblink", {"blink_rate"}),
    (r"\bfrown", {"frown"}),
    (r"surpris", {"surprise"}),
    (r"brow", {"brow_raise", "brow_furrow", "surprise"}),
    (r"\bpurs|\bpucker", {"pucker"}),
    (r"\bpress", {"lips_pressed"}),
    (r"\beyes? (?:closed|shut)|\bclos\w* (?:their|the) eyes", {"eye_closure"}),
    (r"\blisten", {"listening", "back_channel_nod", "listener_smile", "vocalisation"}),
    (r"\b(?:speak|talk|say|said|voice|vocal)", {"speaking", "listening", "idle", "transcript", "vocalisation"}),
    (r"\b(?:silent|silence|quiet)", {"idle", "mouth_still"}),
    (r"close-up|close up", {"framing_close_up"}),
    (r"medium shot", {"framing_medium"}),
    (r"wide shot", {"framing_wide"}),
    (r"\bcamera", {"gaze_at_camera", "gaze_away", "turn_toward", "turn_away", "camera_static", "camera_moving"}),
    (r"\bgaze|\blook|\beyes\b", {"gaze_at_camera", "gaze_away", "gaze_down", "gaze_shifting", "surprise",
                                 "eye_closure"}),
    (r"\bpause", {"pause"}),
    (r"\b(?:fast|quick|rapid|slow|pace)", {"speech_rate_slow", "speech_rate_moderate", "speech_rate_fast"}),
    (r"\bmouth", {"mouth_active", "mouth_still", "mouth_open", "speaking"}),
))
_NEVER = re.compile(
    r"\b(?:he|she|him|his|her|hers|himself|herself|man|men|woman|women|boy|girl|guy|lady|ladies|gentleman|male|"
    r"female|child|kid|baby|old|older|elderly|young|teen\w*|happy|sad|angry|anger|excited|nervous|anxious|"
    r"joy\w*|laugh\w*|cry\w*|tears?|ethnic\w*|asian|african|caucasian|white|black)\b",
    re.IGNORECASE,
)


def _confidence(claim: str, annotation: PerformanceAnnotation, item: object) -> float:
    if claim.startswith("speech_rate_"):
        return annotation.voice.speech_rate_confidence
    if claim.startswith("framing_"):
        return annotation.shot.framing_confidence
    if claim.startswith("camera_"):
        return annotation.shot.camera_confidence
    if claim == "transcript":
        return 1.0 if annotation.voice.asr else 0.0
    if claim in ("duration", "face_partly_visible", "neutral_expression"):
        return 1.0
    return float(item.confidence) if isinstance(item, _CONFIDENT) else 0.0


def _says_the_same(claim: str, annotation: PerformanceAnnotation, item: object) -> bool:
    """Whether the evidence item says what the claim says."""
    if claim in ("speaking", "listening", "idle"):
        return (isinstance(item, StateSummary) and item.dominant == claim) or (
            isinstance(item, StateRun) and item.state == claim)
    if claim in HEAD_EVENTS:
        return isinstance(item, HeadEvent) and item.type == claim
    if claim in EXPRESSIONS:
        return isinstance(item, ExpressionSpan | ExpressionShare) and item.expression == claim
    if claim in REACTIONS:
        return isinstance(item, ListenerReaction) and item.type == REACTIONS[claim]
    if claim.startswith("gaze_"):
        return isinstance(item, Gaze) and item.behaviour == claim.removeprefix("gaze_")
    if claim.startswith("speech_rate_"):
        return isinstance(item, Voice) and item.speech_rate == claim.removeprefix("speech_rate_")
    if claim.startswith("framing_"):
        return isinstance(item, Shot) and item.framing == claim.removeprefix("framing_")
    if claim.startswith("camera_"):
        return isinstance(item, Shot) and item.camera_motion == claim.removeprefix("camera_")
    if claim.startswith("mouth_"):
        return isinstance(item, Mouth) and item.activity == claim.removeprefix("mouth_")
    checks = {
        "head_still": lambda: isinstance(item, HeadPose) and item.level == "still",
        "blink_rate": lambda: isinstance(item, Blinks) and item.count >= MIN_BLINKS_FOR_RATE
        and item.rate_per_min is not None,
        "pause": lambda: isinstance(item, Interval) and item in annotation.voice.pauses,
        "transcript": lambda: isinstance(item, str) and bool(item.strip()),
        "duration": lambda: isinstance(item, AnnotatedSegment | StateRun),
        "face_partly_visible": lambda: isinstance(item, AnnotatedSegment) and item.present_frac < PARTLY_VISIBLE_FRAC,
        # a neutral face is claimed of the expressions: none of their intervals sure enough
        "neutral_expression": lambda: annotation.segment.present_frac >= 0.5 and isinstance(item, Expressions)
        and not [e for e in item.timeline if e.confidence >= CLAIM_MIN_CONFIDENCE],
    }
    return claim in checks and bool(checks[claim]())


def _qualifier_fits(qualifier: str, claim: dict[str, Any], claims: list[dict[str, Any]],
                    annotation: PerformanceAnnotation, item: object) -> bool:
    seg = annotation.segment
    if qualifier in ("early", "midway", "late", "brief"):
        if not isinstance(item, _TIMED):
            return False  # only what has a start and an end happens early or is brief
        if qualifier == "brief":
            return item.t_end - item.t_start < BRIEF_S
        centre = ((item.t_start + item.t_end) / 2 - seg.t_start) / max(seg.t_end - seg.t_start, 1e-9)
        return {"early": centre < 1 / 3, "midway": 1 / 3 <= centre < 2 / 3, "late": centre >= 2 / 3}[qualifier]
    if qualifier == "broad":
        return isinstance(item, ExpressionSpan | ExpressionShare) and item.peak_intensity >= BROAD_PEAK
    if qualifier == "repeated":
        return (isinstance(item, HeadEvent) and item.cycles >= 2) or sum(
            c["claim"] == claim["claim"] for c in claims) >= 2
    if qualifier == "sustained":
        expression = item.expression if isinstance(item, ExpressionSpan | ExpressionShare) else None
        share = [s.frac for s in annotation.expressions.summary if s.expression == expression]
        return bool(share) and share[0] >= SUSTAINED_FRAC
    return False


def claim_problems(performance: PerformanceAnnotation, caption: dict[str, Any]) -> list[str]:
    """Everything in ``caption`` the annotation does not back (empty when all is backed). A claim's
    evidence is a path into the annotation's JSON document; the audit follows it on the annotation's
    classes (``evidence_item``)."""
    problems = []
    claims = list(caption.get("claims", []))
    for i, claim in enumerate(claims):
        name, path = claim["claim"], claim["evidence"]
        try:
            item = evidence_item(performance, path)
        except AnnotationSchemaError as err:
            problems.append(f"claims[{i}] {name}: {err}")
            continue
        if not _says_the_same(name, performance, item):
            problems.append(f"claims[{i}] {name}: {path} does not say so")
        elif _confidence(name, performance, item) < CLAIM_MIN_CONFIDENCE:
            problems.append(f"claims[{i}] {name}: {path} confidence below {CLAIM_MIN_CONFIDENCE}")
        elif "qualifier" in claim and not _qualifier_fits(claim["qualifier"], claim, claims, performance, item):
            problems.append(f"claims[{i}] {name}: {path} is not {claim['qualifier']}")
    for which in ("short", "detailed"):
        # quoted words are the transcript's (measured by ASR), not the caption's own statements
        text = re.sub(r'"[^"]*"', '""', caption.get(which, ""))
        made = {c["claim"] for c in claims if which in c.get("in", ("short", "detailed"))}
        for word in sorted({m.group(0).lower() for m in _NEVER.finditer(text)}):
            problems.append(f"{which}: says {word!r}, which no signal measures")
        for pattern, needs in _CUES:
            hit = re.search(pattern, text, re.IGNORECASE)
            if hit and not made & needs:
                problems.append(f"{which}: says {hit.group(0)!r} without a claim of {sorted(needs)}")
    return problems
