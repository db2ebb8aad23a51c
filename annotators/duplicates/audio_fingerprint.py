"""Is the audio of two twin segments the same recording? A compact loudness envelope per segment.

Two copies of one picture are a re-upload when they carry the same sound, and a dub (or a voice
swapped in a mux) when they do not: dedup must not treat the second case as a repeat, because only
one of the two audios is the picture's own and nothing in the pictures says which
(``stages.dedup``). A re-encode (AAC, resampling, a volume change) keeps the shape of the loudness
over time; another recording does not. The envelope is the log energy of 30 ms windows every
10 ms (about 1,000 numbers for a 10 s segment), and two envelopes are compared by the best
normalised correlation of their changes (hop to hop: the onsets and releases of syllables, which
slow loudness trends and pauses cannot imitate) over every shift that overlaps at least
``MIN_OVERLAP_S`` (two copies may be cut at different moments).

Measured on the 8 talking heads of ``../shared/media``: the same audio after an AAC re-encode
(64 kb/s, 44.1 kHz, volume x0.7) and a shift of 0-0.3 s correlates at 0.81 or more (0.81 when the
shift falls half-way between two hops, 0.91 otherwise); another talking head's voice at most 0.49
(84 pairs, two shifts each). With 40 ms hops and the envelope itself, not its changes, the two
overlapped (same 0.88, others up to 0.90). ``SAME_AUDIO`` = 0.65 lies between. An envelope that
barely moves (silence, a steady hum) tells nothing: ``None``.
"""

import numpy as np

from annotators.audio.envelope_alignment import shifted_correlations

HOP_S = 0.01
WINDOW_S = 0.03  # three hops: a copy shifted by half a hop still reads nearly the same envelope
MIN_OVERLAP_S = 2.0
SAME_AUDIO = 0.65
_MIN_SPREAD_DB = 3.0  # an envelope flatter than this (std, dB) is silence or noise, not evidence
_FLOOR = 1e-10


def loudness_envelope(audio: np.ndarray, sample_rate: int, t_start: float, t_end: float) -> np.ndarray:
    """Log energy (dB) of each ``HOP_S`` hop of ``audio`` between the two times, float32."""
    hop, window = int(round(HOP_S * sample_rate)), int(round(WINDOW_S * sample_rate))
    a, b = int(round(t_start * sample_rate)), int(round(t_end * sample_rate))
    span = np.asarray(audio[max(0, a) : max(0, b)], dtype=np.float64)
    n = (len(span) - window) // hop + 1
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    summed = np.concatenate([[0.0], np.cumsum(span**2)])
    starts = np.arange(n) * hop
    energy = (summed[starts + window] - summed[starts]) / window
    return (10 * np.log10(energy + _FLOOR)).astype(np.float32)


def audio_similarity(a: np.ndarray, b: np.ndarray) -> float | None:
    """The best normalised correlation of the two envelopes' changes over shifts overlapping at
    least ``MIN_OVERLAP_S`` (or all of the shorter one); None when either gives no evidence."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if min(len(a), len(b)) < 3 or np.std(a) < _MIN_SPREAD_DB or np.std(b) < _MIN_SPREAD_DB:
        return None
    _shifts, r = shifted_correlations(np.diff(a), np.diff(b), int(round(MIN_OVERLAP_S / HOP_S)))
    return float(np.nanmax(r)) if np.isfinite(r).any() else -1.0


def same_audio(a: np.ndarray, b: np.ndarray, threshold: float = SAME_AUDIO) -> bool | None:
    """True: the same recording; False: another one; None: no evidence either way."""
    similarity = audio_similarity(a, b)
    return None if similarity is None else similarity >= threshold
