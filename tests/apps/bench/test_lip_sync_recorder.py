"""The lip-sync recorder gives the pipeline the wrapped model's own answers and keeps each call."""

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.lip_sync import SignalLipSync
from apps.bench.lip_sync_recorder import LipSyncRecorder, latest_calls


def _speech(frames: int, seed: int) -> tuple[MouthTrack, np.ndarray]:
    """A mouth whose opening drives the loudness of noise (the audio follows the lips)."""
    rng = np.random.default_rng(seed)
    mouth = np.clip(np.convolve(rng.standard_normal(frames), np.ones(4) / 4, "same"), 0, None).astype(np.float32)
    audio = (rng.standard_normal(frames * 640) * np.repeat(mouth, 640) * 0.1).astype(np.float32)
    return MouthTrack(mouth, mouth * 0.5, mouth * 2, 0, 25.0), audio


def test_the_recorder_gives_the_pipeline_the_wrapped_score_and_keeps_each_call() -> None:
    shipped = SignalLipSync()
    recorder = LipSyncRecorder(shipped)
    track, audio = _speech(150, 0)
    score = shipped.sync_score(track, audio)
    assert recorder.sync_score(track, audio) == score
    assert (recorder.name, recorder.threshold, recorder.accept_threshold) == (
        shipped.name, shipped.threshold, shipped.accept_threshold)  # fmt: skip
    assert recorder.take() == [(track, audio, score)] and recorder.take() == []


def test_the_last_call_of_a_segment_counts() -> None:
    track, audio = _speech(150, 1)
    first, again = (track, audio, 1.0), (track, audio, 2.0)
    assert latest_calls([first, again]) == {(0, 150): again}
