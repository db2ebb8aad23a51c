"""Loudness and clipping of a span of audio.

Loudness is RMS in dBFS (0 dB = a full-scale square wave); silence is floored at -100 dB.
Clipping is the fraction of samples within 0.1% of full scale. Measured on the 16 kHz analysis
audio: resampling can smear isolated clipped samples, so this undercounts brief clipping.
"""

import numpy as np

SILENCE_DB = -100.0


def loudness_db(samples: np.ndarray) -> float:
    if samples.size == 0:
        return SILENCE_DB
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return max(SILENCE_DB, 20.0 * np.log10(rms)) if rms > 0 else SILENCE_DB


def clipping_fraction(samples: np.ndarray, full_scale: float = 1.0) -> float:
    if samples.size == 0:
        return 0.0
    return float(np.mean(np.abs(samples) >= 0.999 * full_scale))
