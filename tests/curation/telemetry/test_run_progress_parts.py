"""The parts behind the run's progress and metrics, on constructed inputs: fast and exact."""

from pathlib import Path

import pytest
from media_facts import probed
from pipeline_runs import ingest_workflow

from curation.config.workflow import load_workflow
from curation.models.model_catalog import MODEL_CATALOG
from curation.runtime.products import SampleEntry, SampleSet
from curation.runtime.video_outcome import VideoOutcome
from curation.runtime.video_work import VideoWork
from curation.telemetry.run_metrics import RunMetrics
from curation.telemetry.throughput import RunThroughput, format_duration
from curation.telemetry.user_warnings import DiskWatch, FailureWatch, fallback_warnings
from curation.telemetry.video_summary import VideoSummary, summarize_outcome
from schemas.reasons import Reason
from schemas.tables import SegmentRow
from stages.workflow_stages import WORKFLOW_STAGES


def _work() -> VideoWork:
    work = VideoWork(uri="/in/a.mp4", video_id="v1", video=probed(7.5))
    work.timings = {"probe": 0.5, "visual_analysis": 4.0, "dedup": 0.25}
    work.reject_entity("shot", "v1-s0", "performer_filter", Reason.NO_FACE, "no face")
    work.reject_entity("segment", "v1-g3", "dedup", Reason.DUPLICATE, "twin of v0-g1")
    work.segments = [SegmentRow(state="speaking", t_start=0.0, t_end=3.0, key="k1"),
                     SegmentRow(state="idle", t_start=3.0, t_end=5.5, key="k2")]
    work.samples = SampleSet("work/artefacts/v1/samples.npz", [
        SampleEntry("k1", "v1-g1", "", {"mp4": 100, "json": 2}, "k1"),
        SampleEntry("k2", "v1-g2", "", {"mp4": 10}, "k2"),
    ])
    return work


def summarize_work(phase: str, work: VideoWork, names: list[str], last_phase: bool) -> VideoSummary:
    """What the driver sees: the summary of the outcome the worker returns for ``work``."""
    outcome = VideoOutcome.of(work, tuple(names))
    return summarize_outcome(phase, work.uri, VideoOutcome.from_json(outcome.to_json()), names, last_phase)


def test_a_phase_summary_counts_only_what_its_own_stages_did():
    work = _work()
    first = summarize_work("analyse", work, ["probe", "visual_analysis", "performer_filter"], last_phase=False)
    assert first.stage_seconds == {"probe": 0.5, "visual_analysis": 4.0}
    assert first.rejections == {("shot", "performer_filter", "no_face"): 1}
    assert first.final_state is None and first.segment_seconds == {} and first.sample_bytes == 0
    work.state = "kept"
    last = summarize_work("block 2", work, ["dedup", "samples"], last_phase=True)
    assert last.stage_seconds == {"dedup": 0.25}
    assert last.rejections == {("segment", "dedup", "duplicate"): 1}
    assert last.final_state == "kept"
    assert last.segment_seconds == {"speaking": [3.0], "idle": [2.5]}
    assert last.sample_bytes == 112


def test_a_video_rejected_in_a_phase_is_settled_there_and_counted_once():
    work = _work()
    work.reject("performer_filter", Reason.NO_FACE, "no usable shot")
    here = summarize_work("analyse", work, ["probe", "performer_filter"], last_phase=False)
    later = summarize_work("block 1", work, ["dedup"], last_phase=True)
    assert (here.final_state, here.stage, here.reason) == ("rejected", "performer_filter", "no_face")
    assert here.rejections[("video", "performer_filter", "no_face")] == 1
    assert later.final_state is None and ("video", "performer_filter", "no_face") not in later.rejections
    metrics = RunMetrics()
    for summary in (here, later):
        metrics.record(summary)
    assert metrics.total("lpm_videos_total") == 1
    assert metrics.total("lpm_rejections_total", entity="video") == 1
    assert metrics.total("lpm_input_seconds_total") == 7.5  # read once, in the first phase
    assert metrics.histograms[("lpm_stage_seconds", (("stage", "probe"),))].buckets == [
        0, 0, 1, 0, 0, 0, 0, 0, 0, 0]  # 0.5 s: in the (0.3, 1] bucket
    assert ("lpm_stage_seconds", (("stage", "visual_analysis"),)) not in metrics.histograms  # not its phase


def test_throughput_and_eta_follow_the_clock():
    now = [100.0]
    rate = RunThroughput(cores=4, clock=lambda: now[0])
    rate.progress("analyse", 2, 10)  # two done by an earlier session: they took no time now
    now[0] = 160.0
    phase = rate.progress("analyse", 5, 10)
    for seconds in (1800.0, 1800.0, 3600.0):
        work = VideoWork(uri="u", video_id="v", video=probed(seconds))
        rate.video(summarize_work("analyse", work, [], False))
    assert phase.processed == 3
    assert phase.eta_s(now[0]) == pytest.approx(60.0 / 3 * 5)
    assert phase.hours_per_hour(now[0]) == pytest.approx(2.0 / (60.0 / 3600))
    assert rate.per_core(phase.hours_per_hour(now[0])) == pytest.approx(30.0)
    now[0] = 200.0
    rate.progress("analyse", 10, 10)
    now[0] = 900.0  # a finished phase's rate stops moving
    assert phase.wall_s(now[0]) == pytest.approx(100.0)
    assert format_duration(90061) == "1d 1:01:01" and format_duration(None) == "-:--:--"


def test_failures_are_announced_at_doubling_counts():
    watch = FailureWatch()
    said = [n for n in range(1, 20) if watch.check(n, "x")]
    assert said == [1, 2, 4, 8, 16]


def test_disk_watch_warns_low_space_again_only_when_it_halves(tmp_path: Path):
    watch = DiskWatch(tmp_path / "not" / "yet", min_free_bytes=10**18, every_s=0)
    first = watch.check(now=1.0)
    assert first and "GB free" in first
    assert watch.check(now=2.0) is None  # same free space: said once
    assert DiskWatch(tmp_path, min_free_bytes=1, every_s=0).check(now=1.0) is None


def test_fallback_warnings_name_each_capability_done_without_its_model(tmp_path, monkeypatch):
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))  # nothing fetched; the pip-installed models are there
    smoke = load_workflow("smoke", WORKFLOW_STAGES, [])
    missing = fallback_warnings(smoke)
    assert [line.split(" falls back")[0] for line in missing] == [
        "speech: transcription", "dedup: near-duplicate image embedding", "samples: overlapping speech separation",
    ]  # the lip-sync verdict runs on learned_sync, whose weights ship in the package
    assert "`lpm-curate models fetch whisper`" in missing[0]
    assert "`lpm-curate models fetch speech_separator`" in missing[2]
    # the hand-made face descriptor is never silent, even when asked for by name
    chosen = load_workflow("smoke", WORKFLOW_STAGES, ["identity.descriptor=fallback"])
    extra = [line for line in fallback_warnings(chosen) if line not in missing]
    assert len(extra) == 1 and extra[0].startswith("identity: identity embedding falls back to the hand-made")
    assert "`pip install face_recognition_models`" in extra[0]
    # the lip-sync verdict has no "off": asked to run on the estimator, it says so
    models_off = ["speech.asr='off'", "dedup.clip='off'", "samples.separation='off'"]
    assert fallback_warnings(load_workflow("smoke", WORKFLOW_STAGES, models_off)) == []
    on_estimator = [*models_off, "states.lip_sync_model=av_sync"]
    estimator = fallback_warnings(load_workflow("smoke", WORKFLOW_STAGES, on_estimator))
    assert len(estimator) == 1 and estimator[0].startswith("states: lip-sync verdict falls back")
    assert "offline av_sync estimator" in estimator[0] and "`lpm-curate models fetch syncnet`" in estimator[0]
    (tmp_path / MODEL_CATALOG["syncnet"].path).write_bytes(b"weights")  # fetched: the verdict uses it
    assert fallback_warnings(load_workflow("smoke", WORKFLOW_STAGES, models_off)) == []
    assert fallback_warnings(ingest_workflow()) == []
