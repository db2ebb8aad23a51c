"""What the speech stage hands on: speaker turns and transcribed words, as the models make them
and as every later stage reads them (``VideoWork.speech``), one definition for all.

They are here, below the models and the run core, because ``curation.runtime.products``
declares them in ``SpeechResult`` and the diarizer, the voice turns and the transcriber make them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SpeakerTurn:
    speaker: str | None  # pipeline label, e.g. "SPEAKER_00"; None for a voice-activity interval no one split
    t_start: float  # seconds
    t_end: float


@dataclass(frozen=True)
class TranscribedWord:
    text: str
    t_start: float  # seconds
    t_end: float
    score: float  # alignment confidence in [0, 1]; 0 when the word could not be aligned
    speaker: str | None = None  # filled by ``annotators.audio.word_speakers``
