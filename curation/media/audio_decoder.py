"""Decode a video's audio once to 16 kHz mono float32, the form VAD, ASR and diarization share.

Two tools give the same samples: an ffmpeg process piping s16le (``decode_audio``), and the FFmpeg
libraries in this process (``decode_audio_inprocess``), which spare the ~80 ms an ffmpeg process
takes to start. The in-process decoder converts as the ffmpeg command does: libswresample,
through the ``aformat`` filter PyAV's ``AudioResampler`` sets up as the ffmpeg CLI does for
``-ac 1 -ar 16000`` to s16, then to float by the same division. A window is cut as ffmpeg's
``-ss``/``-t`` output options cut it (its ``atrim`` filter): on the resampled samples' clock,
which starts at the file's start time, from ``t_start`` (to six decimals, as the command line
writes it) for ``duration``. On the 78 shared clips with audio the two decoders give arrays of
the same length, identical for 63; in the others (AAC) a few samples in 10,000 differ by one
16-bit step, where FFmpeg 8's AAC decoder (PyAV's) rounds a float apart from Debian's FFmpeg 5.1.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from curation.media.ffmpeg_runner import ffmpeg_command, run_media_tool
from curation.media.inprocess_input import Deadline, open_input


def decode_audio(
    path: Path | str,
    sample_rate: int = ANALYSIS_SAMPLE_RATE,
    t_start: float | None = None,
    duration: float | None = None,
    timeout: float = 300.0,
) -> np.ndarray:
    """The first audio stream as mono float32 in [-1, 1]; empty when the file has no audio.

    ``t_start``/``duration`` cut a window (seconds of the source) with sample accuracy.
    """
    input_args: list[str] = []
    output_args: list[str] = []
    if t_start is not None:
        output_args += ["-ss", f"{t_start:.6f}"]
    if duration is not None:
        output_args += ["-t", f"{duration:.6f}"]
    output_args += [
        "-map",
        "0:a:0?",
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "pipe:1",
    ]
    raw = run_media_tool(ffmpeg_command(path, output_args, input_args), timeout=timeout)
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def decode_audio_inprocess(
    path: Path | str,
    sample_rate: int = ANALYSIS_SAMPLE_RATE,
    t_start: float | None = None,
    duration: float | None = None,
    timeout: float = 300.0,
) -> np.ndarray:
    """``decode_audio`` in this process: the same samples (see the module's note), an empty array
    when the file has no audio, ``MediaTimeoutError`` once ``timeout`` has passed."""
    deadline = Deadline(timeout)
    with open_input(path, deadline) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        stream = container.streams.audio[0]
        # ffmpeg counts time from the file's start (its input offset), and so does the window.
        origin = Fraction(container.start_time or 0, av.time_base)
        window = _Window(
            start=_ticks(t_start, sample_rate) if t_start is not None else None,
            length=_ticks(duration, sample_rate) if duration is not None else None,
        )
        pieces: list[np.ndarray] = []
        position = 0  # of the next sample, on the output clock
        for frame in _resampled(_decoded(container, stream, deadline, origin), sample_rate):
            samples = frame.to_ndarray().reshape(-1)
            if frame.pts is not None and frame.time_base is not None:
                position = round(frame.pts * Fraction(frame.time_base) * sample_rate)
            kept = window.cut(samples, position)
            if kept is None:
                break
            pieces.append(kept)
            position += samples.size
    pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0


@dataclass
class _Window:
    """ffmpeg's ``atrim`` on the resampled samples' clock: from ``start`` (else the first sample)
    for ``length`` samples (else to the end)."""

    start: int | None
    length: int | None
    first: int | None = None  # where the length counts from

    def cut(self, samples: np.ndarray, position: int) -> np.ndarray | None:
        """The part of ``samples`` (the first at ``position``) inside the window; None past it."""
        if self.first is None:
            self.first = self.start if self.start is not None else position
        end = self.first + self.length if self.length is not None else None
        if end is not None and position >= end:
            return None
        lo = max(0, self.start - position) if self.start is not None else 0
        hi = min(samples.size, end - position) if end is not None else samples.size
        return samples[lo : max(lo, hi)]


def _ticks(seconds: float, rate: int) -> int:
    """Samples at ``rate`` in ``seconds`` as ffmpeg takes ``-ss``/``-t``: written to six decimals,
    read as microseconds, rescaled rounding half away from zero."""
    scaled = Decimal(f"{seconds:.6f}") * rate
    return int(scaled.to_integral_value(rounding="ROUND_HALF_UP"))


def _decoded(
    container: InputContainer, stream: AudioStream, deadline: Deadline, origin: Fraction
) -> Iterator[AudioFrame]:
    """The stream's frames, timed from ``origin`` in samples of their own rate (ffmpeg's clock
    before its resampler). As ffmpeg without ``-xerror``, a packet that does not decode is
    skipped and a read error ends the input."""
    packets = container.demux(stream)
    flushed = False
    while not flushed:
        try:
            packet = next(packets)
        except StopIteration:
            return  # the demuxer's last, empty packet has flushed the decoder
        except av.ExitError:
            raise
        except av.FFmpegError:
            packet, flushed = None, True  # flush the decoder by hand
        deadline.check()
        try:
            frames = stream.codec_context.decode(packet)
        except av.FFmpegError:
            continue
        for frame in frames:
            if frame.pts is not None and frame.time_base is not None:
                at = (frame.pts * Fraction(frame.time_base) - origin) * frame.sample_rate
                frame.pts, frame.time_base = round(at), Fraction(1, frame.sample_rate)
            yield frame


def _resampled(frames: Iterator[AudioFrame], rate: int) -> Iterator[AudioFrame]:
    """Mono s16 at ``rate``; a new resampler (after draining the last) when the source's format,
    layout or rate changes, as ffmpeg rebuilds its filter graph."""
    resampler: av.AudioResampler | None = None
    source: tuple[str, str, int] | None = None
    for frame in frames:
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if shape != source:
            if resampler is not None:
                yield from resampler.resample(None)
            resampler, source = av.AudioResampler(format="s16", layout="mono", rate=rate), shape
        yield from resampler.resample(frame)
    if resampler is not None:
        yield from resampler.resample(None)
