"""Own and partner channels cut from one mix: frames assigned, edges crossfaded, overlaps in both."""

import numpy as np

from annotators.audio.voice_channels import frame_gains, from_states, from_turns, lips_moving, split_channels
from schemas.performer_states import PerformerState
from schemas.speech_rows import SpeakerTurn

RATE, FPS = 16_000, 25.0
SPEAK, LISTEN, IDLE = int(PerformerState.SPEAKING), int(PerformerState.LISTENING), int(PerformerState.IDLE)


def test_states_give_own_speech_partner_voice_and_overlaps_where_another_face_speaks() -> None:
    states = np.array([SPEAK] * 4 + [LISTEN] * 4 + [IDLE] * 4)
    voiced = np.array([1] * 8 + [1, 0, 0, 0], bool)  # one voiced idle frame: an off-screen voice
    others = np.zeros(12, bool)
    others[2] = True  # the other face speaks over the performer's last words
    voices = from_states(states, voiced, others)
    assert voices.own.tolist() == [True] * 4 + [False] * 8
    assert voices.partner.tolist() == [False, False, True, False] + [True] * 4 + [True, False, False, False]
    assert voices.overlap.tolist() == [False, False, True] + [False] * 9
    assert voices.source == "states"


def test_turns_of_the_performers_speakers_are_own_the_rest_partner() -> None:
    times = np.arange(10) / FPS
    turns = [SpeakerTurn("A", 0.0, 0.2), SpeakerTurn("B", 0.15, 0.4)]
    voices = from_turns(times, 1 / FPS, turns, {"A"})
    assert voices.own.tolist() == [True] * 5 + [False] * 5
    assert voices.partner.tolist() == [False] * 3 + [True] * 7
    assert voices.overlap.tolist() == [False] * 3 + [True] * 2 + [False] * 5


def test_gains_ramp_over_ten_ms_at_the_edges_and_are_whole_inside() -> None:
    mask = np.array([False] * 5 + [True] * 5 + [False] * 5)
    gains = frame_gains(mask, FPS, 15 * 640, RATE)
    edge = 5 * 640
    assert gains[: edge - 80].max() == 0.0 and gains[edge + 80 : 2 * edge - 80].min() == 1.0
    ramp = gains[edge - 80 : edge + 80]
    assert np.all(np.diff(ramp) >= 0) and 0.4 < gains[edge] < 0.6  # a linear 160-sample crossfade


def test_channels_keep_the_mix_where_each_voice_is_and_both_in_an_overlap() -> None:
    rng = np.random.default_rng(0)
    mix = (rng.standard_normal(12 * 640) * 3000).astype(np.int16)
    states = np.array([SPEAK] * 6 + [LISTEN] * 6)
    others = np.zeros(12, bool)
    others[3] = True
    channels = split_channels(mix, FPS, RATE, from_states(states, np.ones(12, bool), others))
    inside = lambda frame: slice(frame * 640 + 100, (frame + 1) * 640 - 100)  # noqa: E731
    assert np.array_equal(channels.own[inside(1)], mix[inside(1)]) and not channels.partner[inside(1)].any()
    assert np.array_equal(channels.partner[inside(8)], mix[inside(8)]) and not channels.own[inside(8)].any()
    assert np.array_equal(channels.own[inside(3)], mix[inside(3)])  # the overlap is in both
    assert np.array_equal(channels.partner[inside(3)], mix[inside(3)])
    assert len(channels.own) == len(channels.partner) == len(mix) and channels.separation is None


def test_moving_lips_of_a_face_not_labelled_speaking_add_its_voice_under_the_speakers() -> None:
    """A backchannel is too short to change a state: the lips say it. Runs shorter than
    ``MIN_LIPS_FRAMES`` (a twitch) and lips moving in silence add nothing."""
    states = np.array([SPEAK] * 10 + [LISTEN] * 10)
    voiced = np.ones(20, bool)
    voiced[17:] = False
    others_lips = np.zeros(20, bool)
    others_lips[2:6] = True  # the other face says "mm-hm" while the performer speaks
    others_lips[8] = True  # one frame: a twitch
    own_lips = np.zeros(20, bool)
    own_lips[12:15] = True  # the performer says "yeah" while listening to a voiced partner
    own_lips[16:20] = True  # lips moving as the audio goes silent: only the voiced frame counts, too short
    voices = from_states(states, voiced, np.zeros(20, bool), own_lips, others_lips)
    assert np.flatnonzero(voices.overlap).tolist() == [2, 3, 4, 5, 12, 13, 14]
    assert voices.own.tolist() == [True] * 10 + [False] * 2 + [True] * 3 + [False] * 5
    assert voices.partner.tolist() == [False] * 2 + [True] * 4 + [False] * 4 + [True] * 7 + [False] * 3
    assert lips_moving(np.array([0.0, 0.05, np.nan, 0.05]), np.array([True, True, True, False])).tolist() == [
        False, True, False, False]
