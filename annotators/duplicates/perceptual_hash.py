"""64-bit DCT perceptual hashes (pHash) of key frames, and matching of key-frame hash sequences.

A pHash keeps the signs of an image's lowest spatial frequencies, so it survives re-encoding,
rescaling, mild colour grading and added letterbox bars (we trim those first), while different
pictures differ in about half of the 64 bits. Comparing *sequences* of key-frame hashes at their
best time offset tells a re-upload or a repeated clip (most frames match, in order) from two clips
that merely share one similar frame.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HASH_SIDE = 8  # 8x8 low frequencies -> 64 bits
DCT_INPUT_SIDE = 32
FLAT_FRAME_STD = 2.0  # luma std below this: a blank/fade frame whose hash says nothing
BORDER_MAX_MEAN = 24.0  # letterbox bars: dark rows/columns ...
BORDER_MAX_STD = 8.0  # ... that are nearly uniform (compression noise allowed)

FrameHash = int | None  # None: a flat frame with no usable hash


def luma(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma as float64 from an RGB (H, W, 3) or grey (H, W) image."""
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.ndim == 2:
        return pixels
    return pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114


def trim_dark_borders(grey: np.ndarray) -> np.ndarray:
    """The image without dark uniform bars on its edges (letterbox/pillarbox added on re-upload)."""

    def is_bar(lines: np.ndarray) -> np.ndarray:
        return (lines.mean(axis=1) <= BORDER_MAX_MEAN) & (lines.std(axis=1) <= BORDER_MAX_STD)

    rows, cols = np.flatnonzero(~is_bar(grey)), np.flatnonzero(~is_bar(grey.T))
    if rows.size == 0 or cols.size == 0:
        return grey
    trimmed = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # A mostly dark picture is content, not bars: never trim away more than half of a side.
    if trimmed.shape[0] < grey.shape[0] / 2 or trimmed.shape[1] < grey.shape[1] / 2:
        return grey
    return trimmed


@functools.lru_cache(maxsize=64)
def _area_resample_matrix(source: int, target: int) -> np.ndarray:
    """(target, source) weights averaging each output cell over its exact input footprint (the
    same few sizes recur on every key frame of a video: built once each)."""
    edges = np.linspace(0.0, source, target + 1)
    starts, ends = edges[:-1, None], edges[1:, None]
    pixel = np.arange(source)[None, :]
    overlap = np.clip(np.minimum(ends, pixel + 1) - np.maximum(starts, pixel), 0.0, None)
    weights = overlap / overlap.sum(axis=1, keepdims=True)
    weights.flags.writeable = False  # shared by every caller through the cache
    return weights


def area_resize(grey: np.ndarray, side: int) -> np.ndarray:
    """Box-filter resize to side x side, exact for any input size (no aliasing from decimation)."""
    rows = _area_resample_matrix(grey.shape[0], side)
    cols = _area_resample_matrix(grey.shape[1], side)
    return rows @ grey @ cols.T


def _dct_matrix(size: int) -> np.ndarray:
    """Orthonormal DCT-II basis: ``matrix @ x`` is the DCT of the vector x."""
    k, n = np.arange(size)[:, None], np.arange(size)[None, :]
    basis = np.cos(np.pi * (2 * n + 1) * k / (2 * size)) * np.sqrt(2.0 / size)
    basis[0] /= np.sqrt(2.0)
    return basis


_DCT = _dct_matrix(DCT_INPUT_SIDE)


def phash64(image: np.ndarray) -> FrameHash:
    """The 64-bit pHash of an RGB or grey frame, or None for a flat (blank, faded) frame.

    As in the reference pHash: 32x32 grey, 2-D DCT, the top-left 8x8 coefficients compared with
    their median; bit 63 is coefficient (0, 0), bits run row by row.
    """
    grey = trim_dark_borders(luma(image))
    if grey.std() < FLAT_FRAME_STD:
        return None
    small = area_resize(grey, DCT_INPUT_SIDE)
    low = (_DCT @ small @ _DCT.T)[:HASH_SIDE, :HASH_SIDE].ravel()
    bits = low > np.median(low)
    return int(np.packbits(bits).view(">u8")[0])


def hamming_distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class SequenceMatch:
    """Two key-frame hash sequences at their best alignment.

    ``offset``: index in ``b`` of ``a``'s first key frame; ``compared``: aligned pairs where both
    frames have a hash; ``matched_fraction``: matched pairs over the informative key frames of the
    shorter sequence (so a partial overlap scores lower).
    """

    offset: int
    compared: int
    matched: int
    matched_fraction: float
    mean_distance: float


def hash_array(hashes: Sequence[FrameHash]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes as uint64 with a validity mask (None -> invalid)."""
    valid = np.array([h is not None for h in hashes], dtype=bool)
    values = np.array([h if h is not None else 0 for h in hashes], dtype=np.uint64)
    return values, valid


def match_hash_sequences(
    a: Sequence[FrameHash], b: Sequence[FrameHash], max_distance: int = 10
) -> SequenceMatch | None:
    """The best time alignment of two key-frame hash sequences, or None if nothing is comparable.

    Every offset (including partial overlaps) is tried; the best has the most matched frames
    (Hamming distance <= ``max_distance``), then the lowest mean distance, then the smallest shift.
    """
    values_a, valid_a = hash_array(a)
    values_b, valid_b = hash_array(b)
    informative = min(int(valid_a.sum()), int(valid_b.sum()))
    if informative == 0:
        return None
    distance = np.bitwise_count(values_a[:, None] ^ values_b[None, :]).astype(np.int64)
    both = valid_a[:, None] & valid_b[None, :]
    best: tuple[tuple[int, float, int], SequenceMatch] | None = None
    for offset in range(-(len(a) - 1), len(b)):
        # Diagonal ``offset`` pairs a[i] with b[i + offset].
        mask = np.diagonal(both, offset)
        compared = int(mask.sum())
        if compared == 0:
            continue
        distances = np.diagonal(distance, offset)[mask]
        matched = int((distances <= max_distance).sum())
        mean = float(distances.mean())
        key = (-matched, mean, abs(offset))
        if best is None or key < best[0]:
            match = SequenceMatch(offset, compared, matched, matched / informative, mean)
            best = (key, match)
    return None if best is None else best[1]
