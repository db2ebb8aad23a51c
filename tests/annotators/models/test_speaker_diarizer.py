"""pyannote diarization through the annotator's own loading (``Pipeline.from_pretrained`` on a
local folder) and inference code, on a tiny random pipeline: turns are noise, their timing,
labels and the per-frame matrix are what is checked."""

import os
from pathlib import Path

import numpy as np
import pytest

from annotators.models.speaker_diarizer import Diarization, SpeakerDiarizer
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio
from curation.models.model_store import ModelMissingError, model_spec
from schemas.speech_rows import SpeakerTurn
from tests.annotators.tiny_models import build_tiny_diarization_pipeline

FPS = 25.0


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``diarization`` entry of a models directory, holding a tiny random pipeline."""
    models = tmp_path_factory.mktemp("models")
    return build_tiny_diarization_pipeline(models / model_spec("diarization").path)


@pytest.fixture(scope="module")
def speech(shared_media: Path) -> np.ndarray:
    return decode_audio(shared_media / "talkvid_tys_gt.mp4")


@pytest.mark.slow  # loads and runs the pipeline (10-20 s on a busy 2-core machine)
def test_turns_lie_inside_the_audio_and_fill_the_frame_matrix(pipeline_dir: Path, speech: np.ndarray):
    diarizer = SpeakerDiarizer()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LPM_MODELS_DIR", str(pipeline_dir.parent))
        diarizer.setup()  # the registry name resolves in the models directory
    diarization = diarizer.diarize(speech)
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "false"  # no usage reports leave the machine
    duration = len(speech) / ANALYSIS_SAMPLE_RATE
    assert diarization.duration_s == pytest.approx(duration)
    assert diarization.turns, "the pipeline ran but produced no turn"
    starts = [t.t_start for t in diarization.turns]
    assert starts == sorted(starts)
    for turn in diarization.turns:
        assert turn.speaker.startswith("SPEAKER_")
        assert 0.0 <= turn.t_start < turn.t_end <= duration

    n_frames = int(duration * FPS)
    activity = diarization.speaker_activity(FPS, n_frames)
    assert activity.shape == (len(diarization.speakers), n_frames)
    assert activity.min() >= 0.0 and activity.max() <= 1.0
    for row, speaker in enumerate(diarization.speakers):
        spoken = sum(t.t_end - t.t_start for t in diarization.turns if t.speaker == speaker)
        assert activity[row].sum() / FPS == pytest.approx(min(spoken, n_frames / FPS), abs=0.05)
    assert diarizer.turns(speech) == list(diarization.turns)


def test_speaker_count_is_passed_to_the_pipeline(pipeline_dir: Path, speech: np.ndarray):
    assert len(SpeakerDiarizer(pipeline=pipeline_dir, num_speakers=1).diarize(speech).speakers) == 1


def test_empty_audio_has_no_turns(pipeline_dir: Path):
    diarization = SpeakerDiarizer(pipeline=pipeline_dir).diarize(np.zeros(0, np.float32))
    assert diarization == Diarization((), 0.0)
    assert diarization.speaker_activity(FPS, 4).shape == (0, 4)


def test_a_missing_registry_pipeline_names_its_fetch_command():
    with pytest.raises(ModelMissingError, match=r"lpm-curate models fetch diarization.*HF_TOKEN"):
        SpeakerDiarizer().setup()


def test_speaker_activity_marks_each_speakers_frames():
    turns = (
        SpeakerTurn("SPEAKER_01", 0.0, 0.2),
        SpeakerTurn("SPEAKER_00", 0.1, 0.3),
        SpeakerTurn("SPEAKER_01", 0.30, 0.32),
    )
    activity = Diarization(turns, 0.4).speaker_activity(FPS, 10)
    assert Diarization(turns, 0.4).speakers == ("SPEAKER_01", "SPEAKER_00")  # first heard first
    np.testing.assert_allclose(activity[0], [1, 1, 1, 1, 1, 0, 0, 0.5, 0, 0], atol=1e-6)
    np.testing.assert_allclose(activity[1], [0, 0, 0.5, 1, 1, 1, 1, 0.5, 0, 0], atol=1e-6)
