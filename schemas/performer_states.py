"""Conversational states of a visible performer, and their compact integer codes.

The integer codes are what per-frame arrays (`npz` member `state`, state timelines) store.
"""

from enum import IntEnum


class PerformerState(IntEnum):
    """What the visible person is doing in one frame."""

    IDLE = 0  # nobody is speaking
    SPEAKING = 1  # the visible person's own voice is heard
    LISTENING = 2  # someone else speaks while the visible person is silent or back-channelling


STATE_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in PerformerState)


def state_name(code: int) -> str:
    return STATE_NAMES[int(code)]
