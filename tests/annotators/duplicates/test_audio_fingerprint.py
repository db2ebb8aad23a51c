"""Same recording or another one, on the talking heads' real audio: a re-encode shifted in time
(half a hop included) against another person's voice."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from annotators.duplicates.audio_fingerprint import (
    SAME_AUDIO,
    audio_similarity,
    loudness_envelope,
    same_audio,
)
from curation.media.audio_decoder import decode_audio

RATE = 16000
CLIPS = ("talkvid_tys_gt.mp4", "latentsync_demo3_video.mp4", "talkvid_talk_emotion_gt.mp4")


@pytest.fixture(scope="module")
def voices(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each clip's audio and its AAC re-encode (64 kb/s, 44.1 kHz, 3 dB quieter), by real ffmpeg."""
    out = tmp_path_factory.mktemp("reencoded")
    found = {}
    for name in CLIPS:
        copy = out / f"{name}.m4a"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(shared_media / name), "-vn",
                        "-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-af", "volume=0.7", str(copy)], check=True)
        found[name] = (decode_audio(shared_media / name), decode_audio(copy))
    return found


@pytest.mark.parametrize("shift_s", [0.0, 0.005, 0.137, 0.3])
def test_a_re_encode_is_the_same_audio_at_any_shift(voices, shift_s: float):
    for original, copy in voices.values():
        a = loudness_envelope(original, RATE, 0.0, 3.5)
        b = loudness_envelope(copy, RATE, shift_s, 3.5)
        assert audio_similarity(a, b) >= 0.75
        assert same_audio(a, b)


def test_another_voice_is_other_audio(voices):
    for name, (original, _) in voices.items():
        for other, (voice, _) in voices.items():
            if other == name:
                continue
            a = loudness_envelope(original, RATE, 0.0, 3.5)
            b = loudness_envelope(np.tile(voice, 3), RATE, 0.5, 4.0)
            assert audio_similarity(a, b) < SAME_AUDIO - 0.1
            assert same_audio(a, b) is False


def test_silence_gives_no_evidence():
    quiet = np.random.default_rng(0).normal(0, 1e-3, RATE * 3).astype(np.float32)
    envelope = loudness_envelope(quiet, RATE, 0.0, 3.0)
    assert len(envelope) == 298
    assert same_audio(envelope, envelope) is None
