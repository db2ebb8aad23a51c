"""Decode a video in this process, frame by frame, converting a frame only when a pass asks for it.

``frame_source.decode_frames`` runs ffmpeg with one filter graph: every analysis frame is scaled,
converted to RGB and piped at one rate, fixed before the first frame. A cascade (issue 17) wants
a few coarse frames a second everywhere and every frame at full size only on the shots it finds
worth it, which it learns while decoding. Here every source frame is decoded by the FFmpeg
libraries in this process (PyAV), and a ``SourceFrame`` is converted to RGB at a size only when
``rgb`` is called for it (once per size): a pass's rate can change on any frame, and a bounded
look-back is a deque of frames still unconverted, which hold only their decoded planes.

Frames for a pass at ``fps`` are chosen as ffmpeg's ``fps`` filter (``round=near``) chooses them
(``RateSelector``): each source frame's time is rounded to the nearest output slot k / fps, and a
slot shows the last frame rounded to it or before. Each frame is yielded once the next one is
decoded, whose time ends the slots it covers (the last frame's ends at its own end). Rotation
from the display matrix is applied, as ffmpeg applies it, so frames are upright.
"""

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np

from curation.media.ffmpeg_runner import MediaTimeoutError, MediaToolError
from curation.media.frame_source import AnalysisGeometry, Frame, decode_frames

TOOL = "ffmpeg libraries (PyAV)"


@dataclass
class SourceFrame:
    index: int  # decoding order, from 0
    t: float  # seconds from the first frame
    # the next frame's time, or the end of this one for the last frame; exact, since a slot
    # boundary is often exactly halfway (30 fps to 25) and float error would round it the other way
    next_t: Fraction
    display_width: int  # after rotation
    display_height: int
    frame: av.VideoFrame | None
    rotation: int = 0  # degrees counter-clockwise, a multiple of 90
    _rgb: dict[tuple, np.ndarray] = field(default_factory=dict, repr=False)

    def rgb(self, geometry: AnalysisGeometry) -> np.ndarray:
        """The frame upright at ``geometry``'s size, (height, width, 3) uint8; converted once."""
        key = (geometry.width, geometry.height)
        if key not in self._rgb:
            if self.frame is None:
                raise ValueError(f"frame {self.index} was released before it was converted at {key}")
            turned = self.rotation % 180 != 0
            width, height = (geometry.height, geometry.width) if turned else key
            # INTER_AREA's equivalent: what ffmpeg's ``scale=...:flags=area`` uses in decode_frames.
            rgb = self.frame.reformat(width, height, "rgb24", interpolation="AREA").to_ndarray()
            self._rgb[key] = _contiguous(np.rot90(rgb, k=self.rotation // 90) if self.rotation else rgb)
        return self._rgb[key]

    def small(self, geometry: AnalysisGeometry) -> np.ndarray:
        """The frame upright at ``geometry``'s size for measuring, not for a model: scaled in its own
        pixel format and then turned into RGB without scaling, which swscale does about three times
        faster than scaling straight into RGB (0.3 ms against 0.9 ms a 256-px picture of a 360p
        frame), the luma the same and the colours within about a grey level (chroma is
        interpolated differently). Converted once."""
        key = (geometry.width, geometry.height, "small")
        if key not in self._rgb:
            if self.frame is None:
                raise ValueError(f"frame {self.index} was released before it was converted at {key[:2]}")
            turned = self.rotation % 180 != 0
            width, height = (geometry.height, geometry.width) if turned else key[:2]
            scaled = self.frame.reformat(width, height, self.frame.format.name, interpolation="AREA")
            rgb = scaled.reformat(format="rgb24").to_ndarray()
            self._rgb[key] = _contiguous(np.rot90(rgb, k=self.rotation // 90) if self.rotation else rgb)
        return self._rgb[key]

    def release(self) -> None:
        """Drop the decoded planes (the conversions already made stay)."""
        self.frame = None

    @property
    def nbytes(self) -> int:
        """The memory this frame holds: its decoded planes and its conversions."""
        planes = sum(p.buffer_size for p in self.frame.planes) if self.frame is not None else 0
        return planes + sum(a.nbytes for a in self._rgb.values())


def _contiguous(rgb: np.ndarray) -> np.ndarray:
    """The picture as one C-contiguous block, as ``decode_frames`` gives it. PyAV's arrays keep the
    decoder's row padding (a row of 458, 854 or 910 RGB pixels, or a 456-pixel small picture's, is
    padded to a multiple of 32 bytes), and ``mp.Image`` reads its input as unpadded rows: given a
    padded array, the landmarker sees a sheared picture and finds no face (the in-process model
    floor landmarked none of the 375 faces of ``infinitetalk_ref_video`` that way)."""
    return np.ascontiguousarray(rgb)


@dataclass
class RateSelector:
    """The source frames a pass at ``fps`` takes: a source slower than ``fps`` repeats frames, a
    faster one drops some, as ffmpeg's ``fps`` filter does."""

    fps: float
    slot: int = 0  # the next output slot to fill

    def take(self, frame: SourceFrame) -> int:
        """How many output frames ``frame`` becomes (0: the pass skips it): the slots up to the one
        the next frame rounds to."""
        upto = _round_near(frame.next_t * Fraction(self.fps))
        taken = max(0, upto - self.slot)
        self.slot += taken
        return taken


def _round_near(x: Fraction) -> int:
    """Half away from zero, as ffmpeg's AV_ROUND_NEAR_INF (Python's round goes half to even)."""
    return math.floor(x + Fraction(1, 2)) if x >= 0 else -math.floor(-x + Fraction(1, 2))


@dataclass(frozen=True)
class WantedSlots:
    """Which output slots of a pass at ``fps`` its caller needs as they are (``source_frames``)."""

    fps: float
    wanted: Callable[[int], bool]

    def between(self, first: int, end: int) -> bool:
        """Whether any slot from ``first`` to ``end`` - 1 (at least ``first``) is wanted."""
        return any(self.wanted(k) for k in range(first, max(first + 1, end)))


def source_frames(path: str, threads: int = 1, wanted: WantedSlots | None = None) -> Iterator[SourceFrame]:
    """Every frame of the first video stream, in order; raises ``MediaToolError`` if the file
    cannot be opened or no frame decodes (a file damaged part-way ends where decoding fails, as
    ``decode_frames`` ends).

    ``wanted``, asked before each packet is decoded with the output slots of its pass that the
    packet's frame spans (its times from the first frame, rounded as ``RateSelector`` rounds):
    when none is wanted, the codec may skip the frame if no other frame refers to it (FFmpeg's
    ``skip_frame`` of non-reference frames: half the frames of a typical H.264 stream, a third of
    its decoding time). A skipped frame's time is then covered by the frame before it, as a
    frame-rate conversion repeats a frame."""
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as error:
        raise MediaToolError(TOOL, "cannot open the file", str(error)) from error
    with container:
        if not container.streams.video:
            raise MediaToolError(TOOL, "no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        codec = stream.codec_context
        codec.thread_count = threads
        held: tuple[av.VideoFrame, Fraction] | None = None
        start: Fraction | None = None
        index = 0
        rate = stream.average_rate or stream.guessed_rate or 25
        last_step = 1 / Fraction(rate)
        spans = _PacketSlots(Fraction(wanted.fps)) if wanted is not None else None
        try:
            for packet in container.demux(stream):
                if spans is not None and start is not None:
                    slots = spans.of(packet, start, last_step)
                    if slots is not None:
                        codec.skip_frame = "DEFAULT" if wanted.between(*slots) else "NONREF"
                for frame in codec.decode(packet):
                    t = _exact_time(frame, index * last_step)
                    start = t if start is None else start
                    t -= start
                    if held is not None:
                        last_step = max(t - held[1], Fraction(1, 10**6))
                        yield _source_frame(index, held[0], held[1], t)
                        index += 1
                    held = (frame, t)
        except av.FFmpegError as error:
            if held is None:
                raise MediaToolError(TOOL, "decoding failed", str(error)) from error
        if held is None:
            raise MediaToolError(TOOL, "no frame decoded")
        # The last frame lasts its stored duration, but no longer than the step before it: a clip
        # here whose last sample is stored as 96 ms long gets 40 ms from Debian's ffmpeg 5.1, the
        # step of every other frame (and one analysis frame fewer than the stored length gives).
        last, t = held
        stored = last.duration * last.time_base if last.duration and last.time_base else last_step
        yield _source_frame(index, last, t, t + min(stored, last_step))


@dataclass(frozen=True)
class _PacketSlots:
    """The output slots at ``fps`` a packet's frame spans: from its time (from the first frame) to
    its time plus its duration (or the last step), each rounded half away from zero.

    The same exact rationals as ``Fraction`` arithmetic gives, in plain integers: asked before
    every packet, the ``Fraction`` form cost about 25 us a packet (a dozen normalised fractions),
    a second over the 82 shared clips."""

    fps: Fraction

    def of(self, packet: av.Packet, start: Fraction, last_step: Fraction) -> tuple[int, int] | None:
        pts, time_base = packet.pts, packet.time_base
        if pts is None or not time_base:
            return None
        n, d = time_base.numerator, time_base.denominator
        a, b = self.fps.numerator, self.fps.denominator
        s_num, s_den = start.numerator, start.denominator
        # begins = pts * n / d - start, over the denominator d * s_den
        begins = pts * n * s_den - s_num * d
        first = _round_near_ratio(begins * a, d * s_den * b)
        if packet.duration:
            ends = (pts + packet.duration) * n * s_den - s_num * d
            return first, _round_near_ratio(ends * a, d * s_den * b)
        p, q = last_step.numerator, last_step.denominator
        return first, _round_near_ratio((begins * q + p * d * s_den) * a, d * s_den * q * b)


def _round_near_ratio(num: int, den: int) -> int:
    """``_round_near(num / den)`` for a positive ``den``, in integers."""
    return (2 * num + den) // (2 * den) if num >= 0 else -((-2 * num + den) // (2 * den))


def _exact_time(frame: av.VideoFrame, otherwise: Fraction) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        return otherwise
    return frame.pts * Fraction(frame.time_base)


def _source_frame(index: int, frame: av.VideoFrame, t: Fraction, next_t: Fraction) -> SourceFrame:
    rotation = int(round(frame.rotation or 0)) % 360
    width, height = (frame.height, frame.width) if rotation % 180 else (frame.width, frame.height)
    return SourceFrame(index, float(t), next_t, width, height, frame, rotation)


@dataclass(frozen=True)
class LazyFrame:
    """An analysis frame (``decode_frames``' index and time) whose picture is converted to RGB at a
    size only when a pass asks for it: a coarse pass takes a small picture of a few frames a
    second, a fine pass the analysis-size picture of every frame it needs."""

    index: int
    t: float
    picture: "SourceFrame | PipedPicture"

    def rgb(self, geometry: AnalysisGeometry) -> np.ndarray:
        return self.picture.rgb(geometry)

    def small(self, geometry: AnalysisGeometry) -> np.ndarray:
        """A small picture to measure (quality, shots, the face detector), not the analysis frame."""
        return self.picture.small(geometry)

    @property
    def nbytes(self) -> int:
        return self.picture.nbytes


@dataclass
class PipedPicture:
    """A frame ffmpeg's pipe already delivered at the analysis size: another size is resized from
    it (INTER_AREA), once per size."""

    analysis: np.ndarray
    _rgb: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    def rgb(self, geometry: AnalysisGeometry) -> np.ndarray:
        key = (geometry.width, geometry.height)
        if key == (self.analysis.shape[1], self.analysis.shape[0]):
            return self.analysis
        if key not in self._rgb:
            self._rgb[key] = cv2.resize(self.analysis, key, interpolation=cv2.INTER_AREA)
        return self._rgb[key]

    def small(self, geometry: AnalysisGeometry) -> np.ndarray:
        return self.rgb(geometry)

    @property
    def nbytes(self) -> int:
        return self.analysis.nbytes + sum(a.nbytes for a in self._rgb.values())


def lazy_frames_inprocess(
    path: str,
    geometry: AnalysisGeometry,
    fps: float,
    timeout_s: float,
    threads: int = 1,
    wanted: Callable[[int], bool] | None = None,
) -> Iterator[LazyFrame]:
    """``decode_frames``' frames, each converted only when asked: no ffmpeg process and no pipe. A
    repeated source frame is one picture, converted once per size. The time limit is checked
    between frames (a decode in this process cannot be killed mid-call as an ffmpeg process can).
    ``geometry`` is unused here (every size is asked for by the pass), kept for one signature.

    ``wanted(index)``: whether the caller needs the picture of analysis frame ``index`` as it is,
    asked as the frames are decoded; a source frame none of whose analysis frames is wanted may be
    skipped by the codec (``source_frames``), and its analysis frames then show the frame before."""
    del geometry
    selector = RateSelector(fps)
    started = time.monotonic()
    index = 0
    for frame in source_frames(path, threads, WantedSlots(fps, wanted) if wanted is not None else None):
        for _ in range(selector.take(frame)):
            yield LazyFrame(index, index / fps, frame)
            index += 1
        if time.monotonic() - started > timeout_s:
            raise MediaTimeoutError(TOOL, f"decoding took longer than {timeout_s:.0f} s (stopped)")


def lazy_frames_piped(
    path: str,
    geometry: AnalysisGeometry,
    fps: float,
    timeout_s: float,
    threads: int = 1,
    wanted: Callable[[int], bool] | None = None,
) -> Iterator[LazyFrame]:
    """``decode_frames``' frames as ``LazyFrame``s: ffmpeg has converted every one at ``geometry``
    (``wanted`` is not asked: ffmpeg decodes every frame)."""
    del wanted
    for frame in decode_frames(path, geometry, fps, timeout_s, threads):
        yield LazyFrame(frame.index, frame.t, PipedPicture(frame.rgb))


def decode_frames_inprocess(
    path: str, geometry: AnalysisGeometry, fps: float, timeout_s: float, threads: int = 1
) -> Iterator[Frame]:
    """``decode_frames``' frames (the same indices, times and pictures) from ``source_frames``."""
    for frame in lazy_frames_inprocess(path, geometry, fps, timeout_s, threads):
        rgb = frame.rgb(geometry)
        rgb.flags.writeable = False  # as decode_frames' arrays over the pipe's bytes
        yield Frame(frame.index, frame.t, rgb)


# The analysis decoders a stage can choose (``visual_analysis.decoder``), same signature: frames
# converted at the analysis size (the floors), or converted when a pass asks (the analysis).
DECODERS: dict[str, Callable[..., Iterator[Frame]]] = {"ffmpeg": decode_frames, "inprocess": decode_frames_inprocess}
LAZY_DECODERS: dict[str, Callable[..., Iterator[LazyFrame]]] = {
    "ffmpeg": lazy_frames_piped,
    "inprocess": lazy_frames_inprocess,
}
