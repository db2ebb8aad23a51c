"""A talking head gets the same labels whatever CPUs its stages declare and whichever run in the
process labels it: the analysis, speech and states stages twice on ``infinitetalk_ref_video.mp4``,
once on one BLAS/OpenMP thread and once on two (as ``run_stage`` limits them to a stage's CPUs),
every stage set up afresh. Before the voice embedder fixed its own BLAS threads and MKL its code path
(``curation.runtime.reproducible_math``), the second labelling's lip-sync scores moved in the 8th
digit (2.7792526253 against 2.7792526067 on a 2-core AMD EPYC)."""

import dataclasses
from pathlib import Path
from unittest import mock

import pytest
from analysis_runner import analyse

from curation.runtime import stage_runner, thread_limits
from curation.runtime.stage_runner import run_stage
from stages.speech import SpeechStage
from stages.states import StatesStage

CLIP = "infinitetalk_ref_video.mp4"


def _labelled(clip: Path, threads: int) -> tuple[dict, list[dict]]:
    with mock.patch.object(stage_runner, "threads_for", lambda cpus: thread_limits.threads_for(threads)):
        work = analyse(clip)
        for stage in (SpeechStage(), StatesStage()):
            stage.setup()
            work = run_stage(stage, work)
    features = {track: (f.signals.tobytes(), f.present.tobytes()) for track, f in work.track_features.items()}
    return features, [dataclasses.asdict(segment) for segment in work.segments]


@pytest.mark.slow
def test_the_labels_do_not_depend_on_the_threads_or_the_run(shared_media):
    one_thread = _labelled(shared_media / CLIP, 1)
    two_threads = _labelled(shared_media / CLIP, 2)
    segments = one_thread[1]
    assert segments and all(s["lip_sync_score"] is not None for s in segments if s["state"] == "speaking")
    assert one_thread[0] == two_threads[0], "the analysis's per-frame signals differ"
    for mine, other in zip(segments, two_threads[1], strict=True):
        assert mine == other, {k: (v, other[k]) for k, v in mine.items() if other[k] != v}
