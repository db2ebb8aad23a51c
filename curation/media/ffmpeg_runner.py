"""Run ffmpeg/ffprobe safely: argument lists (no shell), a timeout, no stdin, and whitelists.

Every media call in the toolkit goes through here so that a crafted input cannot make ffmpeg
read other files or the network: only the ``file`` and ``pipe`` protocols are allowed, inputs are
opened as ``file:<absolute path>`` (a name like ``http:x.mp4`` stays a file name), and only
container demuxers that never open other files are accepted. Playlists (HLS, concat, DASH) and
image sequences are refused by the demuxer whitelist, so they cannot pull in other files.
"""

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

SAFE_PROTOCOLS = "file,pipe"
# Demuxers that read a single self-contained stream. ``mov`` covers mp4/m4a/3gp/mj2.
SAFE_DEMUXERS = ",".join(
    (
        "mov", "matroska", "webm", "avi", "flv", "mpegts", "mpeg", "asf", "ogg", "nut", "ivf",
        "h264", "hevc", "m4v", "mjpeg", "wav", "mp3", "aac", "flac", "w64", "caf", "aiff",
    )
)
DEFAULT_TIMEOUT_S = 120.0


class MediaToolError(RuntimeError):
    """ffmpeg or ffprobe failed; ``detail`` is the tail of its error output."""

    def __init__(self, tool: str, message: str, detail: str = "") -> None:
        super().__init__(f"{tool}: {message}" + (f": {detail}" if detail else ""))
        self.tool = tool
        self.detail = detail


class MediaTimeoutError(MediaToolError):
    """ffmpeg or ffprobe ran past its timeout and was killed."""


def safe_input(path: Path | str) -> list[str]:
    """The input options and ``-i`` argument that open one local file under the whitelists."""
    absolute = os.path.abspath(os.fspath(path))
    return [
        "-protocol_whitelist", SAFE_PROTOCOLS,
        "-format_whitelist", SAFE_DEMUXERS,
        "-i", f"file:{absolute}",
    ]


def ffmpeg_command(
    path: Path | str, output_args: Sequence[str], input_args: Sequence[str] = ()
) -> list[str]:
    """``ffmpeg`` reading one whitelisted input, quiet, never prompting."""
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        *input_args, *safe_input(path), *output_args,
    ]


def ffprobe_command(path: Path | str, extra_args: Sequence[str] = ()) -> list[str]:
    # ffprobe has no -nostdin (it never reads the terminal); run_media_tool gives it /dev/null.
    absolute = os.path.abspath(os.fspath(path))
    return [
        "ffprobe", "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", SAFE_PROTOCOLS, "-format_whitelist", SAFE_DEMUXERS,
        *extra_args, f"file:{absolute}",
    ]


def run_media_tool(
    command: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S, stdin_bytes: bytes | None = None
) -> bytes:
    """Run ffmpeg/ffprobe to completion and return stdout; raise with stderr on failure.

    The tool runs in its own process group so that a timeout kills it and any helper it spawned.
    """
    tool = Path(command[0]).name
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(input=stdin_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_process_group(process)
        process.communicate()
        raise MediaTimeoutError(tool, f"no result after {timeout:.0f} s (killed)") from None
    if process.returncode != 0:
        raise MediaToolError(tool, f"exit code {process.returncode}", stderr_tail(err))
    return out


def kill_process_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):  # it already ended
        os.killpg(process.pid, signal.SIGKILL)


# ffmpeg's log context, "[hls @ 0x5566e8ad47c0] ": the address changes on every run.
_LOG_CONTEXT = re.compile(r"^\[([^\]@]+?) @ 0x[0-9a-fA-F]+\]\s*")


def stderr_tail(err: bytes, limit: int = 400) -> str:
    text = err.decode("utf-8", "replace").strip()
    # The last lines say why; the path prefix ffmpeg puts on each line is noise for a reader, and
    # the context's memory address would make the same failure read differently on each run.
    lines = [line.split(": ", 1)[-1] if line.startswith("file:") else line for line in text.splitlines()]
    lines = [_LOG_CONTEXT.sub(r"\1: ", line) for line in lines]
    return " | ".join(lines[-3:])[-limit:]
