"""``benchmarks.phone_sync``: phones against the mouth, on constructed phones and a tiny feature cache
(the recogniser itself, pocketsphinx, is not installed by the project: a reader stands in for it)."""

from pathlib import Path

import numpy as np

from apps.bench.learned_sync_training import load_features
from benchmarks.phone_sync import frame_classes, phone_score, run
from tests.apps.bench.test_learned_sync_training import write_tiny_features

FPS = 25.0


def test_a_phone_marks_the_frames_that_start_inside_it_and_a_short_one_its_middle_frame():
    # AA over 0-200 ms: frames 0-4 (frame 5 starts at its end); B over 410-440 ms: no frame starts
    # inside it, frame 11 (440 ms) is nearest its middle; S is neither class.
    classes = frame_classes([("AA", 0, 19), ("S", 20, 40), ("B", 41, 43)], 20, FPS, lag_s=0.0)
    assert classes.tolist() == [1] * 5 + [0] * 6 + [-1] + [0] * 8
    # moved 80 ms earlier, the vowel covers frames 0-2 only
    assert frame_classes([("AA", 0, 19)], 20, FPS, lag_s=0.08)[:4].tolist() == [1, 1, 1, 0]


def test_the_score_is_high_when_vowels_meet_an_open_mouth_and_undefined_without_enough_of_either():
    rng = np.random.default_rng(0)
    classes = np.array([1, 0, -1, 0] * 10, dtype=np.int8)
    mouth = np.where(classes == 1, 0.05, np.where(classes == -1, 0.0, 0.02)) + rng.normal(0, 0.003, 40)
    assert phone_score(mouth, classes) > 10
    assert phone_score(mouth, -classes) < -10  # a voice whose bilabials fall on the open mouth
    mouth[classes == -1] = np.nan  # the face absent on every bilabial frame: nothing to compare
    assert np.isnan(phone_score(mouth, classes))


def test_run_scores_own_audio_above_foreign_voices(tmp_path: Path):
    """The tiny cache's audio is loud where its mouth opens: a reader that calls loud 10-ms frames
    open vowels and quiet ones bilabials gives each face's own voice the high scores."""

    def loudness_phones(audio: np.ndarray) -> list[tuple[str, int, int]]:
        frames = np.abs(audio[: len(audio) // 160 * 160]).reshape(-1, 160).mean(axis=1)
        loud = frames > np.median(frames)
        return [("AA" if on else "M", i, i) for i, on in enumerate(loud)]

    features = load_features(write_tiny_features(tmp_path / "features", clips=4, frames=120))
    report = run(features, loudness_phones, voices=2)
    at_zero = report["lags"]["0.00"]
    assert at_zero["genuine_scored"] == 4 and at_zero["dubbed_scored"] == 8
    assert at_zero["phone_auc"] == 1.0
    assert 0.0 <= at_zero["with_phones_genuine_frames_kept"] <= 1.0 and 0.0 <= report["av_sync_auc"] <= 1.0
