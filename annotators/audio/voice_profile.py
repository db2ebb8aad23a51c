"""Whose voice is it? Voiced spans of one video grouped by speaker without any downloaded model.

For when no diarization model is configured. Each span is described by the mean of its MFCC
frames (19 coefficients above c0, 25 ms windows every 10 ms, the quietest 30 % of frames dropped as
pauses), standardised with the mean and spread of every span's frames in the video so that each
coefficient weighs the same; two spans are as far apart as the RMS difference of those means, and
spans are grouped by average linkage up to ``VOICE_DISTANCE_THRESHOLD``, and beyond it down to
``max_voices`` groups when the caller knows how many voices there can be.

No single cut fits every recording: on the speaking benchmark's spliced conversations (seeds 0-3,
24 videos of two real people, 1.9-2.5 s parts) same-speaker pairs reach 0.47 and different
speakers go down to 0.43, while on the synthetic corpus's espeak voices (3-s utterances) the same
voice reaches 0.36 and different voices go down to 0.25. Within one video the gap is usually clear,
so the states stage caps the count at the number of faces, and the cut, 0.2,
only merges spans that are nearly the same. The symmetric KL divergence between diagonal
Gaussians of the frames (the classic distance of pre-neural speaker segmentation) did worse on
the spliced set (20 of 24 videos grouped exactly at its best cut, against 22 for this distance),
with or without deltas; adding the median pitch did not help. A pyannote diarization, when its
model is present, replaces this (``stages.states``).
"""

import itertools

import numpy as np
from scipy.fft import dct

from annotators.clustering.constrained_linkage import average_linkage_clusters
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

VOICE_DISTANCE_THRESHOLD = 0.2
N_MELS = 40
N_COEFFICIENTS = 19
WINDOW_SAMPLES = 400  # 25 ms at 16 kHz
HOP_SAMPLES = 160  # 10 ms
N_FFT = 512
PAUSE_QUANTILE = 30  # frames quieter than this percentile of the span are pauses
MIN_FRAMES = 20  # a span needs this many voiced frames (0.2 s) to be described


def mel_filterbank(n_mels: int = N_MELS, low_hz: float = 60.0, high_hz: float = 7600.0) -> np.ndarray:
    """(n_mels, N_FFT // 2 + 1) triangular filters evenly spaced on the mel scale."""

    def mel(hz: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    corners = 700.0 * (10 ** (np.linspace(mel(np.array(low_hz)), mel(np.array(high_hz)), n_mels + 2) / 2595.0) - 1)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / ANALYSIS_SAMPLE_RATE)
    bank = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        left, centre, right = corners[i : i + 3]
        bank[i] = np.clip(np.minimum((freqs - left) / (centre - left), (right - freqs) / (right - centre)), 0.0, None)
    return bank


_FILTERBANK = mel_filterbank()


def mfcc_frames(audio: np.ndarray) -> np.ndarray:
    """(n, N_COEFFICIENTS) MFCCs of the span's voiced frames (pauses dropped); (0, ...) when too short."""
    audio = np.asarray(audio, dtype=np.float64)
    if len(audio) < WINDOW_SAMPLES:
        return np.zeros((0, N_COEFFICIENTS))
    n = 1 + (len(audio) - WINDOW_SAMPLES) // HOP_SAMPLES
    index = np.arange(WINDOW_SAMPLES)[None, :] + HOP_SAMPLES * np.arange(n)[:, None]
    power = np.abs(np.fft.rfft(audio[index] * np.hanning(WINDOW_SAMPLES), N_FFT)) ** 2
    log_mel = np.log(power @ _FILTERBANK.T + 1e-8)
    loud = log_mel.mean(axis=1) > np.percentile(log_mel.mean(axis=1), PAUSE_QUANTILE)
    return dct(log_mel[loud], type=2, norm="ortho", axis=1)[:, 1 : 1 + N_COEFFICIENTS]


def voice_distances(spans: list[np.ndarray]) -> np.ndarray:
    """RMS differences between the spans' standardised mean MFCCs (NaN: a span too short to describe)."""
    frames = [mfcc_frames(a) for a in spans]
    described = [f for f in frames if len(f) >= MIN_FRAMES]
    distances = np.full((len(spans), len(spans)), np.nan)
    if not described:
        return distances
    pooled = np.vstack(described)
    centre, spread = pooled.mean(axis=0), np.maximum(pooled.std(axis=0), 1e-6)
    means = [((f - centre) / spread).mean(axis=0) if len(f) >= MIN_FRAMES else None for f in frames]
    for i, j in itertools.combinations_with_replacement(range(len(spans)), 2):
        if means[i] is not None and means[j] is not None:
            distances[i, j] = distances[j, i] = float(np.sqrt(np.mean((means[i] - means[j]) ** 2)))
    return distances


def cluster_voices(
    spans: list[np.ndarray], threshold: float = VOICE_DISTANCE_THRESHOLD, max_voices: int | None = None
) -> list[int | None]:
    """A voice number per span (spans of one speaker share it); None for spans too short to describe.
    ``max_voices`` caps the count (the closest voices merge past ``threshold`` until it holds)."""
    distances = voice_distances(spans)
    described = [i for i in range(len(spans)) if np.isfinite(distances[i, i])]
    labels: list[int | None] = [None] * len(spans)
    if not described:
        return labels
    sub = distances[np.ix_(described, described)]
    no_constraint = np.zeros(sub.shape, dtype=bool)
    for number, members in enumerate(average_linkage_clusters(sub, no_constraint, threshold, max_voices)):
        for member in members:
            labels[described[member]] = number
    return labels
