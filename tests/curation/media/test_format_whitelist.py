"""Playlists, concat scripts and image sequences cannot make ffprobe, or the FFmpeg libraries in
this process, open other files, even past the sniffer.

Each case first shows the danger is real (plain ffprobe, or plain PyAV, follows the reference and
trips a FIFO tripwire), then that the toolkit's probe refuses the same bytes and leaves the
tripwire untouched.
"""

import contextlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import hostile_media as hm
import pytest

from curation.media.ffmpeg_runner import MediaToolError
from curation.media.inprocess_probe import probe_media_inprocess
from curation.media.media_info import MediaInfo
from curation.media.probe import probe_media


def _plain_ffprobe(path: Path, *args: str) -> None:
    subprocess.run(
        ["ffprobe", "-v", "error", *args, "-show_format", f"file:{path}"],
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("kind", "plain_args"),
    [("concat", ("-f", "concat", "-safe", "0")), ("hls", ()), ("hls_disguised", ())],
)
def test_whitelist_refuses_what_plain_ffprobe_follows(tmp_path: Path, kind: str, plain_args: tuple[str, ...]) -> None:
    secret = hm.av_clip(tmp_path / "secret.mp4")
    trip = tmp_path / "trip.mp4"
    playlist = tmp_path / "list.mp4"

    def write() -> None:
        if kind == "concat":
            hm.concat_script(playlist, trip, secret)
        else:
            hm.hls_playlist(playlist, trip, secret, disguise=kind == "hls_disguised")

    with hm.Tripwire(trip) as control:
        write()
        _plain_ffprobe(playlist, *plain_args)
    assert control.opened, "control: unrestricted ffprobe should follow the reference"

    trip.unlink()
    with hm.Tripwire(trip) as guarded, pytest.raises(MediaToolError, match="not on whitelist"):
        probe_media(playlist, timeout=20)
    assert not guarded.opened


def _referencing(kind: str, folder: Path, trip: Path, secret: Path) -> tuple[Path, dict]:
    """A file of ``kind`` that makes FFmpeg open ``trip``, and what plain PyAV needs to follow it."""
    if kind == "concat":
        # Plain FFmpeg refuses absolute paths in a concat script unless told they are safe.
        return hm.concat_script(folder / "list.mp4", trip, secret), {"format": "concat", "options": {"safe": "0"}}
    if kind == "hls":
        # FFmpeg 8 follows a playlist named as one (under another name, see test_inprocess_input).
        return hm.hls_playlist(folder / "list.m3u8", trip, secret), {}
    # A JPEG named as a numbered sequence: the image2 demuxer goes on to seq001.jpg (``trip``).
    os.replace(hm.jpeg_image(folder / "still.jpg"), folder / "seq%03d.jpg")
    return folder / "seq%03d.jpg", {}


@pytest.mark.parametrize("kind", ["concat", "hls", "image_sequence"])
def test_whitelist_refuses_in_process_what_plain_pyav_follows(tmp_path: Path, kind: str) -> None:
    secret = hm.av_clip(tmp_path / "secret.mp4")
    trip = tmp_path / ("seq001.jpg" if kind == "image_sequence" else "trip.mp4")
    with hm.Tripwire(trip) as control:
        path, plain = _referencing(kind, tmp_path, trip, secret)
        # It opens the tripwire, reads nothing from it, and may give up: what matters is the open.
        with contextlib.suppress(av.FFmpegError):
            av.open(str(path), timeout=20, **plain).close()
    assert control.opened, "control: unrestricted PyAV should follow the reference"

    trip.unlink()
    with hm.Tripwire(trip) as guarded, pytest.raises(MediaToolError, match="Format not on whitelist"):
        probe_media_inprocess(path, timeout=20)
    assert not guarded.opened


@pytest.mark.parametrize("probe", [probe_media, probe_media_inprocess])
def test_a_name_that_looks_like_a_url_is_opened_as_a_local_file(tmp_path: Path, probe: Callable[..., MediaInfo]):
    # Inputs are passed as file:<absolute path>, so "http:" in a name can never become a request.
    folder = tmp_path / "http:"
    folder.mkdir()
    clip = hm.video_only(folder / "example.com.mp4", seconds=1)
    info = probe(clip)
    assert (info.width, info.height, info.n_frames) == (160, 120, 25)
