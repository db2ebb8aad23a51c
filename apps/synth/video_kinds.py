"""The kinds of synthetic video and how each one is cut into shots.

``VIDEO_KINDS`` is in corpus order: a corpus of n videos uses the first n kinds (cycling), so even
a small demo corpus has interviews, a split screen, a monologue and the three bad cases.
"""

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from apps.synth.camera_setups import PlannedShot, Setup, SetupFactory
from apps.synth.transitions import TRANSITIONS

MIN_SHOT_S = 2.2  # shots must stay >= 2 s; a margin keeps rounding from breaking that
PASSAGE_S = 1.6


@dataclass(frozen=True)
class VideoKind:
    name: str
    n_conversants: int
    pause_probability: float
    has_passer: bool = False


VIDEO_KINDS: tuple[VideoKind, ...] = (
    VideoKind("interview", 2, 0.15),
    VideoKind("split_screen", 2, 0.15),
    VideoKind("monologue", 1, 0.45),
    VideoKind("passer_by", 2, 0.15, has_passer=True),
    VideoKind("noisy_shot", 2, 0.15),
    VideoKind("small_face", 2, 0.15),
    VideoKind("pauses", 2, 0.6),
    VideoKind("panel", 2, 0.3),
    # Burned-in subtitles on every other shot (shot-level truth flag ``subtitled``).
    VideoKind("subtitled", 2, 0.15),
    # Dissolves and fades between shots instead of hard cuts (apps.synth.transitions).
    VideoKind("dissolves", 2, 0.15),
)


def plan_shots(
    kind: VideoKind,
    rng: np.random.Generator,
    speakers: list[str | None],
    people: list[str],
    passer: str | None,
    factory: SetupFactory,
    fps: int,
) -> list[PlannedShot]:
    n = len(speakers)
    if kind.name == "monologue":
        setups = [factory.closeup(people[0], 0.0), factory.medium(people[0])]
        return _alternate(setups, _cut_points(rng, n, fps, (3.0, 6.0)))
    closeups = {pid: factory.closeup(pid, side) for pid, side in zip(people, (-1.0, 1.0), strict=False)}
    if kind.name == "split_screen":
        split = factory.split(people[0], people[1])
        cuts = _cut_points(rng, n, fps, (3.0, 6.0))
        return [
            PlannedShot(a, b, split if i % 2 == 0 else closeups[_main_speaker(speakers[a : b + 1], people)])
            for i, (a, b) in enumerate(cuts)
        ]
    if kind.name == "panel":
        extra = [factory.split(people[1], people[0])]
    elif kind.name == "small_face":
        extra = [factory.wide(people)]
    else:
        extra = []
    shots = _interview(rng, speakers, people, closeups, extra, fps)
    if kind.name == "noisy_shot":
        middle = shots[len(shots) // 2]
        shots[len(shots) // 2] = PlannedShot(middle.first_frame, middle.last_frame, middle.setup, ("noisy",))
    if kind.has_passer and passer is not None:
        shots = _with_passage(rng, shots, passer, people, factory, fps)
    if kind.name == "dissolves":
        shots = [
            replace(s, transition_in=TRANSITIONS[(i - 1) % len(TRANSITIONS)]) if i else s for i, s in enumerate(shots)
        ]
    if kind.name == "subtitled":
        shots = [
            replace(s, flags=(*s.flags, "subtitled")) if i % 2 == 0 else s
            for i, s in enumerate(shots)
        ]
    return shots


def _cut_points(rng: np.random.Generator, n: int, fps: int, length_s: tuple[float, float]) -> list[tuple[int, int]]:
    """Shot spans covering frames 0..n-1, each at least ``MIN_SHOT_S`` long."""
    minimum = int(np.ceil(MIN_SHOT_S * fps))
    spans = []
    start = 0
    while start < n:
        length = max(minimum, int(rng.uniform(*length_s) * fps))
        end = min(n, start + length)
        if n - end < minimum:
            end = n
        spans.append((start, end - 1))
        start = end
    return spans


def _main_speaker(window: list[str | None], people: list[str]) -> str:
    voiced = Counter(s for s in window if s is not None)
    return voiced.most_common(1)[0][0] if voiced else people[0]


def _alternate(setups: list[Setup], spans: list[tuple[int, int]]) -> list[PlannedShot]:
    return [PlannedShot(a, b, setups[i % len(setups)]) for i, (a, b) in enumerate(spans)]


def _interview(
    rng: np.random.Generator,
    speakers: list[str | None],
    people: list[str],
    closeups: dict[str, Setup],
    extra: list[Setup],
    fps: int,
) -> list[PlannedShot]:
    """Shot / reverse shot: mostly on whoever speaks, sometimes on the listener's reaction,
    sometimes (when there are extra set-ups) on a split screen or a wide shot."""
    chosen: list[tuple[Setup, int, int]] = []
    for a, b in _cut_points(rng, len(speakers), fps, (2.4, 4.5)):
        speaker = _main_speaker(speakers[a : b + 1], people)
        listener = next((p for p in people if p != speaker), speaker)
        roll = rng.random()
        if extra and roll < 0.25:
            setup = extra[int(rng.integers(len(extra)))]
        elif roll < 0.55:
            setup = closeups[listener]
        else:
            setup = closeups[speaker]
        if chosen and chosen[-1][0] is setup:
            # Same framing twice in a row is no cut: show the other person instead.
            setup = closeups[listener] if setup is closeups[speaker] else closeups[speaker]
        chosen.append((setup, a, b))
    if extra and not any(setup in extra for setup, _, _ in chosen):
        index = min(1, len(chosen) - 1)
        chosen[index] = (extra[0], chosen[index][1], chosen[index][2])
    return _merge_repeats(chosen)


def _merge_repeats(chosen: list[tuple[Setup, int, int]]) -> list[PlannedShot]:
    shots: list[PlannedShot] = []
    for setup, a, b in chosen:
        if shots and shots[-1].setup is setup:
            shots[-1] = PlannedShot(shots[-1].first_frame, b, setup)
        else:
            shots.append(PlannedShot(a, b, setup))
    return shots


def _with_passage(
    rng: np.random.Generator,
    shots: list[PlannedShot],
    passer: str,
    people: list[str],
    factory: SetupFactory,
    fps: int,
) -> list[PlannedShot]:
    """Put a passer-by in the longest single close-up, re-framing its person to the right so the
    passer's face is seen before they walk behind."""
    singles = [i for i, s in enumerate(shots) if s.setup.name.startswith("closeup:")]
    index = max(singles, key=lambda i: shots[i].last_frame - shots[i].first_frame)
    shot = shots[index]
    person = shot.setup.placements[0].person_id
    setup = factory.closeup(person, 1.0, x_fraction=0.7)
    length = int(PASSAGE_S * fps)
    room = shot.last_frame - shot.first_frame + 1 - length
    first = shot.first_frame + int(rng.integers(0, max(room, 1)))
    passage = factory.passage(passer, first, min(first + length - 1, shot.last_frame), direction=1.0)
    shots[index] = PlannedShot(shot.first_frame, shot.last_frame, setup, shot.flags, (passage,))
    return shots
