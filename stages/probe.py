"""Probe each input: container facts, and early rejection of what cannot be a training video.

Two tools can read a file: the FFmpeg libraries in this worker's process (``inprocess``, the
default) or ffprobe and ffmpeg processes (``ffmpeg``), each under the same whitelists and limits.
Both give the same rejections and the same facts but one (the mp4 duration, see ``tool``); a
refusal is told from the tool's own words, which are FFmpeg's in both cases.
"""

import os
import re
import stat
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from curation.ingest.local_copy import local_media
from curation.media.demux_check import demux_errors, demux_errors_inprocess
from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError
from curation.media.inprocess_probe import probe_media_inprocess
from curation.media.media_info import MediaInfo
from curation.media.media_sniffer import looks_like_mp4, sniff_non_video
from curation.media.probe import probe_media
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
    # 3: read in process by default; FFmpeg 8's mp4 duration is the tracks' extent, not the header's.
    version: ClassVar[int] = 3

    timeout_s: float = field(default=60.0, metadata={"range": (1, 3600)})
    min_duration_s: float = field(default=1.0, metadata={"range": (0, None)})
    min_frames: int = field(default=2, metadata={"range": (1, None)})
    min_short_side: int = field(default=64, metadata={"range": (1, None)})
    # 8K UHD is 33 Mpx; anything claiming far more is a decode bomb or a broken header.
    max_pixels: int = field(default=40_000_000, metadata={"range": (1, None)})
    require_audio: bool = False
    # Read every packet once (no decoding) to catch files cut short or corrupted after the header.
    check_packets: bool = True
    # Who reads the file, for the probe and the packet check: the FFmpeg libraries in this process
    # (curation.media.inprocess_probe), or ffprobe and ffmpeg processes, ~80 ms each to start.
    # On the 82 shared clips both gave the same facts but the duration of mp4 files: the FFmpeg 8
    # in PyAV takes it from the tracks, Debian's ffprobe 5.1 from the movie header (0.018 s apart
    # on average, 0.064 s at most, and whatever a forged header claims).
    tool: Literal["inprocess", "ffmpeg"] = "inprocess"

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
            info = _PROBES[self.tool](path, timeout=self.timeout_s, max_pixels=self.max_pixels)
        except MediaTimeoutError:
            raise
        except MediaToolError as err:
            work.reject(self.name, *_probe_failure(err.detail, path, err.tool))
            return work
        work.video = info
        rejection = self._check(info)
        if rejection is None and self.check_packets:
            errors = _PACKET_CHECKS[self.tool](path, timeout=self.timeout_s)
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
            return Reason.RESOLUTION_TOO_LARGE, f"{info.width}x{info.height} exceeds max_pixels={self.max_pixels}"
        if min(info.width, info.height) < self.min_short_side:
            return Reason.RESOLUTION_TOO_SMALL, f"{info.width}x{info.height} below min_short_side={self.min_short_side}"
        if info.duration_s < self.min_duration_s:
            return Reason.TOO_SHORT, f"{info.duration_s:.3f} s below min_duration_s={self.min_duration_s}"
        if info.n_frames < self.min_frames:
            return Reason.TOO_FEW_FRAMES, f"{info.n_frames} frame(s) below min_frames={self.min_frames}"
        if self.require_audio and not info.has_audio:
            return Reason.NO_AUDIO_STREAM, "no audio stream and the workflow requires audio"
        return None


# What each ``tool`` runs: the same facts, the same descriptions of damage.
_PROBES = {"inprocess": probe_media_inprocess, "ffmpeg": probe_media}
_PACKET_CHECKS = {"inprocess": demux_errors_inprocess, "ffmpeg": demux_errors}


def _read_failure(err: OSError) -> tuple[Reason, str]:
    if isinstance(err, FileNotFoundError):
        return Reason.MISSING_FILE, "the file disappeared between discovery and probing"
    if isinstance(err, PermissionError):
        return Reason.PERMISSION_DENIED, f"the file cannot be read: {err.strerror}"
    if isinstance(err, IsADirectoryError):
        return Reason.NOT_A_FILE, "the path became a directory between discovery and probing"
    return Reason.UNREADABLE, f"read error: {err}"


_HLS_NOT_DETECTED = "not detecting m3u8/hls"


def _probe_failure(detail: str, path: str, tool: str) -> tuple[Reason, str]:
    lowered = detail.lower()
    if "whitelist" in lowered or _HLS_NOT_DETECTED in lowered:
        refused = re.search(r"([\w,]+): format not on whitelist", lowered)
        # FFmpeg 8 (PyAV's) does not take an HLS playlist under another extension for one; it
        # logs that it would not, and opens nothing.
        name = refused.group(1) if refused else ("hls" if _HLS_NOT_DETECTED in lowered else "")
        what = f"the {name} format" if name else "the format"
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
        return Reason.NOT_A_VIDEO, f"no media container recognised in the bytes ({tool})"
    return Reason.UNREADABLE, f"{tool} could not read it: {detail}"


def _starts_like_mp4(path: str) -> bool:
    try:
        return looks_like_mp4(path)
    except OSError:
        return False
