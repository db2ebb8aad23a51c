"""Speech for the synthetic conversations: espeak-ng in distinct voices, and its loudness envelope.

espeak-ng is a local program (no network, no model files) and its output is deterministic for a
given voice and text, which keeps the corpus reproducible.
"""

import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

SAMPLE_RATE = 16_000
ESPEAK_TIMEOUT_S = 30.0
SILENCE_FRACTION = 0.02  # of the utterance's peak: below it a sample counts as silence when trimming


class SpeechSynthesisError(RuntimeError):
    """espeak-ng is missing or failed."""


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice (language + variant) with its own pitch and rate."""

    espeak_name: str
    pitch: int  # 0..99
    words_per_minute: int

    @property
    def label(self) -> str:
        return f"{self.espeak_name} p{self.pitch} s{self.words_per_minute}"

    def arguments(self) -> list[str]:
        return ["-v", self.espeak_name, "-p", str(self.pitch), "-s", str(self.words_per_minute)]


# Distinct accents, sexes and pitches (male voices measure about 95-105 Hz, female 200-250 Hz), so
# that every identity of a default corpus has its own voice and a diarizer has something to separate.
# Note: espeak-ng ignores a variant on plain ``en-gb``; the British voices here are accent voices.
VOICES: tuple[Voice, ...] = (
    Voice("en-us+m3", 38, 160),
    Voice("en-gb-x-rp+f4", 60, 165),
    Voice("en-gb-scotland+m1", 50, 155),
    Voice("en-us+f3", 55, 170),
    Voice("en-gb-x-rp+m7", 25, 150),
    Voice("en-gb-scotland+f2", 72, 160),
    Voice("en-us-nyc+m5", 50, 175),
    Voice("en-029+f4", 80, 150),
)


@functools.lru_cache(maxsize=512)
def synthesize(text: str, voice: Voice) -> np.ndarray:
    """Mono float32 speech at ``SAMPLE_RATE``, trimmed to the voiced extent (cached: the planner
    tries sentences that may not fit; callers must not modify the array)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SpeechSynthesisError("espeak-ng is not installed: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory(prefix="lpm-synth-speech-") as tmp:
        wav = Path(tmp) / "speech.wav"
        command = [espeak, *voice.arguments(), "-w", str(wav), text]
        try:
            result = subprocess.run(  # argument list, no shell
                command, stdin=subprocess.DEVNULL, capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise SpeechSynthesisError(f"espeak-ng gave no result within {ESPEAK_TIMEOUT_S:.0f} s") from err
        if result.returncode != 0 or not wav.exists():
            detail = result.stderr.decode("utf-8", "replace").strip()[-300:]
            raise SpeechSynthesisError(f"espeak-ng failed for voice {voice.label}: {detail}")
        rate, samples = wavfile.read(wav)
    audio = samples.astype(np.float32) / 32768.0
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return trim_silence(_resample(audio, rate, SAMPLE_RATE))


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return audio
    divisor = np.gcd(rate, target)
    return resample_poly(audio, target // divisor, rate // divisor).astype(np.float32)


def trim_silence(audio: np.ndarray) -> np.ndarray:
    """Cut leading and trailing silence so an utterance's extent is exactly its voiced span."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_FRACTION * float(np.abs(audio).max(initial=0.0)))
    if loud.size == 0:
        return audio[:0]
    return audio[loud[0] : loud[-1] + 1]


def frame_envelope(audio: np.ndarray, fps: float, n_frames: int, window_s: float = 0.04) -> np.ndarray:
    """RMS loudness around the middle of each video frame (what the lips follow)."""
    half = max(1, round(window_s * SAMPLE_RATE / 2))
    power = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    centres = np.round((np.arange(n_frames) + 0.5) / fps * SAMPLE_RATE).astype(int)
    lo = np.clip(centres - half, 0, audio.size)
    hi = np.clip(centres + half, 0, audio.size)
    energy = (power[hi] - power[lo]) / np.maximum(hi - lo, 1)
    return np.sqrt(energy).astype(np.float32)
