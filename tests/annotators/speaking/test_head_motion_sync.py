"""``learned_av_face_voice_head``: the verdict's score plus whether the head moves with the voice."""

from pathlib import Path

import numpy as np
import pytest

from annotators.face.face_signals import HEAD_POSE
from annotators.face.mouth_track import MouthTrack
from annotators.speaking.face_voice_lip_sync import FaceVoiceLipSync
from annotators.speaking.head_motion_sync import (
    MODEL,
    THRESHOLD,
    WEIGHT,
    HeadMotionLipSync,
    head_motion_score,
    loudness_per_frame,
)
from annotators.speaking.lip_sync import AUTO_WITHOUT_SYNCNET, lip_sync_choice, lip_sync_maps, lip_sync_model
from apps.bench.lip_sync_recorder import install_recorder, latest_calls
from apps.bench.speaking_bench import analyse, bench_stages
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

FPS = 25.0
HOP = int(ANALYSIS_SAMPLE_RATE / FPS)  # 640 samples a frame
SPEAKER = "fantasy_end1.0.mp4"


def speech_like_loudness(n: int, seed: int) -> np.ndarray:
    """Seeded syllable bursts (3-8 frames) and pauses, as a per-frame amplitude."""
    rng = np.random.default_rng(seed)
    level = np.full(n, 0.01)
    t = 0
    while t < n:
        t += int(rng.integers(2, 12))  # a pause
        length = int(rng.integers(3, 9))
        level[t : t + length] = rng.uniform(0.2, 1.0)
        t += length
    return level


def audio_of(level: np.ndarray, seed: int) -> np.ndarray:
    """Noise at each frame's amplitude (16 kHz), as the whole video's audio."""
    noise = np.random.default_rng(seed).standard_normal(len(level) * HOP)
    return (noise * np.repeat(level, HOP)).astype(np.float32)


def head_following(level: np.ndarray, lag: int, seed: int) -> np.ndarray:
    """Yaw, pitch and roll whose speed is the loudness ``lag`` frames earlier (a nod on each burst),
    plus a little tracking noise."""
    speed = np.roll(level, lag)
    rng = np.random.default_rng(seed)
    steps = speed[:, None] * rng.choice([-1.0, 1.0], size=(len(level), 3)) + rng.normal(0, 0.05, (len(level), 3))
    return np.cumsum(steps, axis=0)


def test_loudness_per_frame_is_each_frames_log_power_and_nan_beyond_the_audio():
    level = np.array([0.5, 1.0, 2.0])
    audio = np.repeat(level, HOP).astype(np.float32)
    got = loudness_per_frame(audio, first_frame=1, n=3, fps=FPS)
    np.testing.assert_allclose(got[:2], np.log(level[1:] ** 2 + 1e-8), rtol=1e-6)
    assert np.isnan(got[2])


def test_a_head_that_moves_with_its_voice_stands_out_and_under_another_voice_it_does_not():
    """Ten seconds of bursts: a head whose speed follows the loudness at lag 0 or a few frames behind
    scores far above the far lags; the same head under another seeded voice, or following its voice
    a second late, does not."""
    n = 250
    own = speech_like_loudness(n, seed=1)
    for lag in (0, 3):
        head = head_following(own, lag, seed=2)
        assert head_motion_score(head, audio_of(own, 3), 0, FPS) > 4.0, lag
        assert head_motion_score(head, audio_of(speech_like_loudness(n, seed=9), 3), 0, FPS) < 2.0, lag
    late = head_following(own, 25, seed=2)
    assert head_motion_score(late, audio_of(own, 3), 0, FPS) < 2.0


def test_too_few_frames_with_a_face_give_no_score():
    level = speech_like_loudness(250, seed=1)
    head = head_following(level, 0, seed=2)
    head[15:] = np.nan  # the face is gone after 15 frames
    assert np.isnan(head_motion_score(head, audio_of(level, 3), 0, FPS))
    assert np.isnan(head_motion_score(head[:30], audio_of(level, 3), 0, FPS))


def test_selectable_by_name_the_default_without_syncnet_and_recorded_with_its_map():
    model = lip_sync_model(MODEL)
    assert isinstance(model, HeadMotionLipSync) and isinstance(model.sync, FaceVoiceLipSync)
    assert model.threshold == THRESHOLD < model.accept_threshold
    assert lip_sync_model(MODEL, threshold=3.0).accept_threshold == 3.0
    assert AUTO_WITHOUT_SYNCNET == MODEL
    assert lip_sync_choice("states", MODEL).record() == lip_sync_choice("states", "learned_av_face_voice").record()
    assert [c.record().model for c in lip_sync_maps("states", MODEL)] == [
        "face_voice_map", "dlib_face_resnet", "voice_encoder"]


@pytest.fixture(scope="module")
def speaker_calls(shared_media: Path, tmp_path_factory: pytest.TempPathFactory):
    """The default verdict's calls while the pipeline's stages up to states ran on a shared talking head."""
    stages = bench_stages()
    recorder = install_recorder(stages)
    work = analyse(shared_media / SPEAKER, stages, tmp_path_factory.mktemp("head-motion"))
    return work, latest_calls(recorder.take())


def test_the_states_stage_hands_the_track_head_pose_with_its_context(speaker_calls):
    work, calls = speaker_calls
    (track,) = [t for t in work.tracks if t.usable]
    pose = work.track_features[track.track_id].signals[:, HEAD_POSE].astype(np.float32)
    assert calls
    for mouth, _, _ in calls.values():
        for part in (mouth, mouth.context):
            assert part is not None and part.head_pose is not None
            frames = slice(part.first_frame, part.first_frame + len(part.mouth_open))
            np.testing.assert_array_equal(part.head_pose, pose[frames])


def test_the_score_is_the_face_voice_score_plus_the_weighted_head_term(speaker_calls):
    """Her own voice: the score the verdict read is ``learned_av_face_voice``'s plus ``WEIGHT`` x the head
    term, which is positive here (her head moves with her voice); without a head pose the reject cut is
    ``learned_av_face_voice``'s own."""
    work, calls = speaker_calls
    model = lip_sync_model(MODEL)
    speaking = [s for s in work.segments if s.state == "speaking"]
    assert speaking and all(s.lip_sync_model == MODEL and s.sync_verdict != "out_of_sync" for s in speaking)
    for mouth, audio, score in calls.values():
        head = model.head_score(mouth, audio)
        assert np.isfinite(head) and head > 0
        assert score == pytest.approx(model.sync.sync_score(mouth, audio) + WEIGHT * head)
        blind = MouthTrack(mouth.mouth_open, mouth.jaw_open, mouth.mouth_dark, mouth.first_frame, mouth.fps,
                           context=MouthTrack(mouth.context.mouth_open, mouth.context.jaw_open,
                                              mouth.context.mouth_dark, mouth.context.first_frame, mouth.fps),
                           face_vector=mouth.face_vector)
        inner = model.sync.sync_score(blind, audio)
        assert model.sync_score(blind, audio) == pytest.approx(inner + THRESHOLD - model.sync.threshold)
