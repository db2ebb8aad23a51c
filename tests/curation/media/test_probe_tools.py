"""Hostile files get the same rejection from ProbeStage whichever tool reads them: the FFmpeg
libraries in this process or ffprobe and ffmpeg processes. Here, beside the forgers, because the
stage tests cannot import them; tests/stages/test_probe.py has the stage's thresholds."""

import random
from pathlib import Path

import hostile_media as hm
import pytest

from curation.runtime.stage_runner import run_stage
from curation.runtime.video_work import VideoWork
from stages.probe import ProbeStage

# file name -> (reason, words the detail must contain), the same from both tools
HOSTILE = {
    "truncated.mp4": ("unreadable", "the file is damaged: corrupt input packet in stream 1"),
    "no_moov.mp4": ("unreadable", "moov atom missing"),
    "random.mp4": ("not_a_video", "no media container recognised"),
    "audio_only.mp4": ("no_video_stream", "audio only"),
    "no_tracks.mp4": ("no_video_stream", "no audio or video stream"),
    "zero_duration.mp4": ("too_short", "0.000 s below min_duration_s"),
    "one_frame.mp4": ("too_few_frames", "1 frame(s) below min_frames=2"),
    "huge.mp4": ("resolution_too_large", "8192x8192 exceeds max_pixels=40000000"),
    # past the sniffer (binary junk after the text), each would open the files it names
    "disguised_playlist.mp4": ("unsupported_container", "the hls format is not allowed"),
    "disguised_playlist.m3u8": ("unsupported_container", "the hls format is not allowed"),
    "disguised_concat.mp4": ("unsupported_container", "the concat format is not allowed"),
    "sequence%03d.jpg": ("unsupported_container", "the image2 format is not allowed"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, work = tmp_path_factory.mktemp("hostile"), tmp_path_factory.mktemp("sources")
    base = hm.av_clip(work / "base.mp4")
    hm.truncated_mid_mdat(base, folder / "truncated.mp4")
    hm.without_moov(base, folder / "no_moov.mp4")
    hm.random_bytes(folder / "random.mp4")
    hm.audio_only(folder / "audio_only.mp4")
    hm.no_streams(folder / "no_tracks.mp4")
    hm.zero_duration(folder / "zero_duration.mp4")
    hm.one_frame(folder / "one_frame.mp4")
    hm.huge_resolution(base, folder / "huge.mp4")
    # the playlists and the concat script name the clean clip
    hm.hls_playlist(folder / "disguised_playlist.mp4", base, disguise=True)
    hm.hls_playlist(folder / "disguised_playlist.m3u8", base, disguise=True)
    junk = bytes(random.Random(5).getrandbits(8) for _ in range(400))
    (folder / "disguised_concat.mp4").write_bytes(f"ffconcat version 1.0\nfile '{base}'\n".encode() + junk)
    hm.random_bytes(folder / "sequence%03d.jpg")
    return folder


@pytest.mark.parametrize("tool", ["inprocess", "ffmpeg"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_get_the_same_reason_from_either_tool(hostile: Path, name: str, tool: str) -> None:
    reason, words = HOSTILE[name]
    work = run_stage(ProbeStage(tool=tool), VideoWork(uri=str(hostile / name), video_id="0123456789abcdef"))
    assert (work.state, work.stage, work.reason) == ("rejected", "probe", reason), work.detail
    assert words in work.detail
