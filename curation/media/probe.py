"""Facts about one media file from ffprobe (in a process), under the safe whitelists.

One ffprobe call gives the container, the streams and the timestamps of the first
``PACKET_SAMPLE`` packets as JSON; ``media_info_from_probe`` turns that into the same
``MediaInfo`` the in-process reader (``inprocess_probe``) gives, through the shared rules of
``media_info`` (which duration counts, rotation, frame rate and whether it varies).
"""

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from curation.media.ffmpeg_runner import (
    ffprobe_command,
    run_media_tool,
)
from curation.media.media_info import (
    PACKET_SAMPLE,
    AudioStreamFacts,
    MediaInfo,
    VideoStreamFacts,
    media_info,
)

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
    )  # fmt: skip
    data = json.loads(run_media_tool(command, timeout=timeout) or b"{}")
    return media_info_from_probe(data)


def media_info_from_probe(data: dict[str, Any]) -> MediaInfo:
    """``MediaInfo`` from ffprobe's JSON (``-show_format -show_streams`` and the packet sample)."""
    streams = data.get("streams", [])
    video = next(
        (s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = data.get("format", {})
    packets = data.get("packets") or []
    return media_info(
        container=str(fmt.get("format_name", "")),
        duration_s=_seconds(fmt.get("duration")),
        video=_video_facts(video, packets) if video else None,
        audio=_audio_facts(audio) if audio else None,
        sample_full=len(packets) >= PACKET_SAMPLE,
    )


def _video_facts(video: dict[str, Any], packets: list[dict[str, Any]]) -> VideoStreamFacts:
    index = video.get("index")
    pts = (
        tuple(int(p["pts"]) for p in packets if p.get("stream_index") == index and p.get("pts") is not None)
        if index is not None
        else ()
    )
    return VideoStreamFacts(
        codec=video.get("codec_name"),
        coded_width=int(video.get("width", 0)),
        coded_height=int(video.get("height", 0)),
        rotation=_rotation(video),
        avg_rate=_rate(video.get("avg_frame_rate")),
        real_rate=_rate(video.get("r_frame_rate")),
        time_base=_fraction(video.get("time_base")),
        declared_frames=int(video.get("nb_frames", 0) or 0),
        duration_s=_seconds(video.get("duration")),
        first_pts=pts,
    )


def _audio_facts(audio: dict[str, Any]) -> AudioStreamFacts:
    return AudioStreamFacts(
        codec=audio.get("codec_name"),
        sample_rate=int(audio["sample_rate"]) if audio.get("sample_rate") else None,
        channels=int(audio["channels"]) if audio.get("channels") else None,
        duration_s=_seconds(audio.get("duration")),
    )


def _seconds(value: Any) -> float | None:
    """A number ffprobe printed (a string such as "3.522000", or "N/A")."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


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
