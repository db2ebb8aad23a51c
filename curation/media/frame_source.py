"""Decode a video once, at an analysis resolution and frame rate, as a stream of RGB frames.

Frames come one at a time from an ffmpeg pipe, so memory holds one frame however long the video
is. The ``fps`` filter emits frame ``i`` at exactly ``t0 + i / fps`` seconds of the source (the
frame shown at that instant), which are the timestamps given with each frame. Rotation from the
display matrix is applied by ffmpeg, so frames are upright.
"""

import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from curation.media.ffmpeg_runner import (
    MediaTimeoutError,
    MediaToolError,
    ffmpeg_command,
    kill_process_group,
    stderr_tail,
)


@dataclass(frozen=True)
class AnalysisGeometry:
    """Size of the analysis frames and their scale relative to the displayed source."""

    width: int
    height: int
    scale: float  # analysis pixels per source pixel (<= 1: never upscaled)

    @classmethod
    def for_source(cls, source_width: int, source_height: int, short_side: int) -> "AnalysisGeometry":
        scale = min(1.0, short_side / max(1, min(source_width, source_height)))
        width = max(2, int(round(source_width * scale / 2)) * 2)
        height = max(2, int(round(source_height * scale / 2)) * 2)
        return cls(width, height, width / max(1, source_width))


@dataclass(frozen=True)
class Frame:
    index: int
    t: float  # seconds of the source
    rgb: np.ndarray  # (height, width, 3) uint8


def decode_frames(
    path: str,
    geometry: AnalysisGeometry,
    fps: float,
    timeout_s: float,
    threads: int = 1,
    start_time: float = 0.0,
) -> Iterator[Frame]:
    """Yield analysis frames from ``start_time`` seconds on (ffmpeg seeks there, so the first frame
    is the source's frame at that time); raise ``MediaToolError`` if ffmpeg fails before the end."""
    seek = ["-ss", f"{start_time:.3f}"] if start_time > 0 else []
    filters = f"fps={fps:g}:round=near,scale={geometry.width}:{geometry.height}:flags=area,format=rgb24"
    command = ffmpeg_command(
        path,
        ["-map", "0:v:0", "-an", "-sn", "-dn", "-vf", filters, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        input_args=["-threads", str(threads), *seek],
    )
    frame_bytes = geometry.width * geometry.height * 3
    with tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_file, start_new_session=True
        )
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            kill_process_group(process)

        watchdog = threading.Timer(timeout_s, on_timeout)
        watchdog.daemon = True
        watchdog.start()
        index = 0
        try:
            assert process.stdout is not None
            while True:
                buffer = _read_exact(process.stdout, frame_bytes)
                if buffer is None:
                    break
                rgb = np.frombuffer(buffer, np.uint8).reshape(geometry.height, geometry.width, 3)
                yield Frame(index, start_time + index / fps, rgb)
                index += 1
        finally:
            watchdog.cancel()
            if process.poll() is None:
                kill_process_group(process)
            process.wait()
        if timed_out.is_set():
            raise MediaTimeoutError("ffmpeg", f"decoding took longer than {timeout_s:.0f} s (killed)")
        if process.returncode != 0 and index == 0:
            err_file.seek(0)
            raise MediaToolError("ffmpeg", f"decoding failed (exit {process.returncode})", stderr_tail(err_file.read()))


def _read_exact(stream: "os.PathLike | object", n: int) -> bytes | None:
    chunks, remaining = [], n
    while remaining:
        chunk = stream.read(remaining)  # type: ignore[attr-defined]
        if not chunk:
            return None  # end of stream (a partial last frame is dropped)
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks) if len(chunks) > 1 else chunks[0]
