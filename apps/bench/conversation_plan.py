"""Seeded plans of spliced two-person conversations, and the per-frame truth they imply.

A conversation is six parts of 2.0-2.6 s, one shot each, whose faces alternate between two
different people A and B (so every part boundary is a hard cut between two backgrounds). Each
part shows one face and plays one voice, or silence:

* ``speaking``: a person's own shot with its own, synchronised audio.
* ``listening``: B's shot while A's voice plays. B's face comes from B's own talking clip, so B's
  mouth moves, out of sync with A's voice: the hard case for a mouth-motion detector.
* ``listening_still``: one frame of B held for the whole part (the mouth cannot move) under A's voice.
* ``idle`` / ``idle_still``: a talking shot with its audio muted, or a held frame, in silence.

Every moving face and every voice is taken from well inside a continuous speech span of its clip
(``SPEECH_MARGIN_S``), so each part's state is known without listening to it.
"""

import random
from dataclasses import dataclass
from itertools import combinations

from apps.bench.talking_head_sources import TalkingHeadClip
from schemas.performer_states import PerformerState

FPS = 25
MIN_PART_FRAMES = 50  # 2.0 s: the shortest part the issue allows
MAX_PART_FRAMES = 65  # 2.6 s: six parts make a 12-16 s video
SPEECH_MARGIN_S = 0.1

PART_STATES: dict[str, PerformerState] = {
    "speaking": PerformerState.SPEAKING,
    "listening": PerformerState.LISTENING,
    "listening_still": PerformerState.LISTENING,
    "idle": PerformerState.IDLE,
    "idle_still": PerformerState.IDLE,
}

# (kind, face role, voice role); faces alternate so that consecutive parts never show one person.
TEMPLATES: tuple[tuple[tuple[str, str, str | None], ...], ...] = (
    (
        ("speaking", "A", "A"),
        ("listening", "B", "A"),
        ("idle", "A", None),
        ("listening_still", "B", "A"),
        ("listening", "A", "B"),
        ("speaking", "B", "B"),
    ),
    (
        ("speaking", "B", "B"),
        ("listening_still", "A", "B"),
        ("idle", "B", None),
        ("speaking", "A", "A"),
        ("listening", "B", "A"),
        ("idle_still", "A", None),
    ),
)


@dataclass(frozen=True)
class Part:
    kind: str
    first_frame: int
    n_frames: int
    face_clip: str
    face_person: str
    face_t0: float  # seconds of the face clip where the part's video starts (the held frame when still)
    voice_clip: str | None  # None: silence
    voice_person: str | None
    voice_t0: float | None

    @property
    def state(self) -> PerformerState:
        return PART_STATES[self.kind]

    @property
    def still(self) -> bool:
        return self.kind.endswith("_still")


@dataclass(frozen=True)
class ConversationPlan:
    name: str
    seed: int
    parts: tuple[Part, ...]

    @property
    def n_frames(self) -> int:
        return sum(p.n_frames for p in self.parts)

    @property
    def cuts(self) -> list[int]:
        """First frame of every part after the first: where the shots must split."""
        return [p.first_frame for p in self.parts[1:]]

    def state_runs(self) -> list[list[int]]:
        """``[state code, first frame, n frames]`` per part, covering every frame in order."""
        return [[int(p.state), p.first_frame, p.n_frames] for p in self.parts]


def plan_conversations(clips: list[TalkingHeadClip], n_videos: int, seed: int) -> list[ConversationPlan]:
    """``n_videos`` plans; the same clips and seed always give the same plans."""
    people: dict[str, list[TalkingHeadClip]] = {}
    for clip in sorted(clips, key=lambda c: c.name):
        people.setdefault(clip.person, []).append(clip)
    if len(people) < 2:
        raise ValueError(f"need talking-head clips of at least two people, found {sorted(people)}")
    pairs = list(combinations(sorted(people), 2))
    random.Random(f"pairs:{seed}").shuffle(pairs)
    plans = []
    for index in range(n_videos):
        rng = random.Random(f"conversation:{seed}:{index}")
        first, second = pairs[index % len(pairs)]
        roles = dict(zip("AB", rng.sample([first, second], 2), strict=True))
        cast = {role: rng.choice(people[person]) for role, person in roles.items()}
        plans.append(_plan(f"conversation_{index:03d}", seed, TEMPLATES[index % len(TEMPLATES)], cast, rng))
    return plans


def _plan(
    name: str,
    seed: int,
    template: tuple[tuple[str, str, str | None], ...],
    cast: dict[str, TalkingHeadClip],
    rng: random.Random,
) -> ConversationPlan:
    parts = []
    first = 0
    for kind, face_role, voice_role in template:
        face, voice = cast[face_role], cast[voice_role] if voice_role else None
        still = kind.endswith("_still")
        # A moving face and any voice must fit inside a speech span of their clip.
        needs_speech = [voice] if voice else []
        if not still:
            needs_speech.append(face)
        rooms = [c.longest_speech_s(SPEECH_MARGIN_S) for c in needs_speech]
        n_frames = min([rng.randint(MIN_PART_FRAMES, MAX_PART_FRAMES), *(int(r * FPS) for r in rooms)])
        if n_frames < MIN_PART_FRAMES:
            raise ValueError(f"{face.name}/{voice.name if voice else '-'}: no speech span of {MIN_PART_FRAMES / FPS} s")
        seconds = n_frames / FPS
        voice_t0 = _speech_window(rng, voice, seconds) if voice else None
        if kind == "speaking":
            face_t0 = voice_t0
        elif still:
            face_t0 = _snap(rng.uniform(0.2, max(0.2, face.duration_s - 0.2)))
        else:
            face_t0 = _speech_window(rng, face, seconds)
        parts.append(
            Part(
                kind=kind,
                first_frame=first,
                n_frames=n_frames,
                face_clip=face.name,
                face_person=face.person,
                face_t0=face_t0,
                voice_clip=voice.name if voice else None,
                voice_person=voice.person if voice else None,
                voice_t0=voice_t0,
            )
        )
        first += n_frames
    return ConversationPlan(name, seed, tuple(parts))


def _speech_window(rng: random.Random, clip: TalkingHeadClip, seconds: float) -> float:
    """Start of a ``seconds`` window inside one of the clip's speech spans (margins kept)."""
    spans = [(a + SPEECH_MARGIN_S, b - SPEECH_MARGIN_S - seconds) for a, b in clip.speech]
    spans = [(lo, hi) for lo, hi in spans if hi >= lo]
    lo, hi = rng.choice(spans)
    # Snapping to the frame grid moves the start by at most half a frame, well inside the margin.
    return _snap(rng.uniform(lo, hi))


def _snap(t: float) -> float:
    return round(round(t * FPS) / FPS, 4)
