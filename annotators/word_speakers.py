"""Give each transcribed word the speaker diarization heard during it.

A word goes to the speaker whose turns overlap it longest; a word no turn overlaps keeps
``speaker=None`` rather than borrowing the nearest turn, so gaps in diarization stay visible.
"""

from collections.abc import Sequence
from dataclasses import replace

from annotators.speaker_diarizer import SpeakerTurn
from annotators.speech_transcriber import TranscribedWord


def assign_word_speakers(
    words: Sequence[TranscribedWord], turns: Sequence[SpeakerTurn]
) -> list[TranscribedWord]:
    return [replace(word, speaker=_speaker_of(word, turns)) for word in words]


def _speaker_of(word: TranscribedWord, turns: Sequence[SpeakerTurn]) -> str | None:
    overlap: dict[str, float] = {}
    for turn in turns:
        shared = _overlap(word, turn)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    return max(overlap, key=overlap.__getitem__) if overlap else None


def _overlap(word: TranscribedWord, turn: SpeakerTurn) -> float:
    if word.t_end <= word.t_start:  # a zero-length word belongs to the turn that contains it
        return 1e-9 if turn.t_start <= word.t_start < turn.t_end else 0.0
    return max(0.0, min(word.t_end, turn.t_end) - max(word.t_start, turn.t_start))
