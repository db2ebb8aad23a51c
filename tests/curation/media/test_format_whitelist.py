"""Playlists and concat scripts cannot make ffprobe open other files, even past the sniffer.

Each case first shows the danger is real (plain ffprobe follows the reference and trips a FIFO
tripwire), then that the toolkit's probe refuses the same bytes and leaves the tripwire untouched.
"""

import subprocess
from pathlib import Path

import hostile_media as hm
import pytest

from curation.media.ffmpeg_runner import MediaToolError
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


def test_a_name_that_looks_like_a_url_is_opened_as_a_local_file(tmp_path: Path) -> None:
    # Inputs are passed as file:<absolute path>, so "http:" in a name can never become a request.
    folder = tmp_path / "http:"
    folder.mkdir()
    clip = hm.video_only(folder / "example.com.mp4", seconds=1)
    info = probe_media(clip)
    assert (info.width, info.height, info.n_frames) == (160, 120, 25)
