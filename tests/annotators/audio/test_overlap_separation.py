"""Overlap runs split between the channels: each separated source goes to the voice it sounds
like (two real people's voices from the talking heads), and nothing changes when no voice can be
described."""

from pathlib import Path

import numpy as np
import pytest

from annotators.audio.overlap_separation import CONTEXT_S, overlap_runs, separate_overlaps
from annotators.audio.voice_channels import FrameVoices, split_channels
from annotators.models.voice_embedder import VoiceEmbedder
from curation.media.audio_decoder import decode_audio

RATE, FPS = 16_000, 25.0
HOP = int(RATE / FPS)


def test_runs_are_first_and_end_frames() -> None:
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 1], bool)
    assert overlap_runs(mask) == [(1, 3), (5, 6), (7, 8)]
    assert overlap_runs(np.zeros(4, bool)) == []


@pytest.fixture(scope="module")
def two_voices(shared_media: Path) -> tuple[np.ndarray, np.ndarray]:
    """5 s: the performer (an older man) speaks for frames 0-74, the partner (a woman) for 50-124."""
    own = decode_audio(shared_media / "infinitetalk_ref_video.mp4", t_start=0.3, duration=5.0)[: 125 * HOP]
    partner = np.zeros(125 * HOP, np.float32)
    partner[50 * HOP :] = decode_audio(shared_media / "talkvid_talk_emotion_gt.mp4", t_start=0.3, duration=3.0)[
        : 75 * HOP]
    own = own.copy()
    own[75 * HOP :] = 0
    return own.astype(np.float32), partner.astype(np.float32)


def test_each_separated_source_goes_to_the_channel_of_the_voice_it_sounds_like(two_voices) -> None:
    own_track, partner_track = two_voices
    mix = np.round((own_track + partner_track) * 16000).astype(np.int16)
    frames = np.arange(125)
    voices = FrameVoices(own=frames < 75, partner=frames >= 50, source="states")
    channels = split_channels(mix, FPS, RATE, voices)
    context = int(CONTEXT_S * FPS)
    a, b = (50 - context) * HOP, (75 + context) * HOP
    spans = []

    def oracle(span: np.ndarray) -> np.ndarray:
        """A perfect separator that returns the partner first: the order must not matter."""
        spans.append(len(span))
        return np.stack([partner_track[a:b], own_track[a:b]]) * 16000 / 32768

    split, runs = separate_overlaps(mix, FPS, RATE, channels, oracle, VoiceEmbedder().embed, "speech_separator")
    assert runs == 1 and spans == [b - a] and split.separation == "speech_separator"
    inside = slice(52 * HOP, 73 * HOP)
    expected_own = np.round(own_track[inside] * 16000)
    expected_partner = np.round(partner_track[inside] * 16000)
    assert np.abs(split.own[inside] - expected_own).max() <= 1
    assert np.abs(split.partner[inside] - expected_partner).max() <= 1
    # outside the overlap the masks' cut is kept
    assert np.array_equal(split.own[: 45 * HOP], channels.own[: 45 * HOP])
    assert np.array_equal(split.partner[80 * HOP :], channels.partner[80 * HOP :])


def test_an_overlap_with_no_voice_heard_alone_stays_in_both_channels(two_voices) -> None:
    own_track, partner_track = two_voices
    mix = np.round((own_track + partner_track) * 16000).astype(np.int16)
    everywhere = np.ones(125, bool)
    channels = split_channels(mix, FPS, RATE, FrameVoices(everywhere, everywhere, "states"))

    def never(_span: np.ndarray) -> np.ndarray:
        raise AssertionError("nothing to assign the sources by: the network need not run")

    unchanged, runs = separate_overlaps(mix, FPS, RATE, channels, never, VoiceEmbedder().embed, "speech_separator")
    assert runs == 0 and unchanged is channels and unchanged.separation is None
