"""Audio-visual synchrony of one face track: the audio offset, in frames, and how sure we are.

Mouth motion is correlated with a band-limited audio envelope at every candidate lag. Visual
signal: the darkness of the mouth box (``annotators.face.mouth_darkness``: the open mouth shows the
dark oral cavity), or, where the pixels were not read, mouth opening (inner-lip gap / face
height) plus MediaPipe ``jawOpen``, each standardised. Audio signal: the square root of the
100-1000 Hz energy in each video frame's audio, the band of voicing and the first formant,
which open-mouth vowels drive. Two terms are averaged: the signals' levels after removing their
0.5 s moving average (slow head, lighting and loudness drift), and their frame-to-frame changes
(mouth opening and closing against voice onsets and offsets, which pins the lag down more
sharply). Correlations are computed in 2 s windows and averaged, so a loud passage or a head
turn cannot dominate a long track.

Each frame's audio is taken around the instant the frame shows (``i / fps``) plus the 40 ms by
which speech sound trails the mouth (``SPEECH_AUDIO_LAG_S``), so an in-sync talker reads 0 and
a known extra lag is found exactly. On the 3-20 s ``talking_head`` clips of shared/media
(``tests/annotators/speaking/test_av_sync.py``), shifting the audio by -8..+8 frames gave the shift
(+-1) in 83 of 136 cases with the mouth darkness and 68 with the landmark pair; counted from
each clip's own unshifted reading, 121 of 136 with either (clips that read off 0 before any
shift: one reads -3 by every signal, a weakly guided render has no clear peak). The peak
within 3 frames of zero lag (``SyncCurve.peak_near``) ranks a clip's own audio above another
recording's with AUC 0.91 (landmarks 0.82).

Short spans (``context_curve``, ``sync_in_context``: the lip-sync verdict and the voice-face
association) are scored as SyncNet scores a clip: the correlation at every lag within +-15
frames, the audio read from beyond the span's edges, and how far the best value within 3 frames
of lag 0 stands out of the other lags, in units of their spread (``standout``): a foreign voice
peaks at a random lag and its best near-0 value is no higher than its wiggle is wide. Two
envelope bands are averaged, the 100-1000 Hz voicing band and the 1000-3000 Hz band of
consonants and upper formants, which marks the lips' closures and releases that the voicing
band smooths over. Against the previous recipe (one band, +-8 lags, near-0 peak minus median),
on the 2-s spans of 48 spliced conversations of ``lpm-curate bench speaking`` (own voice 96
spans, another person's voice over moving lips 73) the AUC rose from 0.66 to 0.81; on 2-s spans
of the talking heads (``test_av_sync.py``) from 0.74 to 0.885; on the speaking segments of
``lpm-curate bench dubbing`` (13 own, 64 dubbed, each read with up to 5 s of its track around it)
from 0.96 to 0.98. Short clips give few independent syllables, so this
is a quality score to rank and filter tracks by, not proof for a single clip.

Sign convention: a positive offset means the audio lags the video (the sound of a mouth
movement comes ``offset_frames`` frames after it); advancing the audio by that many frames
re-synchronises the track. ``AVOffset.confidence`` follows SyncNet: the peak minus the median
of the correlation over all lags.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.ndimage import uniform_filter1d

from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

ENVELOPE_BAND_HZ = (100.0, 1000.0)
WINDOW_S = 2.0
WINDOW_HOP_FRAMES = 3
DETREND_S = 0.5
MIN_FRAMES = 8  # shorter tracks (after the lag margin) give no estimate
# In natural speech the sound trails the mouth movement that shapes it; offsets are reported
# relative to that, so an in-sync recording reads 0. Measured +1..+2 frames (25 fps) on the
# shared clips known to be in sync (three fantasy_* renders, latentsync_demo3).
SPEECH_AUDIO_LAG_S = 0.04
# context_curve / sync_in_context (short spans): the lags compared, how near 0 an in-sync peak
# may sit, the envelope bands (the second, of consonant and upper-formant energy, carries the
# mouth's closures and releases the voicing band smooths over) and the spread floor of
# ``standout``. Chosen on ``lpm-curate bench dubbing`` and ``bench speaking``: see docs/defaults.md
# and docs/benchmarks.md.
CONTEXT_MAX_LAG = 15
CONTEXT_NEAR = 3
CONTEXT_BANDS_HZ = ((100.0, 1000.0), (1000.0, 3000.0))
SPREAD_FLOOR = 0.05


class AVOffset(NamedTuple):
    offset_frames: int  # > 0: the audio lags the video
    confidence: float  # peak minus median correlation over lags; 0 when there is no estimate


@dataclass(frozen=True)
class SyncCurve:
    """Mean windowed correlation between mouth motion and the audio envelope at each lag."""

    lags: np.ndarray  # (2 * max_offset + 1,) int, frames; lag L pairs video frame t with audio frame t + L
    scores: np.ndarray  # (len(lags),) float, in [-1, 1]

    @property
    def offset(self) -> AVOffset:
        if not np.isfinite(self.scores).all():
            return AVOffset(0, 0.0)
        best = int(np.argmax(self.scores))
        return AVOffset(int(self.lags[best]), float(self.scores[best] - np.median(self.scores)))

    def peak_near(self, offset_frames: int = 0, tolerance: int = 3) -> float:
        """Highest score within ``tolerance`` frames of ``offset_frames`` (in sync: near 0)."""
        near = np.abs(self.lags - offset_frames) <= tolerance
        return float(np.max(self.scores[near])) if np.isfinite(self.scores).all() else float("nan")


def sync_curve(
    mouth_open: np.ndarray,
    audio: np.ndarray,
    fps: float,
    max_offset_frames: int = 15,
    jaw_open: np.ndarray | None = None,
    *,
    mouth_dark: np.ndarray | None = None,
) -> SyncCurve:
    """Correlation at every lag in ``[-max_offset_frames, max_offset_frames]``.

    ``mouth_open``/``jaw_open`` are per video frame (NaN where the face is missing: gaps are
    interpolated); ``audio`` is 16 kHz mono float32 starting at the track's first frame.
    ``mouth_dark`` (``annotators.face.mouth_darkness``), when given and not flat, is the visual signal
    instead of the landmark pair.
    """
    lags = np.arange(-max_offset_frames, max_offset_frames + 1)
    n_frames = len(mouth_open)
    usable = n_frames - 2 * max_offset_frames
    visual = _visual_signal(mouth_open, jaw_open, mouth_dark)
    if usable < MIN_FRAMES or visual is None or audio.size == 0:
        return SyncCurve(lags, np.full(len(lags), np.nan))
    envelope = audio_envelope(audio, fps, n_frames, SPEECH_AUDIO_LAG_S)
    detrend = max(3, round(DETREND_S * fps))
    window = min(usable, max(MIN_FRAMES, round(WINDOW_S * fps)))
    level = _windowed_lag_correlation(
        _detrended(visual, detrend), _detrended(envelope, detrend), max_offset_frames, window
    )
    change = _windowed_lag_correlation(np.gradient(visual), np.gradient(envelope), max_offset_frames, window)
    return SyncCurve(lags, (level + change) / 2)


def estimate_av_offset(
    mouth_open: np.ndarray,
    audio: np.ndarray,
    fps: float,
    max_offset_frames: int = 15,
    jaw_open: np.ndarray | None = None,
    *,
    mouth_dark: np.ndarray | None = None,
) -> AVOffset:
    """The lag with the highest correlation and its SyncNet-style confidence."""
    return sync_curve(mouth_open, audio, fps, max_offset_frames, jaw_open, mouth_dark=mouth_dark).offset


def context_curve(
    mouth_open: np.ndarray,
    jaw_open: np.ndarray | None,
    audio: np.ndarray,
    first_frame: int,
    fps: float,
    max_lag: int = CONTEXT_MAX_LAG,
    *,
    mouth_dark: np.ndarray | None = None,
) -> SyncCurve:
    """A span's mouth/audio correlation at every lag in ``[-max_lag, max_lag]``, reading the
    audio for the other lags from beyond the span's edges.

    For spans too short for ``sync_curve`` (a 2-s shot leaves it a few frames once its lag margin
    is cut): ``audio`` is the whole video's, ``first_frame`` where the span starts in it (zeros
    before its start), so every frame of the span counts at every lag. Each lag's score is the
    mean Pearson correlation of the mouth signal's level and change against the envelope of each
    band of ``CONTEXT_BANDS_HZ``. NaN scores when the span or its mouth signal is too short or flat.
    """
    n = len(mouth_open)
    lags = np.arange(-max_lag, max_lag + 1)
    visual = _visual_signal(mouth_open, jaw_open, mouth_dark)
    if n < MIN_FRAMES or visual is None or audio.size == 0:
        return SyncCurve(lags, np.full(len(lags), np.nan))
    start = int(round((first_frame - max_lag) * ANALYSIS_SAMPLE_RATE / fps))
    context = np.concatenate([np.zeros(max(0, -start), dtype=np.float32), audio[max(0, start) :]])
    detrend = max(3, round(DETREND_S * fps))
    level_v, change_v = _detrended(visual, detrend), np.gradient(visual)
    scores = np.zeros(len(lags))
    envelopes = audio_envelopes(context, fps, n + 2 * max_lag, SPEECH_AUDIO_LAG_S, CONTEXT_BANDS_HZ)
    for envelope in envelopes:
        level_a, change_a = _detrended(envelope, detrend), np.gradient(envelope)
        scores += [
            _pearson(level_v, level_a[max_lag + lag : max_lag + lag + n])
            + _pearson(change_v, change_a[max_lag + lag : max_lag + lag + n])
            for lag in lags
        ]
    return SyncCurve(lags, scores / (2 * len(envelopes)))


def standout(curve: SyncCurve, near: int = CONTEXT_NEAR) -> float:
    """How far the best correlation within ``near`` frames of lag 0 stands above the other lags,
    in units of their spread: (peak - median of the far lags) / (their standard deviation +
    ``SPREAD_FLOOR``). SyncNet's confidence (peak minus median) as a z-score: a foreign voice's
    curve is a random wiggle whose best near-0 value, over a few lags, is as high as its wiggle
    is wide, so the raw difference grows with the noise; dividing by the spread of the far lags
    removes that. The floor keeps a nearly flat curve (little motion) from dividing by ~0. NaN
    without an estimate."""
    if not np.isfinite(curve.scores).all():
        return float("nan")
    close = np.abs(curve.lags) <= near
    far = curve.scores[~close]
    return float((curve.scores[close].max() - np.median(far)) / (far.std() + SPREAD_FLOOR))


def sync_in_context(
    mouth_open: np.ndarray,
    jaw_open: np.ndarray | None,
    audio: np.ndarray,
    first_frame: int,
    fps: float,
    max_lag: int = CONTEXT_MAX_LAG,
    near: int = CONTEXT_NEAR,
    *,
    mouth_dark: np.ndarray | None = None,
) -> float:
    """How much a span's mouth/audio correlation near lag 0 stands out from the other lags
    (``standout`` of ``context_curve``): about 0 for a voice that is not this mouth's, NaN when
    the span or its mouth signal is too short or flat."""
    curve = context_curve(mouth_open, jaw_open, audio, first_frame, fps, max_lag, mouth_dark=mouth_dark)
    return standout(curve, near)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / denominator if denominator > 1e-12 else 0.0


def audio_envelope(audio: np.ndarray, fps: float, n_frames: int, delay_s: float = 0.0) -> np.ndarray:
    """sqrt of the ``ENVELOPE_BAND_HZ`` energy of the audio one frame long around ``i / fps +
    delay_s`` for each video frame ``i`` (frame ``i`` shows the face at ``i / fps``)."""
    return audio_envelopes(audio, fps, n_frames, delay_s, (ENVELOPE_BAND_HZ,))[0]


def audio_envelopes(
    audio: np.ndarray, fps: float, n_frames: int, delay_s: float, bands: Sequence[tuple[float, float]]
) -> list[np.ndarray]:
    """``audio_envelope`` for each band, from one spectrum per frame."""
    centres = np.arange(n_frames + 1) - 0.5 + delay_s * fps
    edges = np.round(centres * ANALYSIS_SAMPLE_RATE / fps).astype(int)
    length = int(np.max(np.diff(edges)))
    n_fft = 1 << int(np.ceil(np.log2(length)))
    frames = np.zeros((n_frames, length), dtype=np.float32)
    for i in range(n_frames):
        chunk = audio[max(edges[i], 0) : edges[i + 1]]
        frames[i, length - len(chunk) :] = chunk
    power = np.abs(np.fft.rfft(frames * np.hanning(length), n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / ANALYSIS_SAMPLE_RATE)
    return [np.sqrt(power[:, (freqs >= low) & (freqs < high)].sum(axis=1)).astype(np.float64) for low, high in bands]


def _visual_signal(
    mouth_open: np.ndarray, jaw_open: np.ndarray | None, mouth_dark: np.ndarray | None = None
) -> np.ndarray | None:
    if mouth_dark is not None and (dark := _standardised(mouth_dark)) is not None:
        return dark
    parts = [_standardised(mouth_open)]
    if jaw_open is not None:
        parts.append(_standardised(jaw_open))
    parts = [p for p in parts if p is not None]
    return np.sum(parts, axis=0) if parts else None


def _standardised(x: np.ndarray) -> np.ndarray | None:
    """Zero mean, unit variance, NaN gaps interpolated; None when flat or nearly all missing."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return None
    x = np.interp(np.arange(len(x)), np.flatnonzero(ok), x[ok])
    spread = x.std()
    return (x - x.mean()) / spread if spread > 1e-9 else None


def _detrended(x: np.ndarray, width: int) -> np.ndarray:
    return x - uniform_filter1d(x, width, mode="nearest")


def _windowed_lag_correlation(v: np.ndarray, a: np.ndarray, max_lag: int, window: int) -> np.ndarray:
    """Pearson correlation of ``v[t]`` with ``a[t + lag]`` in windows, averaged over windows.

    Every lag uses the same video frames ``[max_lag, n - max_lag)``, so the scores compare.
    """
    n = len(v)
    first, end = max_lag, n - max_lag
    starts = np.arange(0, end - first - window + 1, WINDOW_HOP_FRAMES)
    x = v[first:end]
    scores = np.empty(2 * max_lag + 1)
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        y = a[first + lag : end + lag]
        sx, sy = _window_sums(x, starts, window), _window_sums(y, starts, window)
        sxx, syy = _window_sums(x * x, starts, window), _window_sums(y * y, starts, window)
        sxy = _window_sums(x * y, starts, window)
        cov = sxy - sx * sy / window
        var = (sxx - sx * sx / window) * (syy - sy * sy / window)
        r = np.where(var > 1e-12, cov / np.sqrt(np.maximum(var, 1e-12)), 0.0)
        scores[i] = r.mean()
    return scores


def _window_sums(z: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(z)])
    return cumulative[starts + window] - cumulative[starts]
