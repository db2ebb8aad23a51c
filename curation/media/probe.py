"""Facts about one media file from ffprobe (through ffmpeg-python), under the safe whitelists.

Whether the frame rate is variable is decided from the presentation timestamps of the first
packets, read in the same ffprobe call: the container's ``avg_frame_rate`` and ``r_frame_rate``
disagree for many constant-rate files (an edit list that trims the audio priming is enough), so
comparing them alone calls such files variable and gives them a wrong frame rate.
"""

import itertools
import json
import math
import statistics
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


# Packets (of all streams) read for the timestamp check: a few seconds of a typical file.
PACKET_SAMPLE = 400
# With B-frames, the last packets read in decoding order leave gaps in presentation order.
_REORDER_TAIL = 16
_INT_MAX = 2**31 - 1  # ffmpeg's bound for -max_pixels


def probe_media(path: Path | str, timeout: float = 60.0, max_pixels: int | None = None) -> MediaInfo:
    """Probe one file; ``max_pixels`` stops ffprobe's own decoder from allocating frames for a
    header that claims a giant picture (it then fails with "Picture size WxH exceeds ...")."""
    limit = ["-max_pixels", str(min(max_pixels, _INT_MAX))] if max_pixels else []
    command = ffprobe_command(
        path,
        [
            *limit,
            "-show_format", "-show_streams",
            "-show_entries", "packet=stream_index,pts", "-read_intervals", f"%+#{PACKET_SAMPLE}",
            "-of", "json",
        ],
    )
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
    fps, variable = _frame_rate(video, data.get("packets") or []) if video else (0.0, False)
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


def _frame_rate(video: dict[str, Any], packets: list[dict[str, Any]]) -> tuple[float, bool]:
    """(frames per second, variable?) from the packet timestamps, else from the stream's rates."""
    avg = _rate(video.get("avg_frame_rate"))
    real = _rate(video.get("r_frame_rate"))
    deltas = _pts_deltas(video, packets)
    if len(deltas) < 2:
        return avg or real, bool(avg and real and abs(avg - real) / real > 0.01)
    tick = float(_fraction(video.get("time_base")) or 0)
    typical = statistics.median(deltas)
    # Timestamps are rounded to the time base (29.97 frames/s in milliseconds: 33, 33, 34 ms).
    variable = typical <= 0 or max(deltas) - min(deltas) > max(2 * tick, 0.01 * typical)
    if variable:
        # The mean rate over the whole stream; the timestamps show only the first seconds.
        return avg or (1 / typical if typical > 0 else real), True
    measured = 1 / typical
    # Prefer the container's exact rational rate (30000/1001) when it agrees with the timestamps.
    return (real if real and abs(real - measured) / measured < 0.01 else measured), False


def _pts_deltas(video: dict[str, Any], packets: list[dict[str, Any]]) -> list[float]:
    """Seconds between consecutive presentation timestamps of the video stream's first packets."""
    base = _fraction(video.get("time_base"))
    index = video.get("index")
    if base is None or index is None:
        return []
    pts = sorted(int(p["pts"]) for p in packets if p.get("stream_index") == index and p.get("pts") is not None)
    if len(packets) >= PACKET_SAMPLE:
        pts = pts[:-_REORDER_TAIL]
    return [float((b - a) * base) for a, b in itertools.pairwise(pts)]


def _fraction(text: str | None) -> Fraction | None:
    try:
        value = Fraction(text) if text else None
    except (ValueError, ZeroDivisionError):
        return None
    return value if value else None


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
