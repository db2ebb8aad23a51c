"""Cut one segment from a source video into a small square H.264 clip, reproducibly.

Input-side seeking with re-encoding is frame-accurate and starts the clip on a keyframe (no
broken first GOP). ``-bitexact`` and stripped metadata make the bytes depend only on the input
and the settings, so re-running a run yields byte-identical clips. A VBV cap bounds the bitrate.
"""

import os
import tempfile
from dataclasses import dataclass

from curation.media.ffmpeg_runner import ffmpeg_command, run_media_tool


@dataclass(frozen=True)
class CropBox:
    x: int
    y: int
    side: int


def performer_crop(face_box_norm: tuple[float, float, float, float], width: int, height: int, scale: float) -> CropBox:
    """A square around the face (``scale`` face heights wide), a little below centre, in the frame."""
    x0, y0, x1, y1 = face_box_norm
    face_h = (y1 - y0) * height
    side = int(min(width, height, max(16, round(scale * face_h))))
    side -= side % 2
    cx = (x0 + x1) / 2 * width
    cy = (y0 + y1) / 2 * height + 0.15 * face_h  # include chin and shoulders
    x = int(round(min(max(cx - side / 2, 0), width - side)))
    y = int(round(min(max(cy - side / 2, 0), height - side)))
    return CropBox(x - x % 2, y - y % 2, side)


def encode_clip(
    source: str,
    t_start: float,
    duration: float,
    crop: CropBox,
    size: int,
    fps: float,
    crf: int = 23,
    max_kbps: int = 1500,
    timeout: float = 300.0,
) -> bytes:
    frames = int(round(duration * fps))
    with tempfile.TemporaryDirectory(prefix="lpm-clip-") as tmp:
        out = os.path.join(tmp, "clip.mp4")
        command = ffmpeg_command(
            source,
            [
                "-map",
                "0:v:0",
                "-an",
                "-sn",
                "-dn",
                "-vf",
                f"fps={fps:g}:round=near,crop={crop.side}:{crop.side}:{crop.x}:{crop.y},"
                f"scale={size}:{size}:flags=area,format=yuv420p",
                "-frames:v",
                str(frames),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                str(crf),
                "-maxrate",
                f"{max_kbps}k",
                "-bufsize",
                f"{2 * max_kbps}k",
                "-g",
                str(int(2 * fps)),
                "-threads",
                "1",
                "-map_metadata",
                "-1",
                "-fflags",
                "+bitexact",
                "-flags:v",
                "+bitexact",
                "-movflags",
                "+faststart",
                out,
            ],
            input_args=["-ss", f"{t_start:.6f}"],
        )
        run_media_tool(command, timeout=timeout)
        with open(out, "rb") as f:
            return f.read()
