"""Thumbnail strips for the audit gallery: a few frames side by side, as one JPEG."""

import base64
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from curation.media.ffmpeg_runner import MediaToolError, ffmpeg_command, run_media_tool

THUMB_HEIGHT = 96


def strip_from_video(path: str | Path, times: list[float], timeout: float = 60.0) -> bytes | None:
    """Frames at ``times`` (seconds) side by side; ``None`` when the video cannot be read there."""
    frames = []
    for t in times:
        command = ffmpeg_command(
            path,
            ["-frames:v", "1", "-vf", f"scale=-2:{THUMB_HEIGHT}", "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"],
            input_args=["-ss", f"{max(0.0, t):.3f}"],
        )
        try:
            data = run_media_tool(command, timeout=timeout)
        except MediaToolError:
            continue
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if image is not None:
            frames.append(image)
    if not frames:
        return None
    ok, encoded = cv2.imencode(".jpg", np.hstack(frames), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return encoded.tobytes() if ok else None


def strip_from_clip(mp4: bytes, duration: float, n: int = 4) -> bytes | None:
    with tempfile.TemporaryDirectory(prefix="lpm-audit-") as tmp:
        path = os.path.join(tmp, "clip.mp4")
        Path(path).write_bytes(mp4)
        return strip_from_video(path, [duration * (i + 0.5) / n for i in range(n)])


def data_uri(jpeg: bytes | None, fallback_text: str) -> str:
    if jpeg is None:
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="384" height="{THUMB_HEIGHT}">'
            f'<rect width="100%" height="100%" fill="#ddd"/><text x="10" y="52" font-size="14" '
            f'font-family="sans-serif" fill="#555">{_escape(fallback_text)[:60]}</text></svg>'
        )
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
