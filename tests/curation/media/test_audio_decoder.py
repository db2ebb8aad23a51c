"""The audio decoded in this process is ffmpeg's: the same samples to one 16-bit step, the same
length, and a window cut on the same sample."""

from pathlib import Path

import hostile_media as hm
import numpy as np
import pytest

from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio, decode_audio_inprocess

STEP = 1 / 32768  # one step of the 16-bit samples both decoders give


@pytest.mark.parametrize(
    ("name", "identical"),
    [
        ("panda_UBdicUlzAng.35.mp4", True),  # MP3 stereo 44.1 kHz: the same decoder in FFmpeg 5 and 8
        ("fantasy_end0.1.mp4", False),  # AAC stereo 44.1 kHz: FFmpeg 8's AAC rounds a few floats apart
        ("talkvid_tys_gt.mp4", False),  # AAC mono 16 kHz: converted to 16 bits only
        ("wan_animate_video.mp4", False),  # AAC stereo 48 kHz
    ],
)
def test_the_samples_are_ffmpegs(shared_media: Path, name: str, identical: bool) -> None:
    piped, inprocess = decode_audio(shared_media / name), decode_audio_inprocess(shared_media / name)
    assert inprocess.dtype == np.float32 and inprocess.size == piped.size > ANALYSIS_SAMPLE_RATE
    difference = np.abs(inprocess - piped)
    assert difference.max() <= STEP and np.mean(difference) < 0.001 * STEP
    assert (difference.max() == 0) == identical


@pytest.mark.parametrize(("t_start", "duration"), [(1.0, 0.5), (0.123457, None), (None, 0.777), (2.5, 5.0)])
def test_a_window_is_cut_where_ffmpeg_cuts_it(shared_media: Path, t_start: float, duration: float) -> None:
    clip = shared_media / "fantasy_end0.1.mp4"  # 3.5 s; the audio starts with the file
    whole = decode_audio_inprocess(clip)
    window = decode_audio_inprocess(clip, t_start=t_start, duration=duration)
    first = round((t_start or 0) * ANALYSIS_SAMPLE_RATE)
    last = first + round(duration * ANALYSIS_SAMPLE_RATE) if duration is not None else whole.size
    np.testing.assert_array_equal(window, whole[first:last])
    piped = decode_audio(clip, t_start=t_start, duration=duration)
    assert window.size == piped.size and np.abs(window - piped).max() <= STEP


def test_no_audio_stream_gives_no_samples(tmp_path: Path) -> None:
    silent = decode_audio_inprocess(hm.video_only(tmp_path / "silent.mp4"))
    assert silent.dtype == np.float32 and silent.size == 0
