"""Decode a video's audio once to 16 kHz mono float32, the form VAD, ASR and diarization share."""

from pathlib import Path

import numpy as np

from curation.media.ffmpeg_runner import ffmpeg_command, run_media_tool

ANALYSIS_SAMPLE_RATE = 16_000


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
