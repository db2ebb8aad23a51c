"""Camera set-ups of a synthetic video: who is framed where, how large, in which backdrop.

Consecutive shots always use different set-ups, and each set-up of a video has its own backdrop,
so every cut changes the picture wholesale (a hard cut a scene detector must find).
"""

from dataclasses import dataclass, field

SPLIT_DIVIDER_PX = 4
SMALL_FACE_TARGET_PX = 44.0  # wide shots: clearly under the 60 px a pipeline should reject


@dataclass(frozen=True)
class Placement:
    """One person in a set-up: their face centre (midway forehead-chin) and face height, in frame
    pixels, and the region they may be drawn into (a split screen's half)."""

    person_id: str
    face_height: float
    centre: tuple[float, float]
    clip: tuple[int, int, int, int]  # x0, y0, x1, y1
    role: str = "conversant"


@dataclass(frozen=True)
class Setup:
    name: str
    backdrop: int  # index into the video's backdrops
    placements: tuple[Placement, ...]


@dataclass(frozen=True)
class Passage:
    """A passer-by crossing a shot: face centre moves linearly from ``start`` to ``end``."""

    person_id: str
    face_height: float
    start: tuple[float, float]
    end: tuple[float, float]
    first_frame: int
    last_frame: int


@dataclass(frozen=True)
class PlannedShot:
    first_frame: int
    last_frame: int
    setup: Setup
    flags: tuple[str, ...] = ()
    passages: tuple[Passage, ...] = field(default_factory=tuple)
    transition_in: str = "cut"  # how the previous shot gives way to this one: cut | dissolve | fade


class SetupFactory:
    """Builds the set-ups of one video frame size; each new set-up gets the next backdrop."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._count = 0

    def _next_backdrop(self) -> int:
        self._count += 1
        return self._count - 1

    @property
    def full(self) -> tuple[int, int, int, int]:
        return (0, 0, self.width, self.height)

    def closeup(self, person_id: str, side: float, x_fraction: float | None = None) -> Setup:
        """A single, one face about 43 % of the picture tall, a little off-centre towards ``side``."""
        x = self.width * (x_fraction if x_fraction is not None else 0.5 + 0.08 * side)
        placement = Placement(person_id, 0.43 * self.height, (x, 0.46 * self.height), self.full)
        return Setup(f"closeup:{person_id}", self._next_backdrop(), (placement,))

    def medium(self, person_id: str) -> Setup:
        """A looser single: smaller face, set low enough that the shoulders reach the frame's edge."""
        placement = Placement(person_id, 0.3 * self.height, (0.42 * self.width, 0.55 * self.height), self.full)
        return Setup(f"medium:{person_id}", self._next_backdrop(), (placement,))

    def split(self, left: str, right: str) -> Setup:
        half = self.width // 2
        gap = SPLIT_DIVIDER_PX // 2
        face = 0.36 * self.height
        placements = (
            Placement(left, face, (0.25 * self.width, 0.5 * self.height), (0, 0, half - gap, self.height)),
            Placement(right, face, (0.75 * self.width, 0.5 * self.height),
                      (half + gap, 0, self.width, self.height)),
        )
        return Setup("split", self._next_backdrop(), placements)

    def wide(self, people: list[str]) -> Setup:
        face = min(0.12 * self.height, SMALL_FACE_TARGET_PX)
        placements = tuple(
            Placement(pid, face, (self.width * (0.5 + 0.13 * (2 * i - len(people) + 1)), 0.52 * self.height),
                      self.full)
            for i, pid in enumerate(people)
        )
        return Setup("wide", self._next_backdrop(), placements)

    def passage(self, person_id: str, first_frame: int, last_frame: int, direction: float) -> Passage:
        """A passer-by walking across the upper part of the picture, behind the speaker."""
        face = 0.3 * self.height
        left = -0.12 * self.width
        right = 1.12 * self.width
        start, end = (left, right) if direction > 0 else (right, left)
        y = 0.3 * self.height
        return Passage(person_id, face, (start, y), (end, y + 0.03 * self.height), first_frame, last_frame)
