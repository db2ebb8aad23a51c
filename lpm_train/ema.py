"""Exponential moving average of a model's weights (the weights that get sampled from)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class ModelEma:
    """The decay warms up as ``(1 + n) / (10 + n)`` over the first updates, so a short run's
    EMA follows its training instead of staying anchored to the random initialisation."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for shadow, live in zip(self.model.parameters(), model.parameters(), strict=True):
            shadow.lerp_(live.detach(), 1.0 - decay)
        for shadow, live in zip(self.model.buffers(), model.buffers(), strict=True):
            shadow.copy_(live)

    def state_dict(self) -> dict[str, Any]:
        return {**self.model.state_dict(), "_ema_updates": torch.tensor(self.updates)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self.updates = int(state.pop("_ema_updates", 0))
        self.model.load_state_dict(state)
