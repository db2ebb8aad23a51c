"""Facts about one media file from the FFmpeg libraries in this process: ``probe_media``'s
``MediaInfo`` without starting ffprobe.

The reader takes from the demuxer what ffprobe prints (the container's name and duration, each
stream's codec, coded size, rates, time base and declared frame count, the timestamps of the first
``PACKET_SAMPLE`` packets of the file) and the shared rules of ``media_info`` decide the rest, so
both readers give the same facts. One fact PyAV does not show on a stream is its display matrix:
FFmpeg puts the stream's matrix on every decoded frame, so the first frame is decoded (one frame,
with the decoder held to ``max_pixels``) and its rotation read, in the clockwise degrees of
``MediaInfo.rotation``. A stream none of whose first packets decodes is taken as unrotated.
"""

from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from curation.media.inprocess_input import Deadline, guard_decoder, open_input
from curation.media.media_info import (
    PACKET_SAMPLE,
    AudioStreamFacts,
    MediaInfo,
    VideoStreamFacts,
    media_info,
)


def probe_media_inprocess(path: Path | str, timeout: float = 60.0, max_pixels: int | None = None) -> MediaInfo:
    """``probe_media`` in this process; the same errors (``MediaToolError`` with FFmpeg's words,
    ``MediaTimeoutError`` past ``timeout``), a file whose picture exceeds ``max_pixels`` refused."""
    deadline = Deadline(timeout)
    with open_input(path, deadline, max_pixels) as container:
        video = next((s for s in container.streams.video if not s.disposition & Disposition.attached_pic), None)
        audio = next(iter(container.streams.audio), None)
        first_pts, sample_full, rotation = _first_packets(container, video, deadline, max_pixels)
        duration = container.duration
        return media_info(
            container=container.format.name,
            duration_s=duration / av.time_base if duration is not None else None,
            video=_video_facts(video, first_pts, rotation) if video else None,
            audio=_audio_facts(audio) if audio else None,
            sample_full=sample_full,
        )


def _first_packets(
    container: InputContainer, video: VideoStream | None, deadline: Deadline, max_pixels: int | None
) -> tuple[tuple[int, ...], bool, int]:
    """(the video stream's timestamps among the first ``PACKET_SAMPLE`` packets, whether the
    sample reached that many, the stream's clockwise rotation). A read error ends the sample early,
    as it ends ffprobe's: the packet check is what reports damage."""
    pts: list[int] = []
    read = 0
    rotation = _FirstFrameRotation(video, max_pixels) if video is not None and video.codec_context else None
    try:
        for packet in container.demux():
            deadline.check()
            if packet.size == 0 and packet.dts is None:
                continue  # PyAV's end-of-stream packet, not one read from the file
            read += 1
            if video is not None and packet.stream_index == video.index:
                if packet.pts is not None:
                    pts.append(packet.pts)
                if rotation is not None:
                    rotation.feed(packet)
            if read >= PACKET_SAMPLE:
                break
    except av.ExitError:
        raise  # the deadline passed in a read: open_input makes it a MediaTimeoutError
    except av.FFmpegError:
        pass
    if rotation is not None:
        rotation.feed(None)  # the frames the decoder still holds
    return tuple(pts), read >= PACKET_SAMPLE, rotation.degrees if rotation is not None else 0


class _FirstFrameRotation:
    """The rotation FFmpeg puts on the first frame decoded from ``stream``, which is the stream's
    display matrix, in clockwise degrees (0 if no frame decodes)."""

    def __init__(self, stream: VideoStream, max_pixels: int | None) -> None:
        guard_decoder(stream, max_pixels)
        self.stream = stream
        self.degrees = 0
        self.done = False

    def feed(self, packet: av.Packet | None) -> None:
        """Decode ``packet`` (None: drain the decoder) until the first frame comes out."""
        if self.done:
            return
        try:
            frames = self.stream.codec_context.decode(packet)
        except av.FFmpegError:
            frames, self.done = [], True
        if frames:
            # PyAV gives the matrix's rotation counter-clockwise, as ffprobe does.
            self.degrees, self.done = int(-float(frames[0].rotation)) % 360, True


def _video_facts(stream: VideoStream, first_pts: tuple[int, ...], rotation: int) -> VideoStreamFacts:
    context = stream.codec_context
    return VideoStreamFacts(
        codec=context.codec.canonical_name if context is not None else None,
        coded_width=context.width if context is not None else 0,
        coded_height=context.height if context is not None else 0,
        rotation=rotation,
        avg_rate=float(stream.average_rate or 0),
        real_rate=float(stream.base_rate or 0),
        time_base=stream.time_base,
        declared_frames=stream.frames,
        duration_s=_printed_seconds(stream.duration, stream),
        first_pts=first_pts,
    )


def _audio_facts(stream: AudioStream) -> AudioStreamFacts:
    context = stream.codec_context
    return AudioStreamFacts(
        codec=context.codec.canonical_name if context is not None else None,
        sample_rate=context.sample_rate if context is not None else None,
        channels=(context.channels or None) if context is not None else None,
        duration_s=_printed_seconds(stream.duration, stream),
    )


def _printed_seconds(ticks: int | None, stream: VideoStream | AudioStream) -> float | None:
    """A stream's duration as ffprobe prints it: ticks x time base, to six decimals."""
    base = stream.time_base
    if ticks is None or not base:
        return None
    return float(f"{ticks * (base.numerator / base.denominator):f}")
