"""Stream raw frames into ffmpeg and mux them with a WAV: H.264 + AAC in MP4, constant frame rate.

ffmpeg runs from an argument list (no shell) in its own process group, with a watchdog that kills
it past the timeout, and bit-exact flags so the same frames and audio give the same bytes.
The file appears under its final name only when complete.
"""

import contextlib
import subprocess
import threading
from pathlib import Path
from types import TracebackType

import numpy as np

from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError, kill_process_group, stderr_tail

ENCODE_TIMEOUT_S = 300.0


class Mp4Writer:
    def __init__(
        self, path: Path, width: int, height: int, fps: int, audio_wav: Path, timeout_s: float = ENCODE_TIMEOUT_S
    ) -> None:
        self.path = path
        self.size = (width, height)
        self._partial = path.with_name(path.name + ".part")
        self._timed_out = threading.Event()
        command = [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-framerate", str(fps),
            "-i", "pipe:0",
            "-protocol_whitelist", "file,pipe", "-f", "wav", "-i", f"file:{audio_wav.resolve()}",
            "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-g", str(2 * fps), "-threads", "2",
            "-c:a", "aac", "-b:a", "64k", "-ac", "1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-movflags", "+faststart",
            "-f", "mp4", str(self._partial),
        ]  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(  # argument list, no shell
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._watchdog = threading.Timer(timeout_s, self._kill_on_timeout)
        self._watchdog.daemon = True
        self._watchdog.start()
        self._timeout_s = timeout_s

    def _kill_on_timeout(self) -> None:
        self._timed_out.set()
        kill_process_group(self._process)

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 {self.size[1]}x{self.size[0]}x3, got {frame.dtype} {frame.shape}")
        try:
            self._process.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            self.close()  # raises with ffmpeg's own explanation
            raise

    def close(self) -> None:
        if self._process.stdin and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
        error = self._process.stderr.read() if self._process.stderr else b""
        code = self._process.wait()
        self._watchdog.cancel()
        if self._timed_out.is_set():
            raise MediaTimeoutError("ffmpeg", f"encoding {self.path.name} took over {self._timeout_s:.0f} s (killed)")
        if code != 0:
            raise MediaToolError("ffmpeg", f"encoding {self.path.name}: exit code {code}", stderr_tail(error))
        self._partial.replace(self.path)

    def abort(self) -> None:
        self._watchdog.cancel()
        kill_process_group(self._process)
        self._process.wait()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> "Mp4Writer":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is None:
            self.close()
        else:
            self.abort()
