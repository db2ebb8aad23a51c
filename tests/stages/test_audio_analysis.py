"""AudioAnalysisStage: the audio decoded once and stored, with loudness and clipping per shot, the
same from the in-process decoder as from an ffmpeg process."""

from pathlib import Path

import numpy as np
import pytest

from curation.config.param_validation import WorkflowError
from curation.config.workflow import load_workflow
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from curation.store.artefacts import read_array
from schemas.tables import ShotRow
from stages.audio_analysis import AudioAnalysisStage
from stages.probe import ProbeStage
from stages.workflow_stages import WORKFLOW_STAGES

TALKING = "fantasy_end0.1.mp4"  # 3.5 s of AAC stereo 44.1 kHz
SILENT = "liveportrait_d0.mp4"  # no audio


def _analyse(path: Path, store: Path, decoder: str) -> VideoWork:
    work = VideoWork(uri=str(path), video_id=f"{decoder:0<16}", run_uri=str(store))
    work = run_stage(ProbeStage(), work)
    work.shots = [ShotRow(t_start=0.0, t_end=1.5), ShotRow(t_start=1.5, t_end=3.5)]
    return run_stage(AudioAnalysisStage(decoder=decoder), work)


def test_both_decoders_store_the_same_audio_and_levels(shared_media: Path, tmp_path: Path) -> None:
    piped, inprocess = (_analyse(shared_media / TALKING, tmp_path, d) for d in ("ffmpeg", "inprocess"))
    # 148 AAC frames of 1024 samples at 44.1 kHz (3.437 s, shorter than the video) at 16 kHz
    assert inprocess.audio.n_samples == piped.audio.n_samples == round(148 * 1024 * 16_000 / 44_100)
    stored = [read_array(str(tmp_path), w.audio.pcm_path).astype(np.int32) for w in (piped, inprocess)]
    assert np.abs(stored[0] - stored[1]).max() <= 1  # FFmpeg 8's AAC decoder rounds a few apart
    for a, b in zip(piped.shots, inprocess.shots, strict=True):
        assert b.audio_loudness_db == pytest.approx(a.audio_loudness_db, abs=1e-3)
        assert b.audio_clipping_frac == a.audio_clipping_frac


def test_a_video_without_audio_stores_none(shared_media: Path, tmp_path: Path) -> None:
    work = _analyse(shared_media / SILENT, tmp_path, "inprocess")
    assert (work.audio.n_samples, work.audio.pcm_path) == (0, "")


def test_the_decoder_is_a_checked_workflow_setting() -> None:
    stages = load_workflow("analysis", WORKFLOW_STAGES, ["audio_analysis.decoder=ffmpeg"]).stages
    assert [s.decoder for s in stages if s.name == "audio_analysis"] == ["ffmpeg"]
    with pytest.raises(WorkflowError, match=r"decoder: 'sox' is not one of 'inprocess', 'ffmpeg'"):
        load_workflow("analysis", WORKFLOW_STAGES, ["audio_analysis.decoder=sox"])
