import itertools

import numpy as np

from apps.synth.conversation import PAUSE_S, Speaker, plan_conversation
from apps.synth.speech import SAMPLE_RATE, VOICES, frame_envelope, synthesize
from apps.synth.truth import BRIDGE_GAP_S

SENTENCE = "We learned more from our mistakes than from anything else."


def test_espeak_speech_is_trimmed_16k_audio_of_a_plausible_length():
    audio = synthesize(SENTENCE, VOICES[0])
    seconds = audio.size / SAMPLE_RATE
    assert 2.0 < seconds < 5.0  # ten words at ~160 words per minute
    peak = np.abs(audio).max()
    assert peak > 0.2
    # Trimmed: the first and last 20 ms are not silence.
    edge = int(0.02 * SAMPLE_RATE)
    assert np.abs(audio[:edge]).max() > 0.02 * peak and np.abs(audio[-edge:]).max() > 0.02 * peak


def _median_pitch_hz(audio: np.ndarray) -> float:
    """Median autocorrelation pitch over the loud, periodic 40 ms windows."""
    window = int(0.04 * SAMPLE_RATE)
    low, high = SAMPLE_RATE // 500, SAMPLE_RATE // 60
    mean_power = float((audio**2).mean())
    pitches = []
    for start in range(0, audio.size - window, window // 2):
        chunk = audio[start : start + window] - audio[start : start + window].mean()
        if (chunk**2).mean() < 0.1 * mean_power:
            continue
        corr = np.correlate(chunk, chunk, mode="full")[window - 1 :]
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.3 * corr[0]:
            pitches.append(SAMPLE_RATE / lag)
    return float(np.median(pitches))


def test_voices_are_distinct():
    pitches = [_median_pitch_hz(synthesize(SENTENCE, voice)) for voice in VOICES]
    male, female = pitches[0::2], pitches[1::2]
    assert max(male) < 130 and min(female) > 170, pitches
    waveforms = {synthesize(SENTENCE, voice).tobytes() for voice in VOICES}
    assert len(waveforms) == len(VOICES)


def test_envelope_is_loud_in_speech_and_silent_outside():
    speech = synthesize(SENTENCE, VOICES[0])
    track = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), speech, np.zeros(SAMPLE_RATE, np.float32)])
    n_frames = int(track.size / SAMPLE_RATE * 25)
    env = frame_envelope(track, 25, n_frames)
    assert env[:20].max() == 0.0 and env[-20:].max() == 0.0
    assert np.median(env[30 : n_frames - 30]) > 0.02


def test_conversation_alternates_fits_and_bridges_only_short_gaps():
    rng = np.random.default_rng(5)
    speakers = [Speaker("a", VOICES[0]), Speaker("b", VOICES[1])]
    talk = plan_conversation(rng, speakers, n_frames=500, fps=25, pause_probability=0.5)
    utterances = talk.utterances
    assert len(utterances) >= 4
    assert {u.speaker for u in utterances} == {"a", "b"}
    for before, after in itertools.pairwise(utterances):
        gap = after.t_start - before.t_end
        assert gap > 0.1  # no overlaps
        # Gaps are either clearly short (bridged) or clearly long (idle): never near the rule's edge.
        assert gap < BRIDGE_GAP_S - 0.15 or gap >= PAUSE_S[0]
        if after.turn_index != before.turn_index:
            assert after.speaker != before.speaker
    assert utterances[-1].t_end <= 20.0
    speakers_per_frame = talk.speaker_per_frame()
    assert len(speakers_per_frame) == 500
    for u in talk.utterance_truth():
        assert all(s == u.speaker for s in speakers_per_frame[u.first_frame : u.last_frame + 1])
    long_pauses = [(b.t_end, a.t_start) for b, a in itertools.pairwise(utterances)
                   if a.t_start - b.t_end >= PAUSE_S[0]]
    for end, start in long_pauses:
        middle = int((end + start) / 2 * 25)
        assert speakers_per_frame[middle] is None
    # Each speaker's own track holds only their voice: silent while the other talks.
    for u in utterances:
        other = "b" if u.speaker == "a" else "a"
        span = slice(u.start, u.start + u.audio.size)
        assert np.abs(talk.own_tracks[other][span]).max() == 0.0
        assert np.abs(talk.own_tracks[u.speaker][span]).max() > 0.1


def test_backchannels_overlap_the_speaker_in_the_listeners_track_and_leave_the_turns_alone():
    speakers = [Speaker("a", VOICES[0]), Speaker("b", VOICES[1])]
    plain = plan_conversation(np.random.default_rng(7), speakers, n_frames=500, fps=25, pause_probability=0.3)
    again = plan_conversation(np.random.default_rng(7), speakers, n_frames=500, fps=25, pause_probability=0.3,
                              backchannel_probability=0.0)
    assert np.array_equal(plain.mix, again.mix) and not again.backchannels  # off: the corpus it always was
    talk = plan_conversation(np.random.default_rng(7), speakers, n_frames=500, fps=25, pause_probability=0.3,
                             backchannel_probability=1.0)
    assert talk.backchannels
    turn_speaker = talk.speaker_per_frame()
    for said in talk.backchannels:
        over = next(u for u in talk.utterances if u.start <= said.start and said.start + said.audio.size <= u.start
                    + u.audio.size)
        assert over.speaker != said.speaker  # said by the listener, inside the speaker's utterance
        middle = int((said.start + said.audio.size / 2) / SAMPLE_RATE * 25)
        assert turn_speaker[middle] == over.speaker  # the turn stays the speaker's
        heard = talk.own_tracks[said.speaker][said.start : said.start + said.audio.size]
        assert np.abs(heard).max() > 0.05  # in the listener's own track
    truth = talk.utterance_truth(backchannels=True)
    assert [t.text for t in truth] == [b.text for b in talk.backchannels]
