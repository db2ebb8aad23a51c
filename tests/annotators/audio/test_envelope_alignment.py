"""Two recordings of one sound line up at their true offset; two different sounds do not line up.

On the longest real talking-head audio of ``../shared/media`` (20 s): a second "recording" cut
from it by real ffmpeg at a known start, re-encoded to AAC at 44.1 kHz and 3 dB quieter, must be
found at that start within 10 ms (one envelope hop); another clip's voice must find no offset.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from annotators.audio.envelope_alignment import recording_offset, shifted_correlations
from annotators.duplicates.audio_fingerprint import HOP_S, loudness_envelope
from curation.media.audio_decoder import decode_audio

RATE = 16000
LONG_CLIP = "latentsync_demo3_video.mp4"  # 20 s of one person talking
OTHER_CLIP = "infinitetalk_ref_video.mp4"  # 15 s of another


def envelope(audio: np.ndarray) -> np.ndarray:
    return loudness_envelope(audio, RATE, 0.0, len(audio) / RATE)


def cut_recording(source: Path, out: Path, start_s: float, seconds: float) -> np.ndarray:
    """``seconds`` of ``source`` from ``start_s``, as another device would have it: AAC, 44.1 kHz, quieter."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{start_s}", "-t", f"{seconds}",
                    "-i", str(source), "-vn", "-c:a", "aac", "-b:a", "96k", "-ar", "44100", "-af", "volume=0.7",
                    str(out)], check=True)
    return decode_audio(out)


@pytest.mark.parametrize("start_s", [0.0, 1.234, 3.905])
def test_a_second_recording_is_found_at_its_offset(shared_media: Path, tmp_path: Path, start_s: float):
    first = decode_audio(shared_media / LONG_CLIP)
    second = cut_recording(shared_media / LONG_CLIP, tmp_path / "second.m4a", start_s, 12.0)
    found = recording_offset(envelope(first), envelope(second), HOP_S, min_overlap_s=4.0)
    assert found is not None
    # A moment at time t of the first recording is at t - start_s in the second.
    assert abs(found.offset_s - (-start_s)) <= 0.01
    assert found.peak >= 0.8 and found.prominence >= 12
    assert found.overlap_s == pytest.approx(min(12.0, 20.0 - start_s), abs=0.1)
    # And the other way round
    back = recording_offset(envelope(second), envelope(first), HOP_S, min_overlap_s=4.0)
    assert back is not None and abs(back.offset_s - start_s) <= 0.01


def test_another_voice_lines_up_nowhere(shared_media: Path):
    first = envelope(decode_audio(shared_media / LONG_CLIP))
    other = envelope(decode_audio(shared_media / OTHER_CLIP))
    assert recording_offset(first, other, HOP_S, min_overlap_s=4.0) is None
    # its best shift is chance: a weak peak that barely stands out
    loose = recording_offset(first, other, HOP_S, min_overlap_s=4.0, min_peak=0.0, min_prominence=0.0)
    assert loose is not None and loose.peak < 0.4 and loose.prominence < 6


def test_shifted_correlations_match_a_direct_computation():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=40), rng.normal(size=55)
    shifts, r = shifted_correlations(a, b, min_overlap=10)
    assert shifts[0] == -30 and shifts[-1] == 45
    for shift, value in zip(shifts, r, strict=True):
        lo, hi = max(0, -shift), min(len(a), len(b) - shift)
        assert value == pytest.approx(np.corrcoef(a[lo:hi], b[lo + shift : hi + shift])[0, 1], abs=1e-9)


def test_too_little_to_compare_gives_nothing():
    assert recording_offset(np.zeros(2), np.zeros(2), HOP_S, 4.0) is None
    flat = np.zeros(500)
    assert recording_offset(flat, flat, HOP_S, 4.0) is None
