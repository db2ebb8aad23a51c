"""ffmpeg/ffprobe run safely: argument lists, no stdin, whitelists, and a timeout that really kills."""

import os
import subprocess
import time
from pathlib import Path

import pytest

from curation.media.ffmpeg_runner import (
    SAFE_DEMUXERS,
    SAFE_PROTOCOLS,
    MediaTimeoutError,
    MediaToolError,
    ffmpeg_command,
    ffprobe_command,
    run_media_tool,
    stderr_tail,
)


def test_ffmpeg_command_never_reads_stdin_and_whitelists_its_input() -> None:
    command = ffmpeg_command("rel/clip.mp4", ["-f", "null", "-"], input_args=["-ss", "1"])
    assert command[:2] == ["ffmpeg", "-nostdin"]
    i = command.index("-i")
    assert command[i + 1] == f"file:{os.path.abspath('rel/clip.mp4')}"
    # the whitelists and seek come before -i, so they apply to this input
    assert command[command.index("-protocol_whitelist") + 1] == "file,pipe"
    assert command.index("-format_whitelist") < i and command.index("-ss") < i


def test_ffprobe_command_whitelists_and_names_the_file_absolutely() -> None:
    command = ffprobe_command("a b/é.mp4", ["-show_format"])
    assert command[0] == "ffprobe"
    assert command[-1] == f"file:{os.path.abspath('a b/é.mp4')}"
    assert command[command.index("-protocol_whitelist") :][:2] == ["-protocol_whitelist", SAFE_PROTOCOLS]
    demuxers = set(command[command.index("-format_whitelist") + 1].split(","))
    assert demuxers == set(SAFE_DEMUXERS.split(","))
    assert not demuxers & {"hls", "concat", "image2", "dash", "lavfi", "tee", "data"}


def test_timeout_kills_the_tool_and_its_process_group(tmp_path: Path) -> None:
    fifo = tmp_path / "never_written.mp4"
    os.mkfifo(fifo)  # ffprobe blocks opening it, as it would on a stalled network mount
    started = time.monotonic()
    with pytest.raises(MediaTimeoutError, match="killed"):
        run_media_tool(ffprobe_command(fifo, ["-show_format"]), timeout=1.5)
    assert time.monotonic() - started < 10
    leftover = subprocess.run(["pgrep", "-f", str(fifo)], capture_output=True, text=True, check=False)
    assert leftover.stdout.strip() == ""


def test_failure_carries_the_tools_reason_without_noise(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mkv"
    bogus.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(64))  # an EBML magic and nothing else
    with pytest.raises(MediaToolError) as caught:
        run_media_tool(ffprobe_command(bogus, ["-show_format"]), timeout=30)
    assert caught.value.tool == "ffprobe"
    assert caught.value.detail and str(bogus) not in caught.value.detail
    assert " @ 0x" not in caught.value.detail


def test_stderr_tail_drops_addresses_and_paths_and_keeps_the_last_lines() -> None:
    err = (
        b"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55de7b36be40] first\n"
        b"[hls @ 0x5566e8ad47c0] Format not on whitelist 'mov'\n"
        b"file:/tmp/x y.mp4: Invalid argument\n"
        b"[h264 @ 0x5566e8ad47c0] last\n"
    )
    assert stderr_tail(err) == "hls: Format not on whitelist 'mov' | Invalid argument | h264: last"
