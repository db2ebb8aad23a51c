"""Voice activity with Silero VAD, per 32 ms audio window, per speech interval and per video frame.

The model is the ONNX Silero VAD that ships inside the ``silero-vad`` wheel, run through the
wheel's own ``SileroVADSequence`` front end: the same network and the same 512-sample windows
as the streaming ``load_silero_vad(onnx=True)`` model (bit-identical probabilities), but one ONNX
call per block of 512 windows instead of one Python call per window, which makes a minute of
audio take about 0.2 s instead of 1.5 s here. Speech intervals come from Silero's own
probability-to-segment state machine (``get_speech_timestamps_from_probs``), so thresholds and
minimum durations mean exactly what Silero documents. Input is the 16 kHz mono float32 audio
decoded once by ``curation.media.audio_decoder.decode_audio``.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from annotators.models.model_wrapper import ModelWrapper
from annotators.timelines.frame_timeline import frame_means, interval_coverage
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from curation.models.model_store import resolve

WINDOW_SAMPLES = 512  # Silero's window at 16 kHz
WINDOW_S = WINDOW_SAMPLES / ANALYSIS_SAMPLE_RATE


@dataclass(frozen=True)
class VoiceActivity:
    """Silero's speech probability for every 32 ms window of one audio track, and the settings
    that turn it into speech intervals."""

    window_probabilities: np.ndarray  # (ceil(n_samples / 512),) float32, window k on [k, k+1) * 32 ms
    n_samples: int
    threshold: float
    min_speech_s: float
    min_silence_s: float
    speech_pad_s: float

    @property
    def duration_s(self) -> float:
        return self.n_samples / ANALYSIS_SAMPLE_RATE

    def speech_intervals(self, max_speech_s: float = float("inf")) -> list[tuple[float, float]]:
        """Speech ``(t_start, t_end)`` in seconds, inside ``[0, duration_s]``.

        Speech starts when the probability reaches ``threshold`` and ends after ``min_silence_s``
        below ``threshold - 0.15``; runs shorter than ``min_speech_s`` are dropped and each
        interval is padded by ``speech_pad_s``. ``max_speech_s`` splits longer intervals at their
        longest pause (ASR needs chunks of at most 30 s).
        """
        if self.n_samples == 0:
            return []
        from silero_vad import get_speech_timestamps_from_probs

        stamps = get_speech_timestamps_from_probs(
            self.window_probabilities.tolist(),
            sampling_rate=ANALYSIS_SAMPLE_RATE,
            threshold=self.threshold,
            min_speech_duration_ms=self.min_speech_s * 1000,
            max_speech_duration_s=max_speech_s,
            min_silence_duration_ms=self.min_silence_s * 1000,
            speech_pad_ms=self.speech_pad_s * 1000,
            audio_length_samples=self.n_samples,
        )
        rate = float(ANALYSIS_SAMPLE_RATE)
        return [(s["start"] / rate, s["end"] / rate) for s in stamps]

    def frame_probabilities(self, fps: float, n_frames: int) -> np.ndarray:
        """Mean speech probability over each video frame ``[i / fps, (i + 1) / fps)``; 0 past the audio."""
        return frame_means(self.window_probabilities, WINDOW_S, fps, n_frames, end_s=self.duration_s)

    def frame_activity(self, fps: float, n_frames: int) -> np.ndarray:
        """Frames at least half covered by a speech interval (after the minimum-duration rules)."""
        return interval_coverage(self.speech_intervals(), fps, n_frames) >= 0.5


class VoiceActivityDetector(ModelWrapper):
    """Silero VAD over whole audio tracks.

    ``detect`` runs the model once and returns a ``VoiceActivity`` to query; the convenience
    methods (``frame_probabilities``, ``speech_intervals``, ``frame_activity``) reuse the result
    of the last call when they are given the very same array, so asking for several views of one
    track runs the model once. Not thread-safe: one detector per worker.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        min_speech_s: float = 0.25,
        min_silence_s: float = 0.15,
        speech_pad_s: float = 0.03,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if min(min_speech_s, min_silence_s, speech_pad_s) < 0:
            raise ValueError("durations must be >= 0")
        self.threshold = threshold
        self.min_speech_s = min_speech_s
        self.min_silence_s = min_silence_s
        self.speech_pad_s = speech_pad_s
        self._last: tuple[np.ndarray, VoiceActivity] | None = None

    catalog_names = ("silero_vad",)

    def load_model(self) -> Any:
        """The bundled model (milliseconds, after the one-off ``silero_vad``/torch import); loaded
        on first use if ``setup`` was not called before."""
        resolve("silero_vad")  # a clear ModelMissingError when the wheel is not installed
        from silero_vad import load_silero_vad

        return load_silero_vad(sequence=True)

    def release(self, model: Any) -> None:
        self._last = None

    def detect(self, audio: np.ndarray) -> VoiceActivity:
        """Speech probabilities of 16 kHz mono float32 ``audio`` (any length, empty included)."""
        if self._last is not None and self._last[0] is audio:
            return self._last[1]
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"audio must be mono (1-D), got shape {samples.shape}")
        if samples.size:
            self.setup()
            probabilities = self._model.audio_forward(samples, sampling_rate=ANALYSIS_SAMPLE_RATE)
        else:
            probabilities = np.zeros(0, dtype=np.float32)
        activity = VoiceActivity(
            window_probabilities=np.asarray(probabilities, dtype=np.float32),
            n_samples=int(samples.size),
            threshold=self.threshold,
            min_speech_s=self.min_speech_s,
            min_silence_s=self.min_silence_s,
            speech_pad_s=self.speech_pad_s,
        )
        self._last = (audio, activity)
        return activity

    def frame_probabilities(self, audio: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
        return self.detect(audio).frame_probabilities(fps, n_frames)

    def speech_intervals(self, audio: np.ndarray) -> list[tuple[float, float]]:
        return self.detect(audio).speech_intervals()

    def frame_activity(self, audio: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
        return self.detect(audio).frame_activity(fps, n_frames)
