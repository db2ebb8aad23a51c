"""The voice of each voiced span of one video, from the best source this machine has.

A pyannote diarization, when it ran, names the speaker of every span through its turns. Without
it, the spans' audio is grouped by voice here: Resemblyzer's learned speaker embedding when it is
installed (``annotators.models.voice_embedder``), else the mean-MFCC voice profile
(``annotators.audio.voice_profile``). The voice-face association (``stages.states``) then matches the
voices to faces.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from annotators.audio.voice_profile import VOICE_DISTANCE_THRESHOLD, cluster_voices
from annotators.audio.word_speakers import speaker_during
from annotators.models.voice_embedder import CAPPED_VOICE_DISTANCE_THRESHOLD, VoiceEmbedder
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from schemas.speech_rows import SpeakerTurn


@dataclass
class SpanVoices:
    """Groups spans by voice; ``embedder`` None means the mean-MFCC profile."""

    embedder: VoiceEmbedder | None = None
    embedding_threshold: float = CAPPED_VOICE_DISTANCE_THRESHOLD
    profile_threshold: float = VOICE_DISTANCE_THRESHOLD

    def source(self, diarization: str) -> str:
        """What the voices come from, as the ``voice_faces`` product records it."""
        if diarization == "pyannote":
            return "diarization"
        return "voice_embedding" if self.embedder is not None else "voice_profile"

    def voices(
        self,
        times: Sequence[tuple[float, float]],
        audio: np.ndarray,
        max_voices: int,
        diarization: str = "off",
        turns: Sequence[SpeakerTurn] = (),
    ) -> list[Hashable | None]:
        """A voice per span (seconds of the video); spans of one speaker share it. At most
        ``max_voices`` voices (the faces with moving lips): 2-s spans of one voice can drift apart."""
        if diarization == "pyannote":
            return [speaker_during(t0, t1, turns) for t0, t1 in times]
        # Spans that overlap in time (two faces of one shot) hear the same sound, so the voice is
        # described once per stretch of time, and every span takes its stretch's voice.
        stretches = merged_intervals(list(times))
        clips = [audio[int(t0 * ANALYSIS_SAMPLE_RATE) : int(t1 * ANALYSIS_SAMPLE_RATE)] for t0, t1 in stretches]
        if self.embedder is not None:
            voices = self.embedder.cluster(clips, self.embedding_threshold, max_voices=max_voices)
        else:
            voices = cluster_voices(clips, self.profile_threshold, max_voices=max_voices)
        return [voices[next(k for k, (a, b) in enumerate(stretches) if a <= t0 and t1 <= b)] for t0, t1 in times]

    def vectors(
        self, times: Sequence[tuple[float, float]], audio: np.ndarray, voices: Sequence[Hashable | None]
    ) -> dict[Hashable, np.ndarray]:
        """Each voice's learned embedding, from all of its spans' audio at once (a longer sample
        describes a voice better than any one 2-s span), to match voices across videos. Empty
        without the voice encoder: the mean-MFCC profile is too coarse to find a voice again in
        another recording."""
        if self.embedder is None:
            return {}
        out: dict[Hashable, np.ndarray] = {}
        for voice in sorted({v for v in voices if v is not None}, key=repr):
            stretches = merged_intervals([t for t, v in zip(times, voices, strict=True) if v == voice])
            sample = np.concatenate(
                [audio[int(t0 * ANALYSIS_SAMPLE_RATE) : int(t1 * ANALYSIS_SAMPLE_RATE)] for t0, t1 in stretches]
            )
            vector = self.embedder.embed(sample)
            if vector is not None:
                out[voice] = vector
        return out


def merged_intervals(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of the intervals as disjoint intervals; intervals that only touch stay apart."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
