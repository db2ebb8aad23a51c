"""Voice grouping without a model, on the real voices of the shared talking heads."""

from pathlib import Path

import numpy as np
import pytest

from annotators.audio.voice_profile import (
    MIN_FRAMES,
    N_COEFFICIENTS,
    cluster_voices,
    mel_filterbank,
    mfcc_frames,
    voice_distances,
)
from apps.bench.talking_head_sources import TalkingHeadClip, load_talking_heads
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio

SR = ANALYSIS_SAMPLE_RATE


@pytest.fixture(scope="module")
def clips(shared_media: Path) -> dict[str, TalkingHeadClip]:
    return {c.name: c for c in load_talking_heads(shared_media)}


def speech_spans(clip: TalkingHeadClip, seconds: float, count: int) -> list[np.ndarray]:
    """``count`` consecutive ``seconds`` pieces of the clip's longest speech span."""
    audio = decode_audio(clip.path)
    start, end = max(clip.speech, key=lambda s: s[1] - s[0])
    assert end - start >= seconds * count, clip.name
    return [audio[int((start + k * seconds) * SR) : int((start + (k + 1) * seconds) * SR)] for k in range(count)]


def test_filterbank_triangles_cover_the_band_once():
    bank = mel_filterbank()
    assert bank.shape == (40, 257)
    assert np.all(bank.max(axis=1) > 0.5)  # every filter has a peak
    covered = bank.sum(axis=0)[(np.fft.rfftfreq(512, 1 / SR) > 200) & (np.fft.rfftfreq(512, 1 / SR) < 7000)]
    assert np.allclose(covered, 1.0, atol=0.05)  # neighbouring triangles sum to one inside the band


def test_pauses_and_short_spans_are_not_described():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(SR).astype(np.float32)
    assert mfcc_frames(noise).shape[1] == N_COEFFICIENTS
    assert len(mfcc_frames(noise)) < 100  # the quietest 30 % of the 98 frames are dropped as pauses
    assert mfcc_frames(noise[:300]).shape == (0, N_COEFFICIENTS)
    short = noise[: (MIN_FRAMES // 2) * 160]
    assert cluster_voices([noise, short, noise[::-1].copy()]) == [0, None, 0]


def test_two_speakers_are_told_apart(clips: dict[str, TalkingHeadClip]):
    """Two 1.5-s pieces of one woman and two of one man, interleaved as a conversation would be.

    Pieces this short drift apart: each piece is nearer its own speaker's other piece than any
    piece of the other speaker, but above the cut, so only the cap at two voices (the states stage
    caps at the number of faces) groups them exactly.
    """
    her = speech_spans(clips["talkvid_talk_emotion_gt.mp4"], 1.5, 2)
    him = speech_spans(clips["latentsync_demo3_video.mp4"], 1.5, 2)
    pieces = [her[0], him[0], her[1], him[1]]
    distances = voice_distances(pieces)
    assert max(distances[0, 2], distances[1, 3]) < min(
        distances[0, 1], distances[0, 3], distances[1, 2], distances[2, 3]
    )
    labels = cluster_voices(pieces, max_voices=2)
    assert labels[0] == labels[2] and labels[1] == labels[3] and labels[0] != labels[1]
    assert len(set(cluster_voices(pieces))) >= 2  # never merged across speakers
    # Loudness is not voice: c0 is left out, so a quieter copy of a piece is the same voice.
    assert cluster_voices([her[0], 0.3 * her[0], him[0]]) == [0, 0, 1]
