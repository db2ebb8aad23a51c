"""The in-process probe gives ffprobe's facts: the same frame rate and variable-rate verdict from
the same packets, rotation as a player shows it, the audio stream; only the mp4 duration differs,
taken from the tracks by the FFmpeg 8 in PyAV and from the movie header by Debian's ffprobe 5.1."""

import struct
from dataclasses import replace
from pathlib import Path

import hostile_media as hm
import pytest

from curation.media.inprocess_probe import probe_media_inprocess
from curation.media.media_info import MediaInfo
from curation.media.probe import probe_media


def _both(path: Path) -> tuple[MediaInfo, MediaInfo]:
    return probe_media(path), probe_media_inprocess(path)


@pytest.mark.parametrize(
    "name",
    [
        "talkvid_tys_gt.mp4",  # an edit list makes avg_frame_rate 24.655; the packets say 25
        "panda_UBdicUlzAng.35.mp4",  # 2997/100 frames/s, kept as the exact rational
        "nemo_test_video.mp4",  # 2 frames/s, no audio
        "fantasy_end0.1.mp4",  # AAC stereo 44.1 kHz, portrait
        "latentsync_demo3_video.mp4",  # HEVC 1080x1920
    ],
)
def test_shared_clips_give_the_same_facts(shared_media: Path, name: str) -> None:
    ffprobe, inprocess = _both(shared_media / name)
    assert replace(inprocess, duration_s=ffprobe.duration_s) == ffprobe
    # The movie header counts whole milliseconds and may run past the tracks (0.026 s here).
    assert inprocess.duration_s == pytest.approx(ffprobe.duration_s, abs=0.03)


def test_variable_frame_rate_is_found_in_the_same_packets(tmp_path: Path) -> None:
    ffprobe, inprocess = _both(hm.variable_frame_rate(tmp_path / "vfr.mp4"))
    assert inprocess.variable_fps and 15 < inprocess.fps < 25
    assert (inprocess.fps, inprocess.variable_fps, inprocess.n_frames) == (ffprobe.fps, True, 35)
    # 25 frames 0.04 s apart and 10 frames 0.1 s apart: the tracks end at 1.8 s by FFmpeg 8's
    # reckoning, the header (and so ffprobe 5.1) says 1.92 s.
    assert (inprocess.duration_s, ffprobe.duration_s) == (1.8, 1.92)


def test_rotation_is_read_from_the_first_frame_as_ffprobe_reads_the_stream(tmp_path: Path) -> None:
    rotated = hm.rotated_clockwise_90(hm.marker_clip(tmp_path / "marker.mp4"), tmp_path / "rotated.mp4")
    ffprobe, inprocess = _both(rotated)
    assert (inprocess.width, inprocess.height, inprocess.rotation) == (120, 160, 90)
    assert inprocess == ffprobe


def test_audio_only_and_stream_less_files(tmp_path: Path) -> None:
    ffprobe, inprocess = _both(hm.audio_only(tmp_path / "audio.mp4"))
    assert (inprocess.has_video, inprocess.has_audio, inprocess.audio_codec) == (False, True, "aac")
    assert (inprocess.audio_sample_rate, inprocess.audio_channels, inprocess.duration_s) == (44100, 1, 2.0)
    assert inprocess == ffprobe
    ffprobe, inprocess = _both(hm.no_streams(tmp_path / "empty.mp4"))
    assert (inprocess.has_video, inprocess.has_audio, inprocess.container) == (False, False, "mov,mp4,m4a,3gp,3g2,mj2")
    assert inprocess == ffprobe


def test_duration_is_the_tracks_extent_not_what_the_header_claims(shared_media: Path, tmp_path: Path) -> None:
    fantasy = shared_media / "fantasy_end0.1.mp4"
    # 81 frames at 23 frames/s; the header rounds the movie up to whole milliseconds.
    assert probe_media_inprocess(fantasy).duration_s == pytest.approx(81 / 23, abs=1e-6)
    assert probe_media(fantasy).duration_s == 3.522
    # A header claiming 50 s for a 2 s clip: ffprobe 5.1 believes it, the tracks do not.
    data = bytearray(hm.av_clip(tmp_path / "base.mp4").read_bytes())
    mvhd = data.find(b"mvhd") + 4
    timescale = struct.unpack(">I", data[mvhd + 12 : mvhd + 16])[0]
    data[mvhd + 16 : mvhd + 20] = struct.pack(">I", 50 * timescale)
    (tmp_path / "long.mp4").write_bytes(bytes(data))
    ffprobe, inprocess = _both(tmp_path / "long.mp4")
    assert (ffprobe.duration_s, inprocess.duration_s) == (50.0, 2.0)
