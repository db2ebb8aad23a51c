"""Wording of the deterministic captions: several phrasings for each fact.

Short captions are "The person <verb>, <participle> and <participle>."; detailed ones are short
sentences whose subject is "the person" or "they". Phrases never name gender, age or identity,
and say only what the matching claim states (see ``annotators.captions.caption_audit``).
"""

STATE_SHORT: dict[str, tuple[str, ...]] = {
    "listening": ("listens", "listens to another speaker", "is listening"),
    "speaking": ("speaks", "talks", "is speaking"),
    "idle": ("stays silent", "is quiet", "waits in silence"),
}
STATE_DETAILED: dict[str, tuple[str, ...]] = {
    "listening": ("listens while someone else speaks", "listens to another speaker",
                  "is listening to someone talking"),
    "speaking": ("speaks", "talks", "is speaking"),
    "idle": ("stays silent while no one speaks", "remains quiet, with no one talking", "waits in silence"),
}
FIRST: dict[str, str] = {"listening": "listens", "speaking": "speaks", "idle": "is silent"}
THEN: dict[str, str] = {"listening": "listens", "speaking": "speaks", "idle": "falls silent"}
ALTERNATES: dict[frozenset[str], str] = {
    frozenset(("speaking", "idle")): "alternates between speaking and silence",
    frozenset(("listening", "idle")): "alternates between listening and silence",
    frozenset(("speaking", "listening")): "alternates between speaking and listening",
}

FRAMING: dict[str, tuple[str, ...]] = {
    "close_up": ("In a close-up", "Framed in close-up", "Seen in a close-up shot"),
    "medium": ("In a medium shot", "Framed in a medium shot", "Seen in a medium shot"),
    "wide": ("In a wide shot", "Seen in a wide shot", "Framed in a wide shot"),
}
CAMERA: dict[str, tuple[str, ...]] = {
    "static": ("from a fixed camera", "with the camera still", "from a static camera"),
    "moving": ("with the camera moving", "from a moving camera", "while the camera moves"),
}
COUNT_WORDS = {1: "once", 2: "twice", 3: "three times"}  # more is "several times"
POSITION = {"early": "early on", "midway": "midway through", "late": "near the end"}

# (participle for short captions, verb phrase for detailed sentences with subject "they")
HEAD: dict[str, tuple[tuple[str, str], ...]] = {
    "nod_repeated": (("nodding repeatedly", "nod repeatedly"), ("nodding several times", "nod several times")),
    "nod_count": (("nodding {count}", "nod {count}"),),
    "back_channel_nod": (("nodding {count}", "nod along {count}"), ("nodding in response {count}",
                                                                     "nod in response {count}")),
    "shake": (("shaking their head", "shake their head"), ("with a shake of the head", "shake their head")),
    "tilt": (("with the head tilted toward the {direction} shoulder", "keep the head tilted toward the {direction} "
              "shoulder"), ("tilting the head to the {direction}", "tilt the head to the {direction}")),
    "turn_away": (("turning away from the camera", "turn away from the camera"),
                  ("looking away from the camera with a turn of the head", "turn the head away from the camera")),
    "turn_toward": (("turning toward the camera", "turn toward the camera"),
                    ("turning back to the camera", "turn back toward the camera")),
}
EXPRESSION: dict[str, tuple[tuple[str, str], ...]] = {
    "smile": (("smiling", "smile"), ("with a smile", "smile")),
    "smile_brief": (("smiling briefly", "smile briefly"), ("with a brief smile", "smile briefly")),
    "smile_broad": (("smiling broadly", "smile broadly"), ("with a broad smile", "break into a broad smile")),
    "smile_sustained": (("smiling for much of the clip", "smile for much of the clip"),
                        ("with a lasting smile", "keep smiling for much of the clip")),
    "smile_count": (("smiling {count}", "smile {count}"),),
    "frown": (("frowning", "frown"),),
    "surprise": (("with a surprised expression", "show a surprised expression"),
                 ("looking surprised", "look surprised")),
    "brow_raise": (("raising their eyebrows", "raise their eyebrows"), ("with raised eyebrows", "raise their brows")),
    "brow_furrow": (("furrowing their brow", "furrow their brow"), ("with a furrowed brow", "draw their brows down")),
    "eye_closure": (("closing their eyes for a moment", "close their eyes for a moment"),),
    "mouth_open": (("holding the mouth open", "hold the mouth open"),),
    "pucker": (("pursing their lips", "purse their lips"),),
    "lips_pressed": (("pressing their lips together", "press their lips together"),),
}
GAZE: dict[str, tuple[tuple[str, str], ...]] = {
    "at_camera": (("looking at the camera", "Their gaze stays on the camera"),
                  ("looking into the camera", "They look into the camera")),
    "away": (("looking away from the camera", "They look away from the camera"),),
    "down": (("looking down", "They look down"), ("with eyes lowered", "Their gaze is lowered")),
    "shifting": (("with a shifting gaze", "Their gaze shifts around"), ("glancing around", "They glance around")),
}
MOUTH: dict[str, tuple[str, ...]] = {
    "active": ("their mouth moves actively", "the mouth moves a lot"),
    "still": ("their mouth stays still", "the mouth stays still"),
}
SPEECH_RATE: dict[str, tuple[str, ...]] = {
    "slow": ("at a slow pace", "slowly"),
    "moderate": ("at a moderate pace", "at an even pace"),
    "fast": ("at a fast pace", "quickly"),
}
VOCALISATION = (("responding with a brief vocal sound", "respond with a brief vocal sound"),
                ("with a short vocal response", "make a short vocal response"))
NEUTRAL = ("Their expression stays neutral", "Their face stays neutral")
PARTLY_VISIBLE = ("The face is visible for only part of the clip", "The face is only partly visible")
HEAD_STILL = ("They keep the head still", "Their head stays still")
