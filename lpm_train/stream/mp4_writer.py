"""Writes generated frames to an mp4 chunk by chunk, muxed with the driving audio.

Frames go to an ``ffmpeg`` process through a pipe as each chunk is produced, so a stream of any
length is encoded without holding it in memory. The file appears under its final name only
when complete (temporary name + ``os.replace``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import torch


def frames_to_uint8(frames: torch.Tensor) -> bytes:
    """``[T, C, H, W]`` in [-1, 1] -> packed RGB24 bytes, frame after frame."""
    pixels = ((frames.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().cpu().numpy().tobytes()


class ChunkedMp4Writer:
    def __init__(self, path: Path, fps: float, size: int, audio: Path | None = None, timeout_s: float = 600.0):
        self.path, self.timeout_s = Path(path), timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.mp4")
        command = [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{size}x{size}",
            "-r",
            f"{fps}",
            "-i",
            "pipe:0",
        ]
        if audio is not None:
            # apad + shortest: audio is cut to the video, or padded with silence if the stream
            # outlasts it, so the file always ends with the last generated frame.
            command += [
                "-i",
                str(audio),
                "-map",
                "0:v:0",
                "-map",
                "1:a:0",
                "-af",
                "apad",
                "-shortest",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
            ]
        command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(self.tmp)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        self.frames = 0

    def write(self, frames: torch.Tensor) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frames_to_uint8(frames))
        self.process.stdin.flush()
        self.frames += frames.shape[0]

    def close(self) -> Path:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        if self.process.returncode != 0:
            error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            self.tmp.unlink(missing_ok=True)
            raise RuntimeError(f"ffmpeg failed ({self.process.returncode}): {error.strip()[-500:]}")
        os.replace(self.tmp, self.path)
        return self.path
