"""Run the analysis stages in-process on one file, as the local executor would."""

import tempfile
from pathlib import Path

from curation.ingest.content_id import identify_input
from curation.runtime.stage import Stage
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from stages.audio_analysis import AudioAnalysisStage
from stages.performer_filter import PerformerFilterStage
from stages.probe import ProbeStage
from stages.visual_analysis import VisualAnalysisStage


def analyse(
    path: Path, visual: VisualAnalysisStage | None = None, filter_stage: PerformerFilterStage | None = None
) -> VideoWork:
    """The record after analysis; its artefacts (crops, audio) go to a new temporary run store."""
    identity = identify_input(str(path))
    work = VideoWork(uri=str(path), video_id=identity.video_id, run_uri=tempfile.mkdtemp(prefix="lpm-analyse-"))
    stages: list[Stage] = [
        ProbeStage(),
        visual or VisualAnalysisStage(),
        AudioAnalysisStage(),
        filter_stage or PerformerFilterStage(),
    ]
    for stage in stages:
        stage.setup()
        work = run_stage(stage, work)
    if work.state == "pending":
        work.state = "kept"
    return work
