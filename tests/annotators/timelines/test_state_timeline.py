import numpy as np

from annotators.timelines.state_timeline import segment_state
from schemas.performer_states import PerformerState


def _codes(*runs_: tuple[PerformerState, int]) -> np.ndarray:
    return np.concatenate([np.full(n, state, dtype=np.int8) for state, n in runs_])


def test_a_segment_takes_its_most_frequent_state():
    listening_with_a_backchannel = _codes((PerformerState.LISTENING, 40), (PerformerState.SPEAKING, 10))
    assert segment_state(listening_with_a_backchannel, 8) == PerformerState.LISTENING
    assert segment_state(_codes((PerformerState.IDLE, 75)), 8) == PerformerState.IDLE


def test_a_segment_with_speech_in_it_is_never_idle():
    # A GRID sentence: 1.2 s of speech in a 3-s clip, one 3-s segment.
    sentence = _codes((PerformerState.IDLE, 25), (PerformerState.SPEAKING, 29), (PerformerState.IDLE, 21))
    assert segment_state(sentence, 8) == PerformerState.SPEAKING
    heard = _codes((PerformerState.IDLE, 30), (PerformerState.LISTENING, 12), (PerformerState.SPEAKING, 9),
                   (PerformerState.IDLE, 24))
    assert segment_state(heard, 8) == PerformerState.LISTENING
    # Shorter than a state lasts: no voice was heard, the segment stays idle.
    assert segment_state(_codes((PerformerState.IDLE, 70), (PerformerState.SPEAKING, 5)), 8) == PerformerState.IDLE
