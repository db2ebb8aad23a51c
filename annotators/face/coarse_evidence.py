"""What the analysis cascade's coarse frames say about a shot, before any frame of it is landmarked.

On a coarse frame (``stages.visual_analysis``: a few frames a second) BlazeFace and the tiled
search find faces, and the landmarker confirms each one on its crop (``SmallFaceFinder.
landmarks_on_crop``): a ``CoarseFace`` is that confirmation's height (forehead to chin, the measure
a track's ``face_height_px`` takes), pose and box. ``summarize`` turns a run of coarse frames into
the numbers the performer filter judges a shot by when its tracks are missing: how often a face
is in view, how big the largest one is, how often it faces the camera and how often a second face
of comparable size is beside it. The cascade's gate reads the same summary while a shot is still
going, to decide whether landmarking it can pay off; the shots manifest records it, so a verdict
made from it can be checked and re-tuned by query.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from schemas.tables import ShotRow


@dataclass(frozen=True)
class CoarseFace:
    box: np.ndarray  # (4,) x0, y0, x1, y1 in analysis pixels, the landmarks' extent
    height_px: float  # forehead to chin, source pixels
    yaw: float
    pitch: float


@dataclass(frozen=True)
class CompetingRule:
    """When a second face on a coarse frame competes with the largest: the performer filter's
    ``competing_face_rel`` and ``split_screen`` (two similar faces, one in each half of the frame,
    are both performers)."""

    competing_face_rel: float = 0.5
    split_screen: bool = True

    def competes(self, faces: list[CoarseFace], width: float) -> bool:
        if len(faces) < 2:
            return False
        ranked = sorted(faces, key=lambda f: -f.height_px)
        main = ranked[0]
        others = [f for f in ranked[1:] if f.height_px >= self.competing_face_rel * main.height_px]
        if self.split_screen and len(others) == 1:
            other = others[0]
            if side_by_side(main.height_px, _x_center(main, width), other.height_px, _x_center(other, width)):
                return False
        return bool(others)


def summarize(
    frames: Iterable[list[CoarseFace]],
    width: float,
    rule: CompetingRule,
    max_yaw: float,
    max_pitch: float,
) -> dict[str, float | None]:
    """The shot fields of some coarse frames (null without any): ``coarse_face_px``, the median
    height of the largest face where one is in view; ``coarse_face_frac``, the share of frames with
    a face; ``coarse_frontal_frac``, the share of those whose largest face is within the frontal
    limits; ``coarse_competing_frac``, the share of frames with a competing second face."""
    frames = list(frames)
    with_face = [sorted(f, key=lambda face: -face.height_px) for f in frames if f]
    if not frames:
        return {
            "coarse_face_px": None,
            "coarse_face_frac": None,
            "coarse_frontal_frac": None,
            "coarse_competing_frac": None,
        }
    frontal = [abs(f[0].yaw) <= max_yaw and abs(f[0].pitch) <= max_pitch for f in with_face]
    return {
        "coarse_face_px": float(np.median([f[0].height_px for f in with_face])) if with_face else None,
        "coarse_face_frac": len(with_face) / len(frames),
        "coarse_frontal_frac": float(np.mean(frontal)) if with_face else None,
        "coarse_competing_frac": sum(rule.competes(f, width) for f in with_face) / len(frames),
    }


class ShotJudge(Protocol):
    """What judges a shot whose frames were not landmarked (the performer filter): the reason it
    cannot hold a performer on this coarse evidence, or None. ``margin`` loosens every threshold by
    that fraction of itself: the cascade skips a shot only when it fails by a margin, and a shot that
    fails with a margin fails without one."""

    def competing_rule(self) -> CompetingRule: ...

    def coarse_verdict(self, shot: ShotRow, margin: float = 0.0) -> tuple[str, str] | None: ...


def side_by_side(height_a: float, x_a: float, height_b: float, x_b: float) -> bool:
    """Two faces of similar size (heights within 0.6 of each other), one in each half of the
    frame (``x``: horizontal centres as fractions of the width): a split screen."""
    ratio = min(height_a, height_b) / max(height_a, height_b, 1e-6)
    left, right = sorted((x_a, x_b))
    return ratio >= 0.6 and left < 0.5 < right


def _x_center(face: CoarseFace, width: float) -> float:
    return float(face.box[0] + face.box[2]) / 2 / width
