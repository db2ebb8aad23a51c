from pathlib import Path

import numpy as np
import pytest

from annotators.models.voice_activity import WINDOW_SAMPLES, VoiceActivityDetector
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio

SR = ANALYSIS_SAMPLE_RATE
FPS = 25.0


@pytest.fixture(scope="module")
def detector() -> VoiceActivityDetector:
    return VoiceActivityDetector()


@pytest.fixture(scope="module")
def speech(shared_media: Path) -> np.ndarray:
    """About 4 s of one person talking without a pause (speech from 0.16 s to the end)."""
    return decode_audio(shared_media / "talkvid_tys_gt.mp4")


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.float32)


def test_speech_is_found_where_it_was_put(detector: VoiceActivityDetector, speech: np.ndarray):
    alone = detector.speech_intervals(speech)
    audio = np.concatenate([silence(2.0), speech, silence(1.5)])
    intervals = detector.speech_intervals(audio)
    assert len(alone) == 1 and len(intervals) == 1
    (start, end), ((own_start, own_end),) = intervals[0], alone
    assert start == pytest.approx(own_start + 2.0, abs=0.05)
    assert end == pytest.approx(min(own_end + 2.0, 2.0 + len(speech) / SR + 0.05), abs=0.1)
    assert 0.0 <= start < end <= len(audio) / SR

    n_frames = int(len(audio) / SR * FPS)
    active = detector.frame_activity(audio, FPS, n_frames)
    assert active.dtype == bool and active.shape == (n_frames,)
    assert not active[: int(1.9 * FPS)].any()
    assert not active[int((end + 0.1) * FPS) :].any()
    assert active[int((start + 0.1) * FPS) : int((end - 0.1) * FPS)].all()


def test_frame_probabilities_follow_the_audio_and_are_zero_past_its_end(
    detector: VoiceActivityDetector, speech: np.ndarray
):
    audio = np.concatenate([silence(1.0), speech])
    n_audio_frames = int(len(audio) / SR * FPS)
    probabilities = detector.frame_probabilities(audio, FPS, n_audio_frames + 10)
    assert probabilities.shape == (n_audio_frames + 10,)
    assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0
    assert probabilities[: int(0.9 * FPS)].max() < 0.1  # the added silence
    assert np.median(probabilities[int(1.5 * FPS) : n_audio_frames]) > 0.9  # the talking
    np.testing.assert_array_equal(probabilities[n_audio_frames + 1 :], 0.0)


def test_probabilities_match_silero_streaming_onnx_model(detector: VoiceActivityDetector, speech: np.ndarray):
    """The batched front end is an efficiency choice only: same windows, same numbers."""
    import torch
    from silero_vad import load_silero_vad

    streaming = load_silero_vad(onnx=True).audio_forward(torch.from_numpy(speech), SR).numpy().ravel()
    batched = detector.detect(speech).window_probabilities
    assert len(batched) == int(np.ceil(len(speech) / WINDOW_SAMPLES))
    np.testing.assert_allclose(batched, streaming, atol=1e-5)


def test_several_views_of_one_track_run_the_model_once(detector: VoiceActivityDetector, speech: np.ndarray):
    first = detector.detect(speech)
    assert detector.detect(speech) is first
    copy = speech.copy()
    again = detector.detect(copy)
    assert again is not first
    np.testing.assert_array_equal(again.window_probabilities, first.window_probabilities)


def test_min_silence_bridges_short_pauses(shared_media: Path):
    # This speaker pauses for about 0.6 s at 4.7 s.
    audio = decode_audio(shared_media / "infinitetalk_ref_video.mp4", duration=8.0)
    split = VoiceActivityDetector(min_silence_s=0.15).speech_intervals(audio)
    joined = VoiceActivityDetector(min_silence_s=1.0).speech_intervals(audio)
    assert len(split) == 2
    assert 4.3 < split[0][1] < 5.0 and 5.0 < split[1][0] < 5.6
    assert len(joined) == 1
    assert joined[0][0] == pytest.approx(split[0][0]) and joined[0][1] == pytest.approx(split[-1][1])


def test_min_speech_drops_short_bursts(speech: np.ndarray):
    burst = np.concatenate([silence(2.0), speech[SR : SR + int(0.8 * SR)], silence(2.0)])
    kept = VoiceActivityDetector(min_speech_s=0.1).speech_intervals(burst)
    assert len(kept) == 1 and 1.9 < kept[0][0] < 2.3
    assert VoiceActivityDetector(min_speech_s=1.0).speech_intervals(burst) == []


def test_silence_and_empty_audio_have_no_speech(detector: VoiceActivityDetector):
    quiet = silence(3.0)
    assert detector.speech_intervals(quiet) == []
    assert detector.frame_probabilities(quiet, FPS, 75).max() < 0.1
    assert not detector.frame_activity(quiet, FPS, 75).any()
    empty = np.zeros(0, dtype=np.float32)
    assert detector.speech_intervals(empty) == []
    np.testing.assert_array_equal(detector.frame_probabilities(empty, FPS, 10), np.zeros(10))


def test_rejects_bad_settings_and_stereo_audio(detector: VoiceActivityDetector):
    with pytest.raises(ValueError, match="threshold"):
        VoiceActivityDetector(threshold=1.5)
    with pytest.raises(ValueError, match="mono"):
        detector.detect(np.zeros((2, 1600), dtype=np.float32))
