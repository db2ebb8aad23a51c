"""Facts about one media file from ffprobe (through ffmpeg-python), under the safe whitelists."""

import json
import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from curation.media.ffmpeg_runner import (
    SAFE_DEMUXERS,
    SAFE_PROTOCOLS,
    ffprobe_command,
    run_media_tool,
)


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration_s: float
    has_video: bool
    width: int  # displayed size, rotation applied
    height: int
    rotation: int  # degrees clockwise the player rotates the coded picture
    fps: float
    variable_fps: bool
    n_frames: int  # from the container when it says, else duration x fps
    video_codec: str | None
    has_audio: bool
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def probe_media(path: Path | str, timeout: float = 60.0) -> MediaInfo:
    command = ffprobe_command(path, ["-show_format", "-show_streams", "-of", "json"])
    data = json.loads(run_media_tool(command, timeout=timeout) or b"{}")
    return media_info_from_probe(data)


def ffmpeg_python_probe_args() -> dict[str, str]:
    """The whitelist options in the keyword form ``ffmpeg.probe`` accepts (for callers using it)."""
    return {"protocol_whitelist": SAFE_PROTOCOLS, "format_whitelist": SAFE_DEMUXERS}


def media_info_from_probe(data: dict[str, Any]) -> MediaInfo:
    streams = data.get("streams", [])
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = data.get("format", {})
    duration = _first_number(fmt.get("duration"), (video or {}).get("duration"), (audio or {}).get("duration"))
    rotation = _rotation(video) if video else 0
    width, height = (int(video.get("width", 0)), int(video.get("height", 0))) if video else (0, 0)
    if rotation % 180:
        width, height = height, width
    avg = _rate(video.get("avg_frame_rate")) if video else 0.0
    real = _rate(video.get("r_frame_rate")) if video else 0.0
    fps = avg or real
    variable = bool(avg and real and abs(avg - real) / real > 0.01)
    declared = int(video.get("nb_frames", 0) or 0) if video else 0
    n_frames = declared or (int(round(duration * fps)) if fps and duration else 0)
    return MediaInfo(
        container=str(fmt.get("format_name", "")),
        duration_s=duration,
        has_video=video is not None,
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        variable_fps=variable,
        n_frames=n_frames,
        video_codec=video.get("codec_name") if video else None,
        has_audio=audio is not None,
        audio_codec=audio.get("codec_name") if audio else None,
        audio_sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        audio_channels=int(audio["channels"]) if audio and audio.get("channels") else None,
    )


def _first_number(*values: Any) -> float:
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and number >= 0:
            return number
    return 0.0


def _rate(text: str | None) -> float:
    if not text or text in ("0/0", "0/1"):
        return 0.0
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return 0.0


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            # ffprobe reports the display matrix as counter-clockwise degrees
            return int(-float(side["rotation"])) % 360
    rotate = stream.get("tags", {}).get("rotate")
    return int(rotate) % 360 if rotate else 0
