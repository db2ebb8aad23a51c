"""The performer's state per frame from the two live channels' voice activity.

Speaking while the own channel is voiced, listening while only the partner's is, idle otherwise.
A frame is voiced when its level is above ``threshold_dbfs``; the state changes only after the
new one has held for ``hold_frames`` frames (hysteresis), so the pauses between words and a
cough on the partner's line do not flip the performer between states.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from schemas.performer_states import PerformerState

SILENCE_DBFS = -120.0  # the level of digital silence (the log of zero, floored)


@dataclass(frozen=True)
class VoiceStateSettings:
    threshold_dbfs: float = -40.0
    hold_frames: int = 6  # 240 ms at 25 fps: longer than the gaps between words


def frame_levels_dbfs(samples: torch.Tensor, frame_bounds: list[tuple[int, int]]) -> torch.Tensor:
    """RMS level in dB relative to full scale of each ``[start, end)`` sample range."""
    levels = []
    for start, end in frame_bounds:
        piece = samples[start:end]
        rms = float(piece.pow(2).mean().sqrt()) if piece.numel() else 0.0
        levels.append(max(20.0 * torch.log10(torch.tensor(max(rms, 1e-12))).item(), SILENCE_DBFS))
    return torch.tensor(levels)


class StateFollower:
    """Turns per-frame voice activity into states, one frame at a time, with hysteresis."""

    def __init__(self, settings: VoiceStateSettings, start: PerformerState = PerformerState.IDLE):
        self.settings = settings
        self.state = start
        self._candidate = start
        self._held = 0

    def follow(self, own_level_dbfs: float, partner_level_dbfs: float) -> PerformerState:
        threshold = self.settings.threshold_dbfs
        if own_level_dbfs > threshold:
            heard = PerformerState.SPEAKING
        elif partner_level_dbfs > threshold:
            heard = PerformerState.LISTENING
        else:
            heard = PerformerState.IDLE
        if heard == self.state:
            self._candidate, self._held = heard, 0
            return self.state
        self._held = self._held + 1 if heard == self._candidate else 1
        self._candidate = heard
        if self._held >= self.settings.hold_frames:
            self.state, self._held = heard, 0
        return self.state

    def force(self, state: PerformerState) -> PerformerState:
        """A state given by the caller: inference goes on from it when the caller stops giving one."""
        self.state, self._candidate, self._held = state, state, 0
        return state
