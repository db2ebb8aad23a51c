"""Speaker turns without pyannote: voice-activity intervals cut into windows, each window embedded
by Resemblyzer's speaker encoder, the windows grouped by voice.

pyannote's diarization needs a gated download; this needs nothing beyond the package. It is
coarser: a turn change inside a window goes to whichever voice dominates the window, so turns are
placed to about ``WINDOW_S`` / 2. Windows are cut evenly inside each speech interval, as many as
are nearest to ``WINDOW_S`` long (a 3.5-s interval gives two 1.75-s windows, not 1.5 + 1.5 + 0.5:
the encoder reads 1.6-s windows, so shorter ones describe a voice worse), and a window shorter than
``voice_embedder.MIN_VOICE_SECONDS`` joins the voice of the nearest described window in time.
"""

import itertools
from collections.abc import Sequence

import numpy as np

from annotators.models.speaker_diarizer import Diarization
from annotators.models.voice_embedder import VOICE_EMBEDDING_DISTANCE_THRESHOLD, VoiceEmbedder, cluster_embeddings
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from schemas.speech_rows import SpeakerTurn

WINDOW_S = 1.5


def speech_windows(intervals: Sequence[tuple[float, float]], window_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """Each interval cut into equal windows, as many as make them nearest ``window_s`` seconds."""
    windows = []
    for start, end in intervals:
        count = max(1, round((end - start) / window_s))
        edges = np.linspace(start, end, count + 1)
        windows += [(float(a), float(b)) for a, b in itertools.pairwise(edges)]
    return windows


def label_gaps(labels: list[int | None], windows: Sequence[tuple[float, float]]) -> list[int | None]:
    """Windows without a voice take the voice of the nearest labelled window (by centre time)."""
    centres = np.array([(a + b) / 2 for a, b in windows])
    known = [i for i, label in enumerate(labels) if label is not None]
    if not known:
        return labels
    return [
        label if label is not None else labels[min(known, key=lambda k: abs(centres[k] - centres[i]))]
        for i, label in enumerate(labels)
    ]


def merge_turns(windows: Sequence[tuple[float, float]], labels: Sequence[int | None]) -> list[SpeakerTurn]:
    """Consecutive windows of one voice that touch become one turn; labels become SPEAKER_nn."""
    turns: list[SpeakerTurn] = []
    for (start, end), label in zip(windows, labels, strict=True):
        if label is None:
            continue
        speaker = f"SPEAKER_{label:02d}"
        if turns and turns[-1].speaker == speaker and start - turns[-1].t_end < 1e-6:
            turns[-1] = SpeakerTurn(speaker, turns[-1].t_start, end)
        else:
            turns.append(SpeakerTurn(speaker, start, end))
    return turns


def voice_turns(
    audio: np.ndarray,
    intervals: Sequence[tuple[float, float]],
    embedder: VoiceEmbedder,
    threshold: float = VOICE_EMBEDDING_DISTANCE_THRESHOLD,
    max_speakers: int | None = None,
) -> Diarization:
    """Speaker turns of 16 kHz mono ``audio`` from its speech ``intervals`` (seconds)."""
    duration = len(audio) / ANALYSIS_SAMPLE_RATE
    windows = speech_windows(intervals)
    vectors = [
        embedder.embed(audio[int(a * ANALYSIS_SAMPLE_RATE) : int(b * ANALYSIS_SAMPLE_RATE)]) for a, b in windows
    ]
    labels = label_gaps(cluster_embeddings(vectors, threshold, max_speakers), windows)
    return Diarization(tuple(merge_turns(windows, labels)), duration)
