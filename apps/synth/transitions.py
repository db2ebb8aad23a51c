"""Gradual shot transitions for the ``dissolves`` synthetic kind: cross-dissolves and fades
through black, centred on the cut frame of the plan.

A transition into the shot starting at frame ``b`` spans frames ``b - half`` .. ``b + half - 1``.
The composer draws frames one by one, so the outgoing shot's last ``half`` frames are held until
the incoming shot's first frame is drawn: before ``b`` the outgoing frames are mixed with that
first incoming frame, from ``b`` on the incoming frames with the last outgoing one (each side
still for half of a dissolve, as a freeze-dissolve). A fade darkens the outgoing shot to black
and brightens the incoming one from black. The mixing weight rises linearly over the
transition, so every frame differs little from the last: what a content-difference threshold
misses. The truth keeps the cut at ``b`` (the shots' midpoint) with the transition's kind.
"""

from collections.abc import Iterator

import numpy as np

TRANSITIONS = ("dissolve", "fade")
HALF_FRAMES = 6  # a 12-frame (0.48 s at 25 fps) transition


def mix(outgoing: np.ndarray, incoming: np.ndarray, weight: float, kind: str) -> np.ndarray:
    """The transition frame at ``weight`` (0: all outgoing, 1: all incoming)."""
    if kind == "fade":
        source, level = (outgoing, 1.0 - 2.0 * weight) if weight < 0.5 else (incoming, 2.0 * weight - 1.0)
        return (source.astype(np.float32) * level).round().astype(np.uint8)
    blended = outgoing.astype(np.float32) * (1.0 - weight) + incoming.astype(np.float32) * weight
    return blended.round().astype(np.uint8)


def with_transitions(
    frames: Iterator[np.ndarray], cuts: dict[int, str], half: int = HALF_FRAMES
) -> Iterator[np.ndarray]:
    """``frames`` with a transition of kind ``cuts[b]`` around every cut frame ``b`` in ``cuts``."""
    held: list[np.ndarray] = []
    after: tuple[int, str, np.ndarray] | None = None  # (cut, kind, last outgoing frame)
    steps = 2 * half + 1
    for index, frame in enumerate(frames):
        if any(b - half <= index < b for b in cuts):
            held.append(frame)
            continue
        if index in cuts:
            kind = cuts[index]
            for k, outgoing in enumerate(held):
                yield mix(outgoing, frame, (half - len(held) + k + 1) / steps, kind)
            after = (index, kind, held[-1] if held else frame)
            held = []
        if after is not None and index < after[0] + half:
            yield mix(after[2], frame, (half + index - after[0] + 1) / steps, after[1])
        else:
            yield frame
    yield from held  # a cut planned past the last frame: its frames stay as drawn
