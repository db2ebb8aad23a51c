"""Conversational states of a visible performer, and their compact integer codes.

The integer codes are what per-frame arrays (`npz` member `state`, state timelines) store.
"""

from collections.abc import Sequence
from enum import IntEnum
from typing import cast

from schemas.annotation_classes import StateName


class PerformerState(IntEnum):
    """What the visible person is doing in one frame."""

    IDLE = 0  # nobody is speaking
    SPEAKING = 1  # the visible person's own voice is heard
    LISTENING = 2  # someone else speaks while the visible person is silent or back-channelling


# the annotation schema's ``state_name`` values (tests/schemas/test_performer_states.py holds them equal)
STATE_NAMES = cast(tuple[StateName, ...], tuple(s.name.lower() for s in PerformerState))


def state_name(code: int) -> StateName:
    return STATE_NAMES[int(code)]


# One letter a frame, as the tracks table's ``frame_states`` column writes a track's states: the
# letter of the state's name where the face is present, ``.`` where it is not.
STATE_LETTERS: str = "".join(name[0] for name in STATE_NAMES)
ABSENT_LETTER = "."


def frame_state_letters(states: Sequence[int], present: Sequence[bool]) -> str:
    """``states`` and ``present`` per frame as one string (``states`` where ``present``)."""
    return "".join(STATE_LETTERS[int(s)] if p else ABSENT_LETTER for s, p in zip(states, present, strict=True))


def frame_state_codes(letters: str) -> list[int | None]:
    """The inverse of ``frame_state_letters``: a state code per frame, None where absent."""
    return [None if c == ABSENT_LETTER else STATE_LETTERS.index(c) for c in letters]
