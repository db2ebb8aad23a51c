"""Run the analysis stages in-process on one file, as the local executor would."""

import atexit
import functools
import shutil
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


@functools.cache
def _session_store() -> str:
    folder = tempfile.mkdtemp(prefix="lpm-analyse-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the session's artefacts, gone with it
    return folder


def analyse(
    path: Path, visual: VisualAnalysisStage | None = None, filter_stage: PerformerFilterStage | None = None
) -> VideoWork:
    """The record after analysis; its artefacts (crops, audio) go to one temporary run store shared
    by every analysis of the test session, as the videos of one run share theirs (references of one
    video are read from another's crop archive)."""
    identity = identify_input(str(path))
    work = VideoWork(uri=str(path), video_id=identity.video_id, run_uri=_session_store())
    stages: list[Stage] = [
        ProbeStage(),
        visual or VisualAnalysisStage(),
        filter_stage or PerformerFilterStage(),
        AudioAnalysisStage(),  # as in the workflows: only a video with a usable shot gets its audio decoded
    ]
    for stage in stages:
        stage.setup()
        work = run_stage(stage, work)
    if work.state == "pending":
        work.state = "kept"
    return work
