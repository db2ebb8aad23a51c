"""ProbeStage: container facts on the record, and each early rejection with its threshold, the
same whichever tool reads the file (the FFmpeg libraries in process, or ffprobe and ffmpeg; the
hostile files of tests/curation/hostile_media are in tests/curation/media/test_probe_tools.py)."""

import os
import subprocess
from pathlib import Path

import pytest

from curation.config.param_validation import WorkflowError
from curation.config.workflow import load_workflow
from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from stages.probe import ProbeStage
from stages.workflow_stages import WORKFLOW_STAGES

TALKING = "fantasy_end0.1.mp4"  # 480x848, 3.522 s, 81 frames, AAC stereo 44.1 kHz
SILENT = "liveportrait_d0.mp4"  # 512x512, no audio
TOOLS = pytest.mark.parametrize("tool", ["inprocess", "ffmpeg"])


def _probe(path: Path, **params: object) -> VideoWork:
    work = VideoWork(uri=str(path), video_id="0123456789abcdef")
    return run_stage(ProbeStage(**params), work)


@TOOLS
def test_a_good_clip_passes_with_its_facts(shared_media: Path, tool: str) -> None:
    work = _probe(shared_media / TALKING, tool=tool)
    assert work.state == "pending" and work.reason is None
    facts = work.video
    assert (facts.width, facts.height, facts.rotation, facts.n_frames) == (480, 848, 0, 81)
    assert (facts.fps, facts.variable_fps, facts.video_codec) == (23.0, False, "h264")
    assert (facts.has_audio, facts.audio_codec, facts.audio_sample_rate, facts.audio_channels) == (
        True,
        "aac",
        44100,
        2,
    )
    # the movie header says 3.522 s (ffprobe 5.1 reports it), the video track 81/23 s (FFmpeg 8)
    assert facts.duration_s == pytest.approx(3.522, abs=0.001)
    assert work.timings["probe"] > 0


@TOOLS
@pytest.mark.parametrize(
    ("params", "reason", "detail"),
    [
        ({"min_short_side": 500}, "resolution_too_small", "480x848 below min_short_side=500"),
        # the tool refuses the picture (ffprobe's decoder, or the in-process opener) before the
        # stage compares sizes
        ({"max_pixels": 400_000}, "resolution_too_large", "480x848 exceeds max_pixels=400000"),
        ({"min_duration_s": 4.0}, "too_short", "3.522 s below min_duration_s=4.0"),
        ({"min_frames": 100}, "too_few_frames", "81 frame(s) below min_frames=100"),
        # several thresholds missed: the first in the documented order is reported
        ({"min_short_side": 500, "min_duration_s": 4.0}, "resolution_too_small", "480x848 below min_short_side=500"),
    ],
)
def test_thresholds_reject_with_the_value_and_the_limit(
    shared_media: Path, params: dict, reason: str, detail: str, tool: str
) -> None:
    work = _probe(shared_media / TALKING, tool=tool, **params)
    assert (work.state, work.stage, work.reason, work.detail) == ("rejected", "probe", reason, detail)


@TOOLS
def test_audio_is_required_only_when_asked(shared_media: Path, tool: str) -> None:
    assert _probe(shared_media / SILENT, tool=tool).state == "pending"
    work = _probe(shared_media / SILENT, tool=tool, require_audio=True)
    assert (work.state, work.reason) == ("rejected", "no_audio_stream")


def _cut_mid_data(tmp_path: Path) -> Path:
    whole = tmp_path / "whole.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(whole)],
        check=True, timeout=60,
    )  # fmt: skip
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    return cut


@TOOLS
def test_packet_check_catches_what_the_header_hides(tmp_path: Path, tool: str) -> None:
    cut = _cut_mid_data(tmp_path)
    assert _probe(cut, tool=tool, check_packets=False).state == "pending"  # the header alone looks whole
    work = _probe(cut, tool=tool)
    assert (work.state, work.reason) == ("rejected", "unreadable")
    # ffmpeg's stderr has the H.264 parser's complaints first; the corrupt packet ends both
    assert work.detail.startswith("the file is damaged: ")
    assert work.detail.endswith("corrupt input packet in stream 0")


def test_file_gone_or_replaced_before_probing(tmp_path: Path) -> None:
    work = _probe(tmp_path / "deleted.mp4")
    assert (work.state, work.reason, work.detail) == (
        "rejected",
        "missing_file",
        "the file disappeared between discovery and probing",
    )
    os.mkfifo(tmp_path / "pipe.mp4")  # opening it would block forever
    work = _probe(tmp_path / "pipe.mp4", timeout_s=1)
    assert (work.state, work.reason) == ("rejected", "not_a_file")
    (tmp_path / "dir.mp4").mkdir()
    assert _probe(tmp_path / "dir.mp4").reason == "not_a_file"


@TOOLS
def test_reprobing_gives_the_same_record(shared_media: Path, tool: str) -> None:
    # Stages are retry-safe: a retried probe must not change what was recorded.
    first, second = _probe(shared_media / TALKING, tool=tool), _probe(shared_media / TALKING, tool=tool)
    assert first.video == second.video and (first.state, first.reason) == (second.state, second.reason)


def test_the_tool_is_a_checked_workflow_setting() -> None:
    (probe,) = load_workflow("ingest", WORKFLOW_STAGES, ["probe.tool=ffmpeg"]).stages
    assert probe.tool == "ffmpeg" and ProbeStage().tool == "inprocess"
    with pytest.raises(WorkflowError, match=r"tool: 'gstreamer' is not one of 'inprocess', 'ffmpeg'"):
        load_workflow("ingest", WORKFLOW_STAGES, ["probe.tool=gstreamer"])
