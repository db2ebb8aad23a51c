"""The samples stage splits overlaps with the separation model when it is fetched (a randomly
initialised Conv-TasNet here) and records it; without it the overlaps stay in both channels."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torchaudio

from annotators.audio.voice_channels import FrameVoices
from curation.models.model_catalog import MODEL_CATALOG
from stages.sample_writer import SampleWriterStage

RATE, FPS = 16_000, 25.0


def _segment(shared_media: Path) -> tuple[np.ndarray, FrameVoices]:
    from curation.media.audio_decoder import decode_audio

    own = decode_audio(shared_media / "infinitetalk_ref_video.mp4", t_start=0.3, duration=3.0)
    partner = decode_audio(shared_media / "talkvid_talk_emotion_gt.mp4", t_start=0.3, duration=3.0)
    n = min(len(own), len(partner), 75 * 640)
    mix = np.round((own[:n] + partner[:n]) * 12000).astype(np.int16)
    frames = np.arange(75)
    return mix, FrameVoices(own=frames < 45, partner=frames >= 30, source="states")


def test_with_the_model_the_overlap_is_separated_and_recorded(
    shared_media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    torch.save(torchaudio.models.conv_tasnet_base(num_sources=2).state_dict(),
               tmp_path / MODEL_CATALOG["speech_separator"].path)
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))
    stage = SampleWriterStage(device="cpu")
    assert [c.model for c in stage.model_choices()] == ["speech_separator", "voice_encoder"]
    stage.setup()
    mix, voices = _segment(shared_media)
    channels, runs = stage._channels(mix, voices)
    assert runs == 1 and channels.separation == "speech_separator"
    inside = slice(32 * 640, 43 * 640)
    # the random network's sources replace the mix in the overlap (both channels no longer hold it)
    assert not np.array_equal(channels.own[inside], mix[inside])
    assert not np.array_equal(channels.partner[inside], mix[inside])
    assert np.array_equal(channels.own[: 25 * 640], mix[: 25 * 640])  # the performer alone: untouched


def test_without_the_model_overlaps_stay_in_both_channels_with_a_fallback_warning(
    shared_media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))
    stage = SampleWriterStage()
    (choice,) = stage.model_choices()
    assert choice.model is None and "models fetch speech_separator" in (choice.warning() or "")
    stage.setup()
    mix, voices = _segment(shared_media)
    channels, runs = stage._channels(mix, voices)
    assert runs == 0 and channels.separation is None
    inside = slice(32 * 640, 43 * 640)
    assert np.array_equal(channels.own[inside], mix[inside]) and np.array_equal(channels.partner[inside], mix[inside])
    assert SampleWriterStage(separation="off").model_choices() == []
