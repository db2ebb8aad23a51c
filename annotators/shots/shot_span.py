"""A shot as a span of analysis frames, and the shots a list of cuts makes: what every shot
detector (``shot_detector``, ``transnet_shots``, ``spanned_shots``) returns."""

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class ShotSpan:
    index: int
    first_frame: int
    end_frame: int  # exclusive


def shots_from_cuts(cuts: list[int], n_frames: int) -> list[ShotSpan]:
    """Shots covering frames 0 to ``n_frames`` - 1, a new one at every cut."""
    if n_frames <= 0:
        return []
    bounds = [0, *sorted({c for c in cuts if 0 < c < n_frames}), n_frames]
    return [ShotSpan(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(bounds))]
