"""MFCCs computed as ``python_speech_features.mfcc`` computes them with its defaults, which is what
SyncNet (``annotators.models.syncnet``) was trained on: 25 ms rectangular windows every 10 ms, 0.97
pre-emphasis, a 512-point FFT, 26 triangular mel filters from 0 Hz to Nyquist, log energies, a
type-II orthonormal DCT keeping 13 coefficients, a sine lifter of 22, and the first coefficient
replaced by the log of each window's total energy. Written out here (numpy and scipy only) so
the toolkit does not depend on that unmaintained package.
"""

import numpy as np
from scipy.fft import dct

WINDOW_S = 0.025
STEP_S = 0.01
N_FFT = 512
N_FILTERS = 26
N_COEFFICIENTS = 13
PREEMPHASIS = 0.97
LIFTER = 22


def mfcc(signal: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """(n_windows, 13) float64 for a mono signal (any scale: SyncNet saw int16 values)."""
    x = np.asarray(signal, dtype=np.float64)
    x = np.append(x[:1], x[1:] - PREEMPHASIS * x[:-1])
    length, step = int(round(WINDOW_S * sample_rate)), int(round(STEP_S * sample_rate))
    n_windows = 1 if len(x) <= length else 1 + int(np.ceil((len(x) - length) / step))
    padded = np.concatenate([x, np.zeros(max(0, (n_windows - 1) * step + length - len(x)))])
    index = np.arange(length)[None, :] + step * np.arange(n_windows)[:, None]
    power = np.abs(np.fft.rfft(padded[index], N_FFT)) ** 2 / N_FFT
    energy = power.sum(axis=1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    bands = power @ mel_filterbank(sample_rate).T
    bands = np.where(bands == 0, np.finfo(float).eps, bands)
    cepstra = dct(np.log(bands), type=2, axis=1, norm="ortho")[:, :N_COEFFICIENTS]
    cepstra *= 1 + (LIFTER / 2) * np.sin(np.pi * np.arange(N_COEFFICIENTS) / LIFTER)
    cepstra[:, 0] = np.log(energy)
    return cepstra


def mel_filterbank(sample_rate: int) -> np.ndarray:
    """(26, N_FFT // 2 + 1) triangular filters on the mel scale, FFT bins rounded down."""
    top = 2595 * np.log10(1 + (sample_rate / 2) / 700)
    hz = 700 * (10 ** (np.linspace(0, top, N_FILTERS + 2) / 2595) - 1)
    bins = np.floor((N_FFT + 1) * hz / sample_rate).astype(int)
    bank = np.zeros((N_FILTERS, N_FFT // 2 + 1))
    for j in range(N_FILTERS):
        left, centre, right = bins[j], bins[j + 1], bins[j + 2]
        for i in range(left, centre):
            bank[j, i] = (i - left) / (centre - left)
        for i in range(centre, right):
            bank[j, i] = (right - i) / (right - centre)
    return bank
