"""Deterministic captions from a performance annotation: a short one and a detailed one.

Only facts at least ``CLAIM_MIN_CONFIDENCE`` sure are mentioned, and every mention is recorded
as a claim with the annotation path that backs it, so the caption can be audited
(``annotators.captions.caption_audit``). The state comes first; the person is "the person" or "they",
never a guess at gender, age or identity. Wording varies between segments but is fixed for a
segment: each choice is a SHA-256 of the seed (the segment id) and the choice's name, which,
unlike ``hash()``, is the same in every process.
"""

import hashlib
from typing import Any, Protocol

from annotators.captions import caption_phrases as phrases
from annotators.captions.caption_audit import (
    BRIEF_S,
    BROAD_PEAK,
    CLAIM_MIN_CONFIDENCE,
    MIN_BLINKS_FOR_RATE,
    SUSTAINED_FRAC,
)
from schemas.annotation_classes import PerformanceAnnotation

MAJOR_RUN_S = 1.0  # a state run this long and this share of the segment makes "listens, then speaks"
MAJOR_RUN_FRAC = 0.25
SEQUENCE_COVER = 0.7  # ... and the two runs cover this share of it
P_VISIBLE = 0.8  # below this share of frames with a face, say the face is only partly visible
MIN_TURN_S = 0.5  # shortest sure state run that counts as a turn in "alternates between ..."
Fact = tuple[str, str, list[dict[str, Any]]]  # (short participle, detailed verb phrase, claims)
# which facts a one-sentence caption keeps first: reactions and gestures before held poses and shapes
SALIENCE = ("vocalisation", "back_channel_nod", "nod", "shake", "smile", "turn_away", "turn_toward", "surprise",
            "frown", "tilt", "brow_raise", "brow_furrow", "eye_closure", "mouth_open", "pucker", "lips_pressed")


def _pick(options: tuple[Any, ...], seed: str, slot: str) -> Any:
    digest = hashlib.sha256(f"{seed}\x00{slot}".encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def _claim(name: str, evidence: str, qualifier: str | None = None) -> dict[str, Any]:
    return {"claim": name, "evidence": evidence} | ({"qualifier": qualifier} if qualifier else {})


class _Measured(Protocol):
    @property
    def confidence(self) -> float: ...


class _Timed(Protocol):
    @property
    def t_start(self) -> float: ...

    @property
    def t_end(self) -> float: ...


def _sure(item: _Measured) -> bool:
    return item.confidence >= CLAIM_MIN_CONFIDENCE


def _position(a: PerformanceAnnotation, item: _Timed) -> str:
    seg = a.segment
    centre = ((item.t_start + item.t_end) / 2 - seg.t_start) / max(seg.t_end - seg.t_start, 1e-9)
    return "early" if centre < 1 / 3 else "midway" if centre < 2 / 3 else "late"


def _states(a: PerformanceAnnotation) -> tuple[str, list[str], list[dict[str, Any]]]:
    """How to state the states (none, single, sequence, alternation), which ones, and the claims.

    In order of preference: two long runs in sequence ("listens, then speaks"); the dominant
    state when it is sure; the dominant state when one sure run of it covers half the segment;
    two states taking turns ("alternates between speaking and silence"); else no state at all
    (``none``), because a state the signals are unsure of must not be stated.
    """
    seg_s = a.segment.t_end - a.segment.t_start
    sure = [(i, r) for i, r in enumerate(a.state_timeline) if _sure(r)]
    major = [(i, r) for i, r in sure if r.t_end - r.t_start >= max(MAJOR_RUN_S, MAJOR_RUN_FRAC * seg_s)]
    covered = sum(r.t_end - r.t_start for _i, r in major)
    if len(major) == 2 and major[0][1].state != major[1][1].state and covered >= SEQUENCE_COVER * seg_s:
        return "sequence", [r.state for _i, r in major], [_claim(r.state, f"state_timeline[{i}]")
                                                               for i, r in major]
    dominant = a.state.dominant
    if _sure(a.state):
        return "single", [dominant], [_claim(dominant, "state")]
    longest: dict[str, tuple[int, float]] = {}
    for i, r in sure:
        length = r.t_end - r.t_start
        if length >= MIN_TURN_S and length > longest.get(r.state, (-1, 0.0))[1]:
            longest[r.state] = (i, length)
    if dominant in longest and longest[dominant][1] >= 0.5 * seg_s:
        return "single", [dominant], [_claim(dominant, f"state_timeline[{longest[dominant][0]}]")]
    if len(longest) >= 2:
        pair = sorted(longest, key=lambda k: -longest[k][1])[:2]
        return "alternation", pair, [_claim(k, f"state_timeline[{longest[k][0]}]") for k in pair]
    return "none", [], []


def _state_phrases(mode: str, states: list[str], seed: str) -> tuple[str, str]:
    """(short verb phrase, detailed verb phrase) for the states chosen by ``_states``."""
    if mode == "none":
        return "is seen", "is on screen"
    if mode == "single":
        return (_pick(phrases.STATE_SHORT[states[0]], seed, "state"),
                _pick(phrases.STATE_DETAILED[states[0]], seed, "state-detailed"))
    if mode == "sequence":
        sequence = f"{phrases.FIRST[states[0]]}, then {phrases.THEN[states[1]]}"
        return sequence, sequence
    alternation = phrases.ALTERNATES[frozenset(states)]
    return alternation, alternation


def _head_facts(a: PerformanceAnnotation, seed: str) -> list[Fact]:
    events = [(i, e) for i, e in enumerate(a.head_events) if _sure(e)]
    facts: list[Fact] = []
    listening = a.state.dominant == "listening"
    reactions = {r.evidence: k for k, r in enumerate(a.listener_reactions) if r.type == "back_channel_nod"}
    nods = [(i, e) for i, e in events if e.type == "nod"]
    along = [i for i, _e in nods if f"head_events[{i}]" in reactions]
    if listening and nods and len(along) == len(nods):
        count = phrases.COUNT_WORDS.get(len(nods), "several times")
        short, long_ = _pick(phrases.HEAD["back_channel_nod"], seed, "along")
        qualifier = "repeated" if len(nods) >= 4 else None
        claims = [_claim("back_channel_nod", f"listener_reactions[{reactions[f'head_events[{i}]']}]", qualifier)
                  for i in along]
        facts.append((short.format(count=count), long_.format(count=count), claims))
    elif nods:
        repeated = len(nods) >= 4 or (len(nods) == 1 and nods[0][1].cycles >= 2)
        key = "nod_repeated" if repeated else "nod_count"
        short, long_ = _pick(phrases.HEAD[key], seed, "nod")
        count = phrases.COUNT_WORDS.get(len(nods), "")
        claims = [_claim("nod", f"head_events[{i}]", "repeated" if repeated else None) for i, _e in nods]
        facts.append((short.format(count=count), long_.format(count=count), claims))
    for kind in ("shake", "turn_away", "turn_toward", "tilt"):
        mine = [(i, e) for i, e in events if e.type == kind]
        if not mine:
            continue
        i, event = max(mine, key=lambda ie: ie[1].confidence)
        short, long_ = _pick(phrases.HEAD[kind], seed, kind)
        short, long_ = short.format(direction=event.direction), long_.format(direction=event.direction)
        qualifier = None
        if kind != "tilt" and len(mine) == 1 and _pick((True, False), seed, f"{kind}-when"):
            qualifier = _position(a, event)
            long_ = f"{long_} {phrases.POSITION[qualifier]}"
        facts.append((short, long_, [_claim(kind, f"head_events[{i}]", qualifier)]))
    return facts


def _expression_facts(a: PerformanceAnnotation, seed: str) -> list[Fact]:
    timeline = [(i, e) for i, e in enumerate(a.expressions.timeline) if _sure(e)]
    share = {s.expression: s.frac for s in a.expressions.summary}
    facts: list[Fact] = []
    for name in dict.fromkeys(e.expression for _i, e in timeline):
        mine = [(i, e) for i, e in timeline if e.expression == name]
        if name in ("pucker", "mouth_open", "lips_pressed"):
            # while talking these mouth shapes are articulation, not expressions
            mine = [(i, e) for i, e in mine if _speaking_share(a, e) < 0.5]
            if not mine:
                continue
        qualifier: str | None = None
        key: str = name  # the phrase table's key: the expression, or a smile's kind
        if name == "smile":
            if share.get("smile", 0.0) >= SUSTAINED_FRAC:
                qualifier, key = "sustained", "smile_sustained"
            elif len(mine) >= 2:
                key = "smile_count"
            elif mine[0][1].peak_intensity >= BROAD_PEAK:
                qualifier, key = "broad", "smile_broad"
            elif mine[0][1].t_end - mine[0][1].t_start < BRIEF_S:
                qualifier, key = "brief", "smile_brief"
        short, long_ = _pick(phrases.EXPRESSION[key], seed, name)
        count = phrases.COUNT_WORDS.get(len(mine), "several times")
        if qualifier == "sustained":
            mine = mine[:1]  # one interval carries the share claim
        claims = [_claim(name, f"expressions.timeline[{i}]", qualifier) for i, _e in mine]
        facts.append((short.format(count=count), long_.format(count=count), claims))
    return facts


def _speaking_share(a: PerformanceAnnotation, item: _Timed) -> float:
    """Share of an interval's time that the state timeline labels speaking."""
    overlap = sum(max(0.0, min(r.t_end, item.t_end) - max(r.t_start, item.t_start))
                  for r in a.state_timeline if r.state == "speaking")
    return overlap / max(item.t_end - item.t_start, 1e-9)


def _reaction_facts(a: PerformanceAnnotation, seed: str) -> list[Fact]:
    vocal = [k for k, r in enumerate(a.listener_reactions) if r.type == "vocalisation" and _sure(r)]
    if not vocal:
        return []
    short, long_ = _pick(phrases.VOCALISATION, seed, "vocal")
    return [(short, long_, [_claim("vocalisation", f"listener_reactions[{k}]") for k in vocal])]


def _gaze_fact(a: PerformanceAnnotation, seed: str) -> Fact | None:
    gaze = a.gaze
    if gaze.behaviour == "unknown" or not _sure(gaze):
        return None
    short, sentence = _pick(phrases.GAZE[gaze.behaviour], seed, "gaze")
    return short, sentence, [_claim(f"gaze_{gaze.behaviour}", "gaze")]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _tag(claims: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    return [c | {"in": [where]} for c in claims]


def write_captions(a: PerformanceAnnotation, seed: str) -> dict[str, Any]:
    """``{"short", "detailed", "captioner": "deterministic", "claims"}`` for one annotation."""
    mode, states, state_claims = _states(a)
    short_verb, verb = _state_phrases(mode, states, seed)
    face = sorted(_reaction_facts(a, seed) + _head_facts(a, seed) + _expression_facts(a, seed),
                  key=lambda f: SALIENCE.index(f[2][0]["claim"]))
    gaze = _gaze_fact(a, seed)
    extras = face[:2] if face else ([gaze] if gaze else [])
    joiner = " " if not states else ", "  # "is seen nodding" but "listens, nodding"
    short = f"The person {short_verb}" + (joiner + _join([f[0] for f in extras]) if extras else "") + "."
    claims = _tag(state_claims, "short") + [c for f in extras for c in _tag(f[2], "short")]

    seconds = a.segment.t_end - a.segment.t_start
    lead, opener_claims = "The person", []
    shot = a.shot
    if shot.framing != "unknown" and shot.framing_confidence >= CLAIM_MIN_CONFIDENCE:
        lead = _pick(phrases.FRAMING[shot.framing], seed, "framing")
        opener_claims.append(_claim(f"framing_{shot.framing}", "shot"))
        if shot.camera_motion != "unknown" and shot.camera_confidence >= CLAIM_MIN_CONFIDENCE:
            lead += " " + _pick(phrases.CAMERA[shot.camera_motion], seed, "camera")
            opener_claims.append(_claim(f"camera_{shot.camera_motion}", "shot"))
        lead += ", the person"
    rounded = max(1, round(seconds))
    duration = f"about {rounded} second{'s' if rounded != 1 else ''}"
    sentences = [f"{lead} {verb}, over {duration}." if mode == "sequence" else f"{lead} {verb} for {duration}."]
    detail_claims = state_claims + opener_claims + [_claim("duration", "segment")]
    if face:
        sentences.append("They " + _join([f[1] for f in face[:4]]) + ".")
        detail_claims += [c for f in face[:4] for c in f[2]]
    elif a.head_pose.level == "still" and _sure(a.head_pose):
        sentences.append(_pick(phrases.HEAD_STILL, seed, "still") + ".")
        detail_claims.append(_claim("head_still", "head_pose"))
    look = []
    if gaze:
        look.append(gaze[1])
        detail_claims += gaze[2]
    blinks = a.blinks
    if blinks.count >= MIN_BLINKS_FOR_RATE and blinks.rate_per_min is not None and _sure(blinks):
        look.append(f"{'they' if look else 'They'} blink about {round(blinks.rate_per_min)} times a minute")
        detail_claims.append(_claim("blink_rate", "blinks"))
    if look:
        sentences.append(", and ".join(look) + ".")
    voice_sentence, voice_claims = _voice_sentence(a, states, seed)
    if voice_sentence:
        sentences.append(voice_sentence)
        detail_claims += voice_claims
    if len(sentences) == 1:
        visible = a.segment.present_frac >= P_VISIBLE
        sentences.append(_pick(phrases.NEUTRAL if visible else phrases.PARTLY_VISIBLE, seed, "fallback") + ".")
        detail_claims.append(_claim("neutral_expression", "expressions") if visible
                             else _claim("face_partly_visible", "segment"))
    return {"short": short, "detailed": " ".join(sentences), "captioner": "deterministic",
            "claims": claims + _tag(detail_claims, "detailed")}


def _voice_sentence(a: PerformanceAnnotation, states: list[str], seed: str) -> tuple[str, list[dict[str, Any]]]:
    voice = a.voice
    if "speaking" not in states:
        return "", []
    parts, claims = [], []
    if voice.speech_rate != "unknown" and voice.speech_rate_confidence >= CLAIM_MIN_CONFIDENCE:
        parts.append(_pick(phrases.SPEECH_RATE[voice.speech_rate], seed, "rate"))
        claims.append(_claim(f"speech_rate_{voice.speech_rate}", "voice"))
    pauses = [k for k, p in enumerate(voice.pauses) if _sure(p)]
    if pauses:
        parts.append("with a pause" if len(pauses) == 1 else f"with {len(pauses)} pauses")
        claims += [_claim("pause", f"voice.pauses[{k}]") for k in pauses]
    if voice.transcript:
        words = voice.transcript.replace('"', "'").split()  # the audit skips what is inside quotes
        quote = " ".join(words[:12]) + ("..." if len(words) > 12 else "")
        parts.append(f'saying "{quote}"')
        claims.append(_claim("transcript", "voice.transcript"))
    if not parts:
        if a.mouth.activity == "active" and _sure(a.mouth):
            return _pick(phrases.MOUTH["active"], seed, "mouth").capitalize() + " as they talk.", [
                _claim("mouth_active", "mouth")]
        return "", []
    return "They speak " + ", ".join(parts) + ".", claims
