"""The one-letter-a-frame form of a track's states (the tracks table's ``frame_states``)."""

import typing

import numpy as np

from schemas.annotation_classes import StateName
from schemas.performance_annotation import annotation_schema
from schemas.performer_states import STATE_NAMES, PerformerState, frame_state_codes, frame_state_letters


def test_letters_name_each_present_frame_and_mark_absent_ones():
    states = np.array([0, 1, 1, 2, 2, 0], dtype=np.int8)
    present = np.array([True, True, False, True, True, False])
    assert frame_state_letters(states, present) == "is.ll."


def test_codes_read_back_what_the_letters_wrote():
    states = [int(s) for s in PerformerState] * 3
    present = [True, False, True] * 3
    codes = frame_state_codes(frame_state_letters(states, present))
    assert codes == [s if p else None for s, p in zip(states, present, strict=True)]


def test_state_names_are_the_annotation_schemas_state_names():
    """``STATE_NAMES`` is typed as the generated ``StateName``: the schema must list the same names."""
    schema = annotation_schema()
    assert list(STATE_NAMES) == schema["$defs"]["state_name"]["enum"]
    assert set(STATE_NAMES) == set(typing.get_args(StateName))
