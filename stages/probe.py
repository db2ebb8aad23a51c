"""Probe each input: container facts, and early rejection of what cannot be a training video."""

import os
import re
import stat
from dataclasses import dataclass, field
from typing import ClassVar

from curation.ingest.local_copy import local_media
from curation.media.demux_check import demux_errors
from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError
from curation.media.media_sniffer import looks_like_mp4, sniff_non_video
from curation.media.probe import MediaInfo, probe_media
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason


@dataclass
class ProbeStage(Stage):
    name: ClassVar[str] = "probe"
    adds: ClassVar[tuple[str, ...]] = ("video",)
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    # 2: frame rate and variable_fps from packet timestamps; files gone before probing rejected.
    version: ClassVar[int] = 2

    timeout_s: float = field(default=60.0, metadata={"range": (1, 3600)})
    min_duration_s: float = field(default=1.0, metadata={"range": (0, None)})
    min_frames: int = field(default=2, metadata={"range": (1, None)})
    min_short_side: int = field(default=64, metadata={"range": (1, None)})
    # 8K UHD is 33 Mpx; anything claiming far more is a decode bomb or a broken header.
    max_pixels: int = field(default=40_000_000, metadata={"range": (1, None)})
    require_audio: bool = False
    # Read every packet once (no decoding) to catch files cut short or corrupted after the header.
    check_packets: bool = True

    def process(self, work: VideoWork) -> VideoWork:
        path = local_media(work)
        try:
            # Checked first: opening a named pipe would block here, with no timeout to end it.
            if not stat.S_ISREG(os.stat(path).st_mode):
                work.reject(self.name, Reason.NOT_A_FILE, "not a regular file when probed")
                return work
            sniffed = sniff_non_video(path)
        except OSError as err:
            # Identified a moment ago, gone or unreadable now: a rejection, not a crash.
            work.reject(self.name, *_read_failure(err))
            return work
        if sniffed:
            work.reject(self.name, *sniffed)
            return work
        try:
            info = probe_media(path, timeout=self.timeout_s, max_pixels=self.max_pixels)
        except MediaTimeoutError:
            raise
        except MediaToolError as err:
            work.reject(self.name, *_probe_failure(err.detail, path))
            return work
        work.video.update(info.as_row())
        rejection = self._check(info)
        if rejection is None and self.check_packets:
            errors = demux_errors(path, timeout=self.timeout_s)
            if errors:
                rejection = (Reason.UNREADABLE, f"the file is damaged: {errors}")
        if rejection:
            work.reject(self.name, *rejection)
        return work

    def _check(self, info: MediaInfo) -> tuple[Reason, str] | None:
        if not info.has_video:
            what = "audio only" if info.has_audio else "no audio or video stream"
            return Reason.NO_VIDEO_STREAM, f"{what} ({info.container})"
        if info.width * info.height > self.max_pixels:
            return Reason.RESOLUTION_TOO_LARGE, (
                f"{info.width}x{info.height} exceeds max_pixels={self.max_pixels}"
            )
        if min(info.width, info.height) < self.min_short_side:
            return Reason.RESOLUTION_TOO_SMALL, f"{info.width}x{info.height} below min_short_side={self.min_short_side}"
        if info.duration_s < self.min_duration_s:
            return Reason.TOO_SHORT, f"{info.duration_s:.3f} s below min_duration_s={self.min_duration_s}"
        if info.n_frames < self.min_frames:
            return Reason.TOO_FEW_FRAMES, f"{info.n_frames} frame(s) below min_frames={self.min_frames}"
        if self.require_audio and not info.has_audio:
            return Reason.NO_AUDIO_STREAM, "no audio stream and the workflow requires audio"
        return None


def _read_failure(err: OSError) -> tuple[Reason, str]:
    if isinstance(err, FileNotFoundError):
        return Reason.MISSING_FILE, "the file disappeared between discovery and probing"
    if isinstance(err, PermissionError):
        return Reason.PERMISSION_DENIED, f"the file cannot be read: {err.strerror}"
    if isinstance(err, IsADirectoryError):
        return Reason.NOT_A_FILE, "the path became a directory between discovery and probing"
    return Reason.UNREADABLE, f"read error: {err}"


def _probe_failure(detail: str, path: str) -> tuple[Reason, str]:
    lowered = detail.lower()
    if "whitelist" in lowered:
        refused = re.search(r"([\w,]+): format not on whitelist", lowered)
        what = f"the {refused.group(1)} format" if refused else "the format"
        return Reason.UNSUPPORTED_CONTAINER, (
            f"{what} is not allowed: playlists, concat scripts and image sequences open other files"
        )
    oversized = re.search(r"picture size (\d+)x(\d+) exceeds specified max pixel count (\d+)", lowered)
    if oversized:
        width, height, limit = oversized.groups()
        return Reason.RESOLUTION_TOO_LARGE, f"{width}x{height} exceeds max_pixels={limit}"
    if "no such file" in lowered:
        return Reason.MISSING_FILE, "the file disappeared between discovery and probing"
    if "moov atom not found" in lowered:
        # ffprobe guesses mp4 from the name for any bytes it cannot place; only a file that
        # starts like an mp4 is a damaged one.
        if _starts_like_mp4(path):
            return Reason.UNREADABLE, "mp4 without its index (moov atom missing): the file is incomplete"
        return Reason.NOT_A_VIDEO, "no media container recognised in the bytes (not even a damaged mp4)"
    if "invalid data found" in lowered:
        return Reason.NOT_A_VIDEO, "ffprobe recognises no media container in the bytes"
    return Reason.UNREADABLE, f"ffprobe could not read it: {detail}"


def _starts_like_mp4(path: str) -> bool:
    try:
        return looks_like_mp4(path)
    except OSError:
        return False
