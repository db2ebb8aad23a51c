"""Probe each input: container facts, and early rejection of what cannot be a training video."""

from dataclasses import dataclass, field
from typing import ClassVar

from curation.ingest.local_copy import ensure_local
from curation.media.demux_check import demux_errors
from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError
from curation.media.media_sniffer import sniff_non_video
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
        path = ensure_local(work.uri, work.video_id or "", work.local_path)
        work.local_path = path
        sniffed = sniff_non_video(path)
        if sniffed:
            work.reject(self.name, *sniffed)
            return work
        try:
            info = probe_media(path, timeout=self.timeout_s)
        except MediaTimeoutError:
            raise
        except MediaToolError as err:
            work.reject(self.name, *_probe_failure(err.detail))
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

    def _check(self, info) -> tuple[Reason, str] | None:  # noqa: ANN001 - MediaInfo
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


def _probe_failure(detail: str) -> tuple[Reason, str]:
    lowered = detail.lower()
    if "whitelist" in lowered:
        return Reason.UNSUPPORTED_CONTAINER, f"container not allowed (it could open other files): {detail}"
    if "moov atom not found" in lowered:
        return Reason.UNREADABLE, "mp4 without its index (moov atom missing): the file is incomplete"
    if "invalid data found" in lowered:
        return Reason.NOT_A_VIDEO, "ffprobe recognises no media container in the bytes"
    return Reason.UNREADABLE, f"ffprobe could not read it: {detail}"
