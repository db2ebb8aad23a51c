from annotators.audio.word_speakers import assign_word_speakers
from schemas.speech_rows import SpeakerTurn, TranscribedWord

TURNS = [SpeakerTurn("A", 0.0, 1.0), SpeakerTurn("B", 0.8, 2.0), SpeakerTurn("A", 2.5, 3.0)]


def word(t_start: float, t_end: float) -> TranscribedWord:
    return TranscribedWord("w", t_start, t_end, 0.9)


def test_each_word_goes_to_the_speaker_heard_longest_during_it():
    words = assign_word_speakers([word(0.1, 0.5), word(0.7, 1.0), word(0.9, 1.5), word(2.6, 2.6)], TURNS)
    assert [w.speaker for w in words] == ["A", "A", "B", "A"]
    assert [w.t_start for w in words] == [0.1, 0.7, 0.9, 2.6]


def test_a_word_no_turn_covers_keeps_no_speaker():
    (alone,) = assign_word_speakers([word(2.1, 2.4)], TURNS)
    assert alone.speaker is None
