"""The facts kept about one media file, decided by one set of rules whichever reader took them.

Two readers say what the container holds: ffprobe in a process (``probe``) and the FFmpeg
libraries in this process (``inprocess_probe``). Each fills ``VideoStreamFacts`` and
``AudioStreamFacts`` with what the demuxer says, and ``media_info`` decides the rest, so the two
cannot drift apart: which duration counts, the displayed size under rotation, the frame count
when the container gives none, and the frame rate.

Whether the frame rate is variable is decided from the presentation timestamps of the first
packets (``PACKET_SAMPLE`` of all streams, in reading order): the container's ``avg_frame_rate``
and ``r_frame_rate`` disagree for many constant-rate files (an edit list that trims the audio
priming is enough), so comparing them alone calls such files variable and gives them a wrong
frame rate.
"""

import itertools
import math
import statistics
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any


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


@dataclass(frozen=True)
class VideoStreamFacts:
    """What the demuxer says about the video stream (not cover art), before any rule is applied."""

    codec: str | None
    coded_width: int  # before rotation
    coded_height: int
    rotation: int  # degrees clockwise, as ``MediaInfo.rotation``
    avg_rate: float  # frames per second over the stream (ffprobe's avg_frame_rate), 0 if unknown
    real_rate: float  # the lowest rate all timestamps fit (r_frame_rate), 0 if unknown
    time_base: Fraction | None
    declared_frames: int  # 0 when the container does not say
    duration_s: float | None
    # presentation timestamps (in time_base) of this stream's packets among the first
    # PACKET_SAMPLE packets of the file, in reading order
    first_pts: tuple[int, ...]


@dataclass(frozen=True)
class AudioStreamFacts:
    codec: str | None
    sample_rate: int | None
    channels: int | None
    duration_s: float | None


def media_info(
    container: str,
    duration_s: float | None,
    video: VideoStreamFacts | None,
    audio: AudioStreamFacts | None,
    sample_full: bool,
) -> MediaInfo:
    """The facts from what a reader found; ``sample_full``: the packet sample stopped at
    ``PACKET_SAMPLE`` packets (more followed), so its last ones may be out of presentation order."""
    # The container's duration, else the video stream's, else the audio stream's.
    candidates = (duration_s, video.duration_s if video else None, audio.duration_s if audio else None)
    duration = next((d for d in candidates if d is not None and math.isfinite(d) and d >= 0), 0.0)
    rotation = video.rotation if video else 0
    width, height = (video.coded_width, video.coded_height) if video else (0, 0)
    if rotation % 180:
        width, height = height, width
    fps, variable = _frame_rate(video, sample_full) if video else (0.0, False)
    declared = video.declared_frames if video else 0
    n_frames = declared or (int(round(duration * fps)) if fps and duration else 0)
    return MediaInfo(
        container=container,
        duration_s=duration,
        has_video=video is not None,
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        variable_fps=variable,
        n_frames=n_frames,
        video_codec=video.codec if video else None,
        has_audio=audio is not None,
        audio_codec=audio.codec if audio else None,
        audio_sample_rate=audio.sample_rate if audio else None,
        audio_channels=audio.channels if audio else None,
    )


def _frame_rate(video: VideoStreamFacts, sample_full: bool) -> tuple[float, bool]:
    """(frames per second, variable?) from the packet timestamps, else from the stream's rates."""
    avg, real = video.avg_rate, video.real_rate
    deltas = _pts_deltas(video, sample_full)
    if len(deltas) < 2:
        return avg or real, bool(avg and real and abs(avg - real) / real > 0.01)
    tick = float(video.time_base or 0)
    typical = statistics.median(deltas)
    # Timestamps are rounded to the time base (29.97 frames/s in milliseconds: 33, 33, 34 ms).
    variable = typical <= 0 or max(deltas) - min(deltas) > max(2 * tick, 0.01 * typical)
    if variable:
        # The mean rate over the whole stream; the timestamps show only the first seconds.
        return avg or (1 / typical if typical > 0 else real), True
    measured = 1 / typical
    # Prefer the container's exact rational rate (30000/1001) when it agrees with the timestamps.
    return (real if real and abs(real - measured) / measured < 0.01 else measured), False


def _pts_deltas(video: VideoStreamFacts, sample_full: bool) -> list[float]:
    """Seconds between consecutive presentation timestamps of the video stream's first packets."""
    base = video.time_base
    if base is None:
        return []
    pts = sorted(video.first_pts)
    if sample_full:
        pts = pts[:-_REORDER_TAIL]
    return [float((b - a) * base) for a, b in itertools.pairwise(pts)]
