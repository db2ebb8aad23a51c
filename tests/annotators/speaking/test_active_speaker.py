from pathlib import Path

import numpy as np
import pytest

from annotators.models.voice_activity import VoiceActivityDetector
from annotators.speaking.active_speaker import (
    ActiveSpeakerModel,
    MouthMotionSpeaker,
    active_speaker_model,
    band_rms,
)
from tests.annotators.mouth_signals import ClipSignals, cached_clip_signals, talking_head_clips

FPS = 25.0
N = 150  # 6 s
T = np.arange(N) / FPS
NO_AUDIO = np.zeros(0, dtype=np.float32)
rng = np.random.default_rng(0)
JITTER = 0.0005 * rng.standard_normal(N)  # MediaPipe's inner-lip jitter on a still face, face heights

# A face frozen on one frame under the clip's own speech: the frame with the widest-open mouth in
# the first 2 s (latentsync: frame 0, its small face is only found there without tracking history).
STILL_FRAMES = {
    "fantasy_end0.1.mp4": 39,
    "fantasy_end0.4.mp4": 24,
    "fantasy_end0.7.mp4": 24,
    "fantasy_end1.0.mp4": 12,
    "talkvid_talk_emotion_gt.mp4": 45,
    "talkvid_tys_gt.mp4": 49,
    "infinitetalk_ref_video.mp4": 45,
    "latentsync_demo3_video.mp4": 0,
}


def speaking(mouth: np.ndarray, vad: np.ndarray | float = 1.0, present: np.ndarray | None = None) -> np.ndarray:
    model = active_speaker_model("mouth_vad")
    present = np.isfinite(mouth) if present is None else present
    vad = np.broadcast_to(np.asarray(vad, dtype=np.float32), mouth.shape)
    return model.speaking_probability(mouth, np.zeros_like(mouth), present, vad, NO_AUDIO, FPS)


def test_a_moving_mouth_under_voice_is_speaking():
    syllables = 0.03 + 0.01 * np.sin(2 * np.pi * 4.0 * T) + JITTER
    p = speaking(syllables)
    assert p.dtype == np.float32 and p.shape == (N,)
    assert np.mean(p >= 0.5) == 1.0


def test_a_still_mouth_under_voice_is_not_speaking():
    assert speaking(0.06 + JITTER).max() < 0.2


def test_a_slow_smile_is_not_speaking():
    smile = 0.01 + 0.08 * np.clip((T - 2.0) / 1.0, 0, 1) + JITTER  # opens 8% of face height over 1 s
    assert speaking(smile).max() < 0.5


def test_speaking_starts_when_the_mouth_moves_not_before():
    """A listener whose own turn follows the other voice: a voice is heard throughout, their mouth
    rests until their first syllable opens it wide. Centred filters alone called them speaking
    0.4-0.6 s early (lips at rest under the other person's voice)."""
    start = 75
    mouth = 0.01 + JITTER.copy()
    mouth[start:] += 0.06 * np.abs(np.sin(2 * np.pi * 3.0 * (T[start:] - T[start])))
    for window_s in (1.0, 0.45):  # the model's default, and the states stage's setting
        model = MouthMotionSpeaker(window_s=window_s)
        p = model.speaking_probability(mouth, np.zeros(N), np.ones(N, bool), np.ones(N), NO_AUDIO, FPS)
        assert np.all(p[:start] < 0.5), window_s
        assert np.all(p[start + 2 :] >= 0.5), window_s


def test_motion_still_carries_past_the_last_movement():
    """A voice may outlast the last visible movement: after the mouth comes to rest the reading
    decays as the centred one does, over a few frames."""
    end = 75
    mouth = 0.01 + JITTER.copy()
    mouth[:end] += 0.03 + 0.01 * np.sin(2 * np.pi * 4.0 * T[:end])
    model = MouthMotionSpeaker(window_s=0.45)
    motion = model.mouth_motion(mouth, FPS)
    centred = band_rms(mouth, round(model.highpass_s * FPS), round(model.window_s * FPS), causal=False)
    np.testing.assert_allclose(motion[end + 1 : end + 20], centred[end + 1 : end + 20])
    p = model.speaking_probability(mouth, np.zeros(N), np.ones(N, bool), np.ones(N), NO_AUDIO, FPS)
    assert np.all(p[:end] >= 0.5) and np.all(p[end : end + 3] >= 0.5) and np.all(p[end + 15 :] < 0.5)


def test_speaking_needs_voice_and_the_face():
    syllables = 0.03 + 0.01 * np.sin(2 * np.pi * 4.0 * T) + JITTER
    vad = np.where(T < 3.0, 1.0, 0.1)
    p = speaking(syllables, vad)
    assert np.all(p <= vad + 1e-6)  # never more likely than a voice being heard
    assert np.all(p[T >= 3.0] < 0.5) and np.all(p[T < 3.0] >= 0.5)
    absent = syllables.copy()
    absent[50:100] = np.nan
    p = speaking(absent)
    np.testing.assert_array_equal(p[50:100], 0.0)
    assert np.all(p[:45] >= 0.5) and np.all(p[105:] >= 0.5)


def test_short_landmark_misses_are_bridged():
    syllables = 0.03 + 0.01 * np.sin(2 * np.pi * 4.0 * T) + JITTER
    syllables[60:63] = np.nan
    motion = MouthMotionSpeaker().mouth_motion(syllables, FPS)
    assert np.isfinite(motion).all()


def test_models_are_picked_by_name():
    model = active_speaker_model()
    assert isinstance(model, MouthMotionSpeaker) and isinstance(model, ActiveSpeakerModel)
    with pytest.raises(ValueError, match="mouth_vad"):
        active_speaker_model("talknet")


@pytest.fixture(scope="module")
def cache_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("lpm-mouth-signals"))


def speaking_during_voice(signals: ClipSignals) -> tuple[int, int]:
    """(frames labelled speaking, frames with voice activity) of one face under its audio."""
    vad = VoiceActivityDetector().frame_probabilities(signals.audio, signals.fps, signals.n_frames)
    p = active_speaker_model().speaking_probability(
        signals.mouth_open, signals.jaw_open, signals.present, vad, signals.audio, signals.fps
    )
    voiced = vad >= 0.5
    return int(np.sum((p >= 0.5) & voiced)), int(voiced.sum())


@pytest.mark.slow
def test_talking_heads_are_speaking_while_a_voice_is_heard(shared_media: Path, cache_dir: Path):
    counts = [speaking_during_voice(cached_clip_signals(shared_media / name, cache_dir))
              for name in talking_head_clips(shared_media)]
    speaking_frames, voiced_frames = np.sum(counts, axis=0)
    assert voiced_frames > 1000
    assert speaking_frames / voiced_frames >= 0.95
    assert min(s / v for s, v in counts) >= 0.9  # no clip is carried by the others


@pytest.mark.slow
def test_a_still_face_under_speech_is_not_speaking(shared_media: Path, cache_dir: Path):
    counts = []
    for name in talking_head_clips(shared_media):
        still = cached_clip_signals(shared_media / name, cache_dir, freeze_frame=STILL_FRAMES[name])
        assert still.present.mean() > 0.9, name
        counts.append(speaking_during_voice(still))
    speaking_frames, voiced_frames = np.sum(counts, axis=0)
    assert voiced_frames > 1000
    assert speaking_frames / voiced_frames <= 0.05
