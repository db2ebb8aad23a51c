"""Audio that arrives in pieces of any length, turned into one feature row per video frame.

A frame's features depend on ``context_samples`` of audio after it (the analysis windows reach
past its end), so a frame is ready only once that much more audio has arrived; ``take(closing=True)``
releases the rest, the end padded as the whole file's would be. The buffer keeps only what
frames still to come need, so an endless stream holds constant memory. With the log-mel encoder,
the rows equal those of the whole audio encoded at once (the training path) up to float rounding.
"""

from __future__ import annotations

import math

import torch

from lpm_train.data.audio_features import FrameAudioEncoder
from lpm_train.stream.voice_states import frame_levels_dbfs
from schemas.sample_layout import AUDIO_SAMPLE_RATE

_HOP = 160  # pieces are cut on the encoders' 10 ms grid so their rows fall on the whole audio's


class FrameAudioStream:
    def __init__(self, encoder: FrameAudioEncoder, fps: float, rate: int = AUDIO_SAMPLE_RATE):
        self.encoder, self.fps, self.rate = encoder, fps, rate
        self.context = int(getattr(encoder, "context_samples", rate))
        self._buffer = torch.zeros(0)
        self._buffer_start = 0  # the sample number of the buffer's first sample
        self.samples_received = 0
        self.frames_taken = 0

    def frame_start(self, frame: int) -> int:
        return round(frame * self.rate / self.fps)

    def append(self, samples: torch.Tensor) -> None:
        self._buffer = torch.cat([self._buffer, samples.float()])
        self.samples_received += samples.numel()

    def final_frames(self) -> int:
        """Frames the audio received so far covers, as a whole file of that length would give."""
        return int(self.samples_received / self.rate * self.fps)

    def _ready_frames(self) -> int:
        """Frames whose features no later audio can change."""
        usable = self.samples_received - self.context
        return max(math.floor(usable * self.fps / self.rate) - 1, 0) if usable > 0 else 0

    def take(self, closing: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Features ``[n, dim]`` and levels (dBFS) ``[n]`` of the frames that became ready."""
        first = self.frames_taken
        last = self.final_frames() if closing else self._ready_frames()
        count = max(last - first, 0)
        if count == 0:
            return torch.zeros(0, self.encoder.dim), torch.zeros(0)
        features = self.encoder.frames_between(self._buffer, self._buffer_start, self.fps, first, count)
        bounds = [
            (self.frame_start(f) - self._buffer_start, self.frame_start(f + 1) - self._buffer_start)
            for f in range(first, last)
        ]
        levels = frame_levels_dbfs(self._buffer, bounds)
        self.frames_taken = last
        self._forget_before(self.frame_start(last) - self.context)
        return features, levels

    def _forget_before(self, sample: int) -> None:
        keep_from = max((sample // _HOP) * _HOP, self._buffer_start)
        self._buffer = self._buffer[keep_from - self._buffer_start :].clone()
        self._buffer_start = keep_from

    @property
    def buffered_samples(self) -> int:
        return self._buffer.numel()
