"""Decode each video's audio once (16 kHz mono) and measure loudness and clipping per shot.

The decoded audio stays on the work record as int16 (32 KB per second) for the speech stages
(VAD, ASR, diarization), so nothing decodes it a second time.
"""

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from annotators.audio_levels import SILENCE_DB, clipping_fraction, loudness_db
from curation.media.audio_decoder import ANALYSIS_SAMPLE_RATE, decode_audio
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork


@dataclass
class AudioAnalysisStage(Stage):
    name: ClassVar[str] = "audio_analysis"
    needs: ClassVar[tuple[str, ...]] = ("video",)
    adds: ClassVar[tuple[str, ...]] = ("extras.audio", "shots.audio_loudness_db", "shots.audio_clipping_frac")
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    timeout_per_video_s: float = field(default=2.0, metadata={"range": (0.1, None)})

    def process(self, work: VideoWork) -> VideoWork:
        samples = np.zeros(0, dtype=np.float32)
        if work.video.get("has_audio"):
            timeout = max(60.0, self.timeout_per_video_s * float(work.video.get("duration_s") or 0))
            samples = decode_audio(work.local_path, timeout=timeout)
        work.extras["audio"] = {
            "sample_rate": ANALYSIS_SAMPLE_RATE,
            "pcm16": np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16),
        }
        for shot in work.shots:
            a = int(shot["t_start"] * ANALYSIS_SAMPLE_RATE)
            b = int(shot["t_end"] * ANALYSIS_SAMPLE_RATE)
            span = samples[a:b]
            shot["audio_loudness_db"] = loudness_db(span) if span.size else SILENCE_DB
            shot["audio_clipping_frac"] = clipping_fraction(span)
        return work


def audio_samples(work: VideoWork) -> np.ndarray:
    """The analysis audio as float32 in [-1, 1] (empty when the video has none)."""
    return work.extras["audio"]["pcm16"].astype(np.float32) / 32768.0
