"""Euler sampling of the rectified-flow ODE from noise (t = 1) to data (t = 0), with guidance.

Guidance composes the conditions in order (as in multi-condition audio-driven models):
``v = v(∅) + g_text·(v(text) − v(∅)) + g_audio·(v(text, audio) − v(text))``; references are
kept in every pass because they carry identity, not an instruction. With both scales at 1 this
is a single conditional pass.
"""

from __future__ import annotations

import torch
from torch import nn

from lpm_train.models.conditions import Conditions, stack_conditions


def time_grid(steps: int, shift: float = 1.0, device: torch.device | str = "cpu") -> torch.Tensor:
    """``steps + 1`` times from 1 to 0; ``shift > 1`` spends more of them at high noise."""
    t = torch.linspace(1.0, 0.0, steps + 1, device=device)
    return shift * t / (1 + (shift - 1) * t)


def guided_velocity(
    model: nn.Module, x: torch.Tensor, t: torch.Tensor, cond: Conditions, guidance_text: float, guidance_audio: float
) -> torch.Tensor:
    if guidance_text == 1.0 and guidance_audio == 1.0:
        return model(x, t, cond)
    passes = [cond.drop_all(audio=True, text=True), cond.drop_all(audio=True), cond]
    b = x.shape[0]
    v = model(x.repeat(3, *([1] * (x.dim() - 1))), t.repeat(3, *([1] * (t.dim() - 1))), stack_conditions(passes))
    v_none, v_text, v_full = v[:b], v[b : 2 * b], v[2 * b :]
    return v_none + guidance_text * (v_text - v_none) + guidance_audio * (v_full - v_text)


@torch.no_grad()
def euler_sample(
    model: nn.Module,
    noise: torch.Tensor,
    cond: Conditions,
    steps: int,
    shift: float = 1.0,
    guidance_text: float = 1.0,
    guidance_audio: float = 1.0,
    keep_every: int = 0,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Returns the sample and, if ``keep_every > 0``, the states at every ``keep_every``-th
    grid time starting at t = 1 (the noise itself) — the teacher trajectories for distillation."""
    grid = time_grid(steps, shift, noise.device)
    x = noise
    kept = [x] if keep_every else []
    for i in range(steps):
        t = grid[i].expand(x.shape[0])
        v = guided_velocity(model, x, t, cond, guidance_text, guidance_audio)
        x = x + (grid[i + 1] - grid[i]) * v
        if keep_every and (i + 1) % keep_every == 0 and i + 1 < steps:
            kept.append(x)
    return x, kept
