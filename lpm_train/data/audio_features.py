"""Audio features aligned to video frames: one feature row per frame.

``LogMelFrames`` (default) samples a log-mel spectrogram at ``mel_per_frame`` instants inside
each video frame and stacks them, so frame ``i`` carries the sound of ``[i/fps, (i+1)/fps)``.
``Wav2Vec2Frames`` runs a torchaudio wav2vec2 encoder (50 Hz) when its weights are given and
resamples its hidden states to the frame instants.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as nnf

from schemas.sample_layout import AUDIO_SAMPLE_RATE


class FrameAudioEncoder(Protocol):
    dim: int
    # Samples each side of a frame that its features depend on: what a live stream must hold back
    # (after the frame) and keep (before it) to compute that frame from a piece of the audio.
    context_samples: int

    def __call__(self, wav: torch.Tensor, fps: float, n_frames: int) -> torch.Tensor: ...

    def frames_between(
        self, wav: torch.Tensor, wav_start: int, fps: float, first: int, count: int
    ) -> torch.Tensor: ...


def read_wav(data: bytes) -> torch.Tensor:
    """PCM wav bytes -> mono float32 at 16 kHz in [-1, 1]."""
    with wave.open(io.BytesIO(data)) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
    if dtype is None:
        raise ValueError(f"unsupported wav sample width {width}")
    samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if width == 1:
        samples = samples - 128.0
    samples /= float(2 ** (8 * width - 1))
    audio = torch.from_numpy(samples.reshape(-1, channels).mean(axis=1))
    if rate != AUDIO_SAMPLE_RATE:
        import torchaudio.functional as audio_functional

        audio = audio_functional.resample(audio, rate, AUDIO_SAMPLE_RATE)
    return audio


def _interpolate_rows(features: torch.Tensor, source_rate: float, times: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of ``features`` [L, D] (row ``j`` at ``j / source_rate`` s) at ``times``."""
    position = (times * source_rate).clamp(0, features.shape[0] - 1)
    lower = position.floor().long()
    upper = (lower + 1).clamp(max=features.shape[0] - 1)
    weight = (position - lower).unsqueeze(-1)
    return features[lower] * (1 - weight) + features[upper] * weight


class LogMelFrames:
    """Log-mel at the video frame rate. Fixed normalisation (not per clip) so loudness survives."""

    def __init__(self, n_mels: int = 32, mel_per_frame: int = 2, sample_rate: int = AUDIO_SAMPLE_RATE):
        import torchaudio.functional as audio_functional

        self.n_mels, self.per_frame, self.sample_rate = n_mels, mel_per_frame, sample_rate
        self.n_fft, self.win, self.hop = 512, 400, 160  # 25 ms windows every 10 ms
        self.dim = n_mels * mel_per_frame
        self.filters = audio_functional.melscale_fbanks(
            self.n_fft // 2 + 1, 20.0, sample_rate / 2, n_mels, sample_rate, norm="slaney", mel_scale="slaney"
        )
        self.window = torch.hann_window(self.win)
        # A frame's rows are interpolated between mel rows one hop apart, each row a centred window
        self.context_samples = self.n_fft // 2 + 2 * self.hop

    def __call__(self, wav: torch.Tensor, fps: float, n_frames: int) -> torch.Tensor:
        return self.frames_between(wav, 0, fps, 0, n_frames)

    def frames_between(self, wav: torch.Tensor, wav_start: int, fps: float, first: int, count: int) -> torch.Tensor:
        """Rows of frames ``[first, first + count)`` from ``wav``, a piece of the audio beginning at
        sample ``wav_start`` (a multiple of the hop, so its mel rows fall on the whole audio's).
        Equal to the whole audio's rows when the piece holds ``context_samples`` around them."""
        if wav_start % self.hop:
            raise ValueError(f"a piece of audio must start on a hop ({self.hop} samples), not at {wav_start}")
        need = int(np.ceil((first + count) / fps * self.sample_rate)) - wav_start
        if wav.numel() < need:  # a clip's audio may be a few samples short of its video
            wav = nnf.pad(wav, (0, need - wav.numel()))
        spec = torch.stft(wav, self.n_fft, self.hop, self.win, self.window, center=True, return_complex=True).abs() ** 2
        mel = torch.log(spec.T @ self.filters + 1e-6)  # [L, n_mels], row j at (wav_start + j * hop) / rate
        mel = (mel + 6.0) / 4.0  # roughly zero-mean, unit-scale for speech at 16 kHz
        offsets = (torch.arange(self.per_frame) + 0.5) / self.per_frame
        times = (torch.arange(first, first + count).unsqueeze(1) + offsets) / fps - wav_start / self.sample_rate
        rows = _interpolate_rows(mel, self.sample_rate / self.hop, times.reshape(-1))
        return rows.reshape(count, self.dim)


class Wav2Vec2Frames:
    """A wav2vec2 encoder (torchaudio architecture) whose weights the user provides.

    The checkpoint is a torch file holding ``{"arch": kwargs of torchaudio.models.wav2vec2_model,
    "state_dict": ...}`` or a bare state dict for ``wav2vec2_base``. Nothing is downloaded.
    """

    def __init__(self, checkpoint: str | Path):
        import torchaudio

        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(
                f"wav2vec2 weights not found at {path}; set data.wav2vec2_checkpoint or use data.audio_encoder=log_mel"
            )
        blob = torch.load(path, map_location="cpu", weights_only=True)
        arch = blob.get("arch") if "state_dict" in blob else None
        state = blob.get("state_dict", blob)
        model = torchaudio.models.wav2vec2_model(**arch) if arch else torchaudio.models.wav2vec2_base()
        model.load_state_dict(state)
        self.model = model.eval()
        self.dim = int(arch["encoder_embed_dim"]) if arch else 768
        # The transformer sees its whole input, so no piece gives the whole audio's features
        # exactly; a live stream gives each frame one second of audio either side.
        self.context_samples = AUDIO_SAMPLE_RATE

    @torch.no_grad()
    def __call__(self, wav: torch.Tensor, fps: float, n_frames: int) -> torch.Tensor:
        return self.frames_between(wav, 0, fps, 0, n_frames)

    @torch.no_grad()
    def frames_between(self, wav: torch.Tensor, wav_start: int, fps: float, first: int, count: int) -> torch.Tensor:
        need = int(np.ceil((first + count) / fps * AUDIO_SAMPLE_RATE)) - wav_start + 400
        if wav.numel() < need:
            wav = nnf.pad(wav, (0, need - wav.numel()))
        hidden, _ = self.model(wav.unsqueeze(0))
        rate = hidden.shape[1] / (wav.numel() / AUDIO_SAMPLE_RATE)  # ~50 Hz
        times = (torch.arange(first, first + count) + 0.5) / fps - wav_start / AUDIO_SAMPLE_RATE
        return _interpolate_rows(hidden[0], rate, times)


def build_audio_encoder(kind: str, n_mels: int, mel_per_frame: int, wav2vec2_checkpoint: str) -> FrameAudioEncoder:
    if kind == "wav2vec2":
        return Wav2Vec2Frames(wav2vec2_checkpoint)
    return LogMelFrames(n_mels, mel_per_frame)
