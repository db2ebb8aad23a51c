"""Open one local media file in this process (the FFmpeg libraries, through PyAV), under the
guards ``ffmpeg_runner`` puts on an ffmpeg process.

Starting ffprobe or ffmpeg costs about 80 ms a call on a small machine, more than probing or
demuxing a short clip, so the probe, the packet check and the audio decode can run in the
worker's own process instead. The guards are the same. The file is opened as
``file:<absolute path>`` with only the ``file`` protocol and the demuxers of ``SAFE_DEMUXERS``
allowed, so a playlist, a concat script or an image sequence is refused before it can open
anything else. ``max_pixels`` reaches the decoders FFmpeg opens while it reads the stream
parameters (what ``-max_pixels`` does for ffprobe), and a stream that still claims more is
refused before anyone decodes it. A call in this process cannot be killed as a process is:
FFmpeg's interrupt callback ends an open or a read that runs past the ``Deadline``, and callers
check it between packets. A read blocked in the kernel (a FIFO with no writer) escapes both,
which is one reason the probe stage opens regular files only.

FFmpeg says why it refused a file only in its log, which PyAV drops by default. While a file is
opened, its error lines are kept and become the error's detail, in the form ``stderr_tail`` gives
an ffmpeg process's ("hls: Format not on whitelist ..."), so callers read one vocabulary from
both tools.
"""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.logging
from av.container import InputContainer
from av.video.stream import VideoStream

from curation.media.ffmpeg_runner import SAFE_DEMUXERS, MediaTimeoutError, MediaToolError

TOOL = "ffmpeg libraries (PyAV)"
# No ``pipe``: in this process, files are opened by name only.
_PROTOCOLS = "file"
_INT_MAX = 2**31 - 1  # FFmpeg's bound for max_pixels
_DETAIL_LINES, _DETAIL_CHARS = 3, 400  # as much as stderr_tail keeps of an ffmpeg process's


@dataclass
class Deadline:
    """The time limit of one call, counted from its start."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.started + self.seconds - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise self.expired()

    def expired(self) -> MediaTimeoutError:
        return MediaTimeoutError(TOOL, f"no result after {self.seconds:g} s (stopped)")


@contextmanager
def open_input(path: Path | str, deadline: Deadline, max_pixels: int | None = None) -> Iterator[InputContainer]:
    """The file opened under the whitelists; raises ``MediaToolError`` (detail: FFmpeg's own
    words) when it cannot be, and ``MediaTimeoutError`` when the deadline passes while opening or
    while the caller reads it."""
    # Checked here as well: PyAV takes a limit at or below zero as no limit at all.
    deadline.check()
    url = "file:" + os.path.abspath(os.fsdecode(path))
    limits = {"max_pixels": str(min(max_pixels, _INT_MAX))} if max_pixels else {}
    with _error_log() as logs:
        try:
            container = av.open(
                url,
                container_options={"protocol_whitelist": _PROTOCOLS, "format_whitelist": SAFE_DEMUXERS},
                options=limits,
                timeout=deadline.remaining(),
            )
        except av.ExitError:
            raise deadline.expired() from None
        except (av.FFmpegError, OSError) as error:
            raise MediaToolError(TOOL, "cannot open the file", _detail(logs, error)) from error
    with container:
        if max_pixels:
            _refuse_giant_pictures(container, max_pixels)
        try:
            yield container
        except av.ExitError:
            # FFmpeg's interrupt callback ended a read that outlived the deadline.
            raise deadline.expired() from None


def guard_decoder(stream: VideoStream, max_pixels: int | None) -> None:
    """One thread, and the picture limit, for a decoder the caller opens on ``stream``."""
    stream.codec_context.thread_count = 1
    if max_pixels:
        stream.codec_context.options = {"max_pixels": str(min(max_pixels, _INT_MAX))}


def _refuse_giant_pictures(container: InputContainer, max_pixels: int) -> None:
    """The decoders FFmpeg opened to read the stream parameters refused a giant picture, but the
    stream still claims it: refuse the file, in the words FFmpeg uses (``av_image_check_size2``)."""
    limit = min(max_pixels, _INT_MAX)
    for stream in container.streams.video:
        context = stream.codec_context
        if context is not None and context.width * context.height > limit:
            raise MediaToolError(
                TOOL,
                "picture too large",
                f"Picture size {context.width}x{context.height} exceeds specified max pixel count {limit}",
            )


# PyAV's log setting belongs to the whole process: one open at a time changes it.
_LOG_LOCK = threading.Lock()


@contextmanager
def _error_log() -> Iterator[list[tuple[int, str, str]]]:
    """(level, context, message) of what FFmpeg logs in this thread meanwhile, errors and worse.

    Repeats are let through while it runs: PyAV holds a repeated line back and lets it out with
    the next different one, which would put an earlier file's line into a later file's detail.
    """
    with _LOG_LOCK:
        level, skip_repeated = av.logging.get_level(), av.logging.get_skip_repeated()
        av.logging.set_level(av.logging.ERROR)
        av.logging.set_skip_repeated(False)
        try:
            with av.logging.Capture() as logs:
                yield logs
        finally:
            av.logging.set_skip_repeated(skip_repeated)
            av.logging.set_level(level)


def _detail(logs: list[tuple[int, str, str]], error: Exception) -> str:
    """FFmpeg's error lines and then the error itself, "context: message" as ``stderr_tail``
    writes an ffmpeg process's, each once, the last few."""
    lines = [f"{name}: {text.strip()}" if name else text.strip() for lvl, name, text in logs if lvl <= av.logging.ERROR]
    lines.append(str(getattr(error, "strerror", None) or error))
    return " | ".join(list(dict.fromkeys(lines))[-_DETAIL_LINES:])[-_DETAIL_CHARS:]
