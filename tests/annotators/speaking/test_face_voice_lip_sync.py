"""``learned_av_face_voice``: the lip-sync score plus whether the voice could be the face's, on real clips."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from annotators.face.mouth_track import MouthTrack
from annotators.models.dlib_face_embedder import DLIB_KIND
from annotators.speaking.face_voice_lip_sync import THRESHOLD, WEIGHT, FaceVoiceLipSync
from annotators.speaking.learned_lip_sync import MODEL as LEARNED
from annotators.speaking.lip_sync import AUTO_WITHOUT_SYNCNET, lip_sync_choice, lip_sync_maps, lip_sync_model
from annotators.speaking.mean_lip_sync import THRESHOLD as SYNC_THRESHOLD
from apps.bench.speaking_bench import analyse, bench_stages
from tests.annotators.speaking.test_lip_sync import two_second_segments

WOMAN, MAN = "fantasy_end1.0.mp4", "infinitetalk_ref_video.mp4"


@pytest.fixture(scope="module")
def woman_work(shared_media: Path, tmp_path_factory: pytest.TempPathFactory):
    """The pipeline's stages up to states, with the default verdict, on a shared talking head."""
    return analyse(shared_media / WOMAN, bench_stages(), tmp_path_factory.mktemp("face-voice"))


def woman_face(work) -> np.ndarray:
    (vector,) = [v.vector for key, v in work.identity_vectors.items() if key.split(":")[1] == DLIB_KIND]
    return np.asarray(vector, dtype=np.float32)


def test_selectable_by_name_and_recorded_with_its_map():
    model = lip_sync_model("learned_av_face_voice")
    assert isinstance(model, FaceVoiceLipSync) and model.name == "learned_av_face_voice"
    assert model.threshold == THRESHOLD < model.accept_threshold
    assert lip_sync_model("learned_av_face_voice", threshold=2.5).accept_threshold == 2.5
    assert lip_sync_choice("states", "learned_av_face_voice").record().model == LEARNED
    assert [c.record().model for c in lip_sync_maps("states", "learned_av_face_voice")] == [
        "face_voice_map", "dlib_face_resnet", "voice_encoder"]
    assert lip_sync_maps("states", "learned_av_sync") == []


def test_the_default_verdict_reads_the_segments_face_and_keeps_her_speech(woman_work):
    """The default (``learned_av_face_voice_head``) holds this model and reads the face as it does."""
    speaking = [s for s in woman_work.segments if s.state == "speaking"]
    assert speaking and all(s.lip_sync_model == AUTO_WITHOUT_SYNCNET for s in speaking)
    assert all(s.sync_verdict != "out_of_sync" for s in speaking)
    face = woman_face(woman_work)
    assert face.shape == (128,) and np.linalg.norm(face) == pytest.approx(1.0, abs=1e-4)


def test_a_voice_the_face_could_not_have_lowers_the_score(woman_work, talking_head_signals):
    """Her face under her own voice and under a man's (his recording looped under her picture): the
    lip-sync part is what ``learned_av_sync`` says; the match adds ``WEIGHT`` x the map's product,
    positive for her own voice, negative for his. These clips were in the map's training people (its
    held-out figures: docs/sync_verdict.md); this checks the parts add up as documented."""
    model = lip_sync_model("learned_av_face_voice")
    signals = talking_head_signals[WOMAN]
    his_voice = np.resize(talking_head_signals[MAN].audio, len(signals.audio))
    for _, segment in two_second_segments(signals):
        segment = replace(segment, face_vector=woman_face(woman_work))
        for audio, sign in ((signals.audio, 1), (his_voice, -1)):
            match = model.match(segment, audio)
            assert np.sign(match) == sign
            expected = model.sync.sync_score(segment, audio) + WEIGHT * match
            assert model.sync_score(segment, audio) == pytest.approx(expected)


def test_without_a_face_the_reject_cut_is_the_lip_sync_models_own(talking_head_signals):
    model = lip_sync_model("learned_av_face_voice")
    signals = talking_head_signals[WOMAN]
    segment = two_second_segments(signals)[0][1]
    assert segment.face_vector is None
    sync = model.sync.sync_score(segment, signals.audio)
    assert model.sync_score(segment, signals.audio) == pytest.approx(sync + THRESHOLD - SYNC_THRESHOLD)
    # so the segment is rejected exactly when learned_av_sync would reject it
    assert (model.sync_score(segment, signals.audio) < model.threshold) == (sync < SYNC_THRESHOLD)
    # no lip-sync score, no score
    still = MouthTrack(np.zeros(10), np.zeros(10), np.zeros(10), 0, 25.0)
    assert np.isnan(model.sync_score(still, signals.audio))
