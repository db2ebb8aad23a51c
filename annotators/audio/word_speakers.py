"""Give each transcribed word (or any time span) the speaker diarization heard during it.

A word goes to the speaker whose turns overlap it longest; a word no turn overlaps keeps
``speaker=None`` rather than borrowing the nearest turn, so gaps in diarization stay visible.
"""

from collections.abc import Sequence
from dataclasses import replace

from schemas.speech_rows import SpeakerTurn, TranscribedWord


def assign_word_speakers(words: Sequence[TranscribedWord], turns: Sequence[SpeakerTurn]) -> list[TranscribedWord]:
    return [replace(word, speaker=speaker_during(word.t_start, word.t_end, turns)) for word in words]


def speaker_during(t_start: float, t_end: float, turns: Sequence[SpeakerTurn]) -> str | None:
    """The speaker whose turns overlap ``[t_start, t_end)`` longest; None when no turn does."""
    overlap: dict[str, float] = {}
    for turn in turns:
        shared = _overlap(t_start, t_end, turn)
        if shared > 0 and turn.speaker is not None:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    return max(overlap, key=overlap.__getitem__) if overlap else None


def _overlap(t_start: float, t_end: float, turn: SpeakerTurn) -> float:
    if t_end <= t_start:  # a zero-length word belongs to the turn that contains it
        return 1e-9 if turn.t_start <= t_start < turn.t_end else 0.0
    return max(0.0, min(t_end, turn.t_end) - max(t_start, turn.t_start))
