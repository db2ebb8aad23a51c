"""Held-out lip-sync scores for ``bench validity``: each fold's networks never saw its source, and a
segment is scored again on the very call the pipeline made for it."""

from pathlib import Path

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.face_voice_lip_sync import FaceVoiceLipSync
from annotators.speaking.head_motion_sync import HeadMotionLipSync
from annotators.speaking.learned_lip_sync import LearnedLipSync
from annotators.speaking.lip_sync import SignalLipSync, lip_sync_model
from annotators.speaking.mean_lip_sync import MeanLipSync
from apps.bench.face_voice_training import face_vectors, own_voice_vectors, train_map
from apps.bench.held_out_sync import fold_models, held_out_model, reads_face_voice_map, segment_scores
from apps.bench.learned_sync_folds import subset
from apps.bench.learned_sync_training import TrainSettings, load_features, train
from curation.runtime.video_work import VideoWork
from schemas.tables import SegmentRow
from tests.apps.bench.tiny_sync_features import weights_digest, write_tiny_features

FPS = 25.0


def _speech(frames: int, seed: int) -> tuple[MouthTrack, np.ndarray]:
    """A mouth whose opening drives the loudness of noise (the audio follows the lips)."""
    rng = np.random.default_rng(seed)
    mouth = np.clip(np.convolve(rng.standard_normal(frames), np.ones(4) / 4, "same"), 0, None).astype(np.float32)
    audio = (rng.standard_normal(frames * 640) * np.repeat(mouth, 640) * 0.1).astype(np.float32)
    return MouthTrack(mouth, mouth * 0.5, mouth * 2, 0, FPS), audio


def _window(track: MouthTrack, first: int, end: int) -> MouthTrack:
    return MouthTrack(track.mouth_open[first:end], track.jaw_open[first:end], track.mouth_dark[first:end], first, FPS)


def test_each_fold_is_trained_without_its_source(tmp_path: Path) -> None:
    features = load_features(write_tiny_features(tmp_path / "features"))
    settings = TrainSettings(steps=3, batch=4, members=1)
    shipped = MeanLipSync(LearnedLipSync(), SignalLipSync())
    models = fold_models(shipped, features, settings, ["source1", "source0"])
    assert sorted(models) == ["source0", "source1"]
    for held, model in models.items():
        assert isinstance(model, MeanLipSync) and model.signal is shipped.signal  # the estimator is not trained
        without = weights_digest(train(subset(features, lambda s, held=held: s != held), settings), tmp_path / "w.npz")
        assert weights_digest(model.learned._model[0], tmp_path / "f.npz") == without
    assert weights_digest(train(features, settings), tmp_path / "all.npz") != without
    learned = held_out_model(LearnedLipSync(), "members")
    assert isinstance(learned, LearnedLipSync) and learned._model == ["members"]


def test_a_speaking_segment_is_scored_again_on_the_call_made_for_it() -> None:
    track, audio = _speech(300, 1)
    calls = [(_window(track, start, end), audio, 0.0) for start, end in ((0, 100), (150, 250), (150, 250))]
    work = VideoWork(uri="clip.mp4", video_id="v", run_uri="/tmp/run")
    work.segments = [
        SegmentRow(state="speaking", t_start=6.0, t_end=10.0),  # frames 150-250: the second call (asked twice)
        SegmentRow(state="idle", t_start=4.0, t_end=6.0),  # not scored
        SegmentRow(state="speaking", t_start=0.0, t_end=4.2),  # frames 0-105: mostly the first call
        SegmentRow(state="speaking", t_start=11.0, t_end=12.0),  # no call covers it
    ]
    model = SignalLipSync()
    scores = segment_scores(work, calls, model, FPS)
    assert sorted(scores) == [0, 2]
    assert scores[0] == model.sync_score(calls[1][0], audio) and scores[2] == model.sync_score(calls[0][0], audio)
    assert scores[0] != scores[2]
    assert segment_scores(work, [], model, FPS) == {}


def test_a_face_voice_verdict_gets_each_folds_networks_and_a_map_fitted_without_its_people(tmp_path: Path) -> None:
    folder = write_tiny_features(tmp_path / "features", clips=5)
    features = load_features(folder)
    face_of = face_vectors(folder, features)
    settings = TrainSettings(steps=3, batch=4, members=1)
    shipped = lip_sync_model("learned_av_face_voice")
    models = fold_models(shipped, features, settings, ["source0", "source1"], face_of)
    voices = own_voice_vectors(features)
    for held, model in models.items():
        assert isinstance(model, FaceVoiceLipSync) and model.voices is shipped.voices
        assert model.sync.signal is shipped.sync.signal and model.sync.learned is not shipped.sync.learned
        without = train_map(features, face_of, voices, [f"source{k}" for k in range(5) if f"source{k}" != held])
        np.testing.assert_array_equal(model.mapping.face_axis, without.face_axis)
        assert not np.array_equal(model.mapping.face_axis, shipped.mapping.face_axis)


def test_the_head_motion_verdict_holds_out_what_it_adds_to(tmp_path: Path) -> None:
    """``learned_av_face_voice_head`` fits nothing on clips itself: each fold's model is the shipped one with
    the fold's networks and map inside, the head term and the thresholds as shipped."""
    folder = write_tiny_features(tmp_path / "features", clips=5)
    features = load_features(folder)
    shipped = lip_sync_model("learned_av_face_voice_head")
    assert reads_face_voice_map(shipped) and not reads_face_voice_map(lip_sync_model("learned_av_sync"))
    models = fold_models(shipped, features, TrainSettings(steps=3, batch=4, members=1), ["source0"],
                         face_vectors(folder, features))
    model = models["source0"]
    assert isinstance(model, HeadMotionLipSync) and isinstance(model.sync, FaceVoiceLipSync)
    assert (model.weight, model.threshold, model.accept_threshold) == (
        shipped.weight, shipped.threshold, shipped.accept_threshold)
    assert model.sync.sync.learned is not shipped.sync.sync.learned
    assert not np.array_equal(model.sync.mapping.face_axis, shipped.sync.mapping.face_axis)
