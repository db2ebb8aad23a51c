"""ffprobe facts: frame rate and whether it varies, rotation as a player shows it, decode-bomb guard."""

import subprocess
from pathlib import Path

import hostile_media as hm
import numpy as np
import pytest

from curation.media.ffmpeg_runner import MediaToolError
from curation.media.probe import media_info_from_probe, probe_media


def test_constant_rate_clip_with_an_edit_list_is_not_variable(shared_media: Path) -> None:
    # Every packet is 1/25 s apart, but an edit list makes avg_frame_rate 24.655: not a VFR file.
    info = probe_media(shared_media / "talkvid_tys_gt.mp4")
    assert (info.fps, info.variable_fps, info.n_frames) == (25.0, False, 100)


def test_ntsc_rate_keeps_its_exact_rational_value(shared_media: Path) -> None:
    info = probe_media(shared_media / "panda_UBdicUlzAng.35.mp4")
    assert info.fps == 2997 / 100 and not info.variable_fps


def test_real_clip_facts(shared_media: Path) -> None:
    info = probe_media(shared_media / "nemo_test_video.mp4")
    assert (info.width, info.height, info.fps, info.n_frames, info.has_audio) == (320, 180, 2.0, 7, False)
    assert info.duration_s == pytest.approx(3.5)
    talking = probe_media(shared_media / "fantasy_end0.1.mp4")
    assert (talking.audio_codec, talking.audio_sample_rate, talking.audio_channels) == ("aac", 44100, 2)
    assert (talking.width, talking.height, talking.video_codec) == (480, 848, "h264")


def test_variable_timestamps_are_flagged(tmp_path: Path) -> None:
    info = probe_media(hm.variable_frame_rate(tmp_path / "vfr.mp4"))
    assert info.variable_fps and 15 < info.fps < 25


def test_rotation_is_clockwise_as_a_player_shows_it(tmp_path: Path) -> None:
    rotated = hm.rotated_clockwise_90(hm.marker_clip(tmp_path / "marker.mp4"), tmp_path / "rotated.mp4")
    info = probe_media(rotated)
    assert (info.width, info.height, info.rotation) == (120, 160, 90)
    # ffmpeg applies the display matrix when decoding: the marker from the top-left corner must
    # land in the top-right corner after a clockwise quarter turn.
    raw = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(rotated),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    frame = np.frombuffer(raw, np.uint8).reshape(info.height, info.width)
    rows, cols = np.nonzero(frame > 128)
    assert rows.max() < info.height // 2 and cols.min() > info.width // 2


def test_huge_header_is_refused_before_ffprobe_allocates_it(tmp_path: Path) -> None:
    huge = hm.huge_resolution(hm.av_clip(tmp_path / "base.mp4"), tmp_path / "huge.mp4")
    assert (probe_media(huge).width, probe_media(huge).height) == (8192, 8192)
    with pytest.raises(MediaToolError, match="8192x8192 exceeds specified max pixel count 40000000"):
        probe_media(huge, max_pixels=40_000_000)


def test_facts_from_probe_json_edge_cases() -> None:
    cover_art = {
        "format": {"format_name": "mov,mp4", "duration": "12.5"},
        "streams": [
            {"index": 0, "codec_type": "audio", "codec_name": "aac", "sample_rate": "48000", "channels": 1},
            {"index": 1, "codec_type": "video", "width": 600, "height": 600, "disposition": {"attached_pic": 1}},
        ],
    }
    info = media_info_from_probe(cover_art)
    assert (info.has_video, info.has_audio, info.audio_sample_rate, info.duration_s) == (False, True, 48000, 12.5)
    tagged = {
        "format": {"duration": "N/A"},
        "streams": [
            {
                "index": 0,
                "codec_type": "video",
                "width": 1920,
                "height": 1080,
                "duration": "4.0",
                "avg_frame_rate": "0/0",
                "r_frame_rate": "30/1",
                "tags": {"rotate": "270"},
            },
        ],
    }
    info = media_info_from_probe(tagged)
    assert (info.width, info.height, info.rotation, info.fps, info.n_frames) == (1080, 1920, 270, 30.0, 120)
    phone = {
        "streams": [{"index": 0, "codec_type": "video", "width": 8, "height": 4, "side_data_list": [{"rotation": -90}]}]
    }
    assert media_info_from_probe(phone).rotation == 90  # ffprobe reports counter-clockwise degrees
