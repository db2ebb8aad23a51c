"""Opening a file in this process keeps ffmpeg's guards: a time limit that ends a slow read, a
picture limit that holds before anything is allocated, and FFmpeg's own words when it refuses."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av.logging
import hostile_media as hm
import pytest

from curation.media.audio_decoder import decode_audio_inprocess
from curation.media.demux_check import demux_errors_inprocess
from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError
from curation.media.inprocess_probe import probe_media_inprocess


@pytest.fixture
def slow_file(tmp_path: Path) -> Iterator[Path]:
    """A 4 s clip (index first) served through a FIFO at 10 KB/s, as a stalling disk or network
    mount serves it: opening is quick, reading every packet would take about 5 s."""
    clip = hm.av_clip(tmp_path / "clip.mp4", seconds=4)
    hm.ffmpeg("-i", str(clip), "-c", "copy", "-movflags", "+faststart", str(tmp_path / "fast.mp4"))
    data = (tmp_path / "fast.mp4").read_bytes()
    fifo = tmp_path / "slow.mp4"
    os.mkfifo(fifo)

    def serve() -> None:
        try:
            with open(fifo, "wb", buffering=0) as pipe:
                pipe.write(data[:8192])
                for at in range(8192, len(data), 512):
                    time.sleep(0.05)
                    pipe.write(data[at : at + 512])
        except BrokenPipeError:
            pass  # the reader gave up, as it should

    writer = threading.Thread(target=serve, daemon=True)
    writer.start()
    yield fifo
    writer.join(timeout=10)


@pytest.mark.parametrize("read", [probe_media_inprocess, demux_errors_inprocess, decode_audio_inprocess])
def test_the_time_limit_ends_a_slow_read(slow_file: Path, read: Callable[..., object]) -> None:
    started = time.monotonic()
    with pytest.raises(MediaTimeoutError, match=r"no result after 1 s \(stopped\)"):
        read(slow_file, timeout=1.0)
    assert time.monotonic() - started < 2.5  # checked between packets, not at the end of the file


# The peak resident memory of this process (VmHWM, in kB): ru_maxrss would start at the parent's.
_PEAK_RSS = """
import re, sys
from curation.media.ffmpeg_runner import MediaToolError
from curation.media.inprocess_probe import probe_media_inprocess

def peak():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))

before = peak()
try:
    probe_media_inprocess(sys.argv[1], max_pixels=int(sys.argv[2]) or None)
    print("opened", end=" ")
except MediaToolError as error:
    print(error.detail, end=" ")
print((peak() - before) // 1024)
"""


def _probe_in_a_fresh_process(path: Path, max_pixels: int) -> tuple[str, int]:
    """What the probe says, and how far the process's peak memory rose meanwhile (MB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(path), str(max_pixels)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).parents[3],
    ).stdout
    said, grown = out.rsplit(" ", 1)
    return said, int(grown)


def test_a_giant_picture_is_refused_before_it_is_allocated(tmp_path: Path) -> None:
    # The forged SPS claims 8192x8192: one decoded picture is 100 MB.
    huge = hm.huge_resolution(hm.av_clip(tmp_path / "base.mp4"), tmp_path / "huge.mp4")
    said, grown = _probe_in_a_fresh_process(huge, 40_000_000)
    assert said == "Picture size 8192x8192 exceeds specified max pixel count 40000000"
    assert grown < 64
    # Control: without the limit FFmpeg decodes the giant pictures while it reads the parameters.
    said, grown = _probe_in_a_fresh_process(huge, 0)
    assert said == "opened" and grown > 100


def test_refusals_carry_ffmpegs_words_and_leave_its_log_as_it_was(tmp_path: Path) -> None:
    cut = hm.without_moov(hm.av_clip(tmp_path / "base.mp4"), tmp_path / "no_moov.mp4")
    before = av.logging.get_level()
    for _ in range(2):  # the second time too: a repeated line is not held back by PyAV
        with pytest.raises(MediaToolError) as refused:
            probe_media_inprocess(cut)
        assert refused.value.detail == (
            "mov,mp4,m4a,3gp,3g2,mj2: moov atom not found | Invalid data found when processing input"
        )
    assert av.logging.get_level() == before
    # FFmpeg 8 does not take an HLS playlist under another name for one, and says so.
    playlist = hm.hls_playlist(tmp_path / "list.mp4", tmp_path / "a.mp4", disguise=True)
    with pytest.raises(MediaToolError, match="Not detecting m3u8/hls with non standard extension"):
        probe_media_inprocess(playlist)
