"""Rectified flow: ``z_t = (1 - t)·x + t·ε``, the model predicts the velocity ``ε - x``.

Timesteps are logit-normal (most training where the task is hardest, mid-way), one per clip or
one per frame. Audio, caption and references are dropped independently, so guided sampling can
weigh each of them separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as nnf
from torch import nn

from lpm_train.config import TrainConfig
from lpm_train.models.conditions import Conditions


def logit_normal(shape: tuple[int, ...], mean: float, std: float, generator: torch.Generator) -> torch.Tensor:
    return torch.sigmoid(mean + std * torch.randn(shape, generator=generator))


def noised(x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """``x, noise [B, T, ...]``; ``t`` is [B] or per frame [B, T]."""
    t = t.view(*t.shape, *([1] * (x.dim() - t.dim())))
    return (1 - t) * x + t * noise


def predicted_clean(z: torch.Tensor, t: torch.Tensor, velocity: torch.Tensor) -> torch.Tensor:
    t = t.view(*t.shape, *([1] * (z.dim() - t.dim())))
    return z - t * velocity


@dataclass
class FlowDraw:
    """The random part of one training step, drawn on the CPU so runs match across devices."""

    t: torch.Tensor
    noise: torch.Tensor
    drop_audio: torch.Tensor
    drop_text: torch.Tensor
    drop_refs: torch.Tensor


def draw(video: torch.Tensor, config: TrainConfig, generator: torch.Generator, dropout: bool = True) -> FlowDraw:
    b, t_len = video.shape[:2]
    shape = (b, t_len) if config.per_frame_timesteps else (b,)
    t = logit_normal(shape, config.logit_normal_mean, config.logit_normal_std, generator)
    noise = torch.randn(video.shape, generator=generator)
    probs = (config.p_drop_audio, config.p_drop_text, config.p_drop_refs) if dropout else (0.0, 0.0, 0.0)
    drops = [torch.rand(b, generator=generator) < p for p in probs]
    return FlowDraw(t, noise, *drops)


def flow_loss(model: nn.Module, video: torch.Tensor, cond: Conditions, d: FlowDraw) -> torch.Tensor:
    device = video.device
    t, noise = d.t.to(device), d.noise.to(device)
    cond = cond.drop(d.drop_audio.to(device), d.drop_text.to(device), d.drop_refs.to(device))
    velocity = model(noised(video, t, noise), t, cond)
    return nnf.mse_loss(velocity.float(), (noise - video).float())


@torch.no_grad()
def heldout_loss(model: nn.Module, batches: list, config: TrainConfig, seed: int = 1234) -> float:
    """Loss on fixed batches with fixed noise and timesteps and no dropout: comparable across
    checkpoints, so a drop means the model learned, not that the draw was lucky."""
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in batches:
        d = draw(batch.video, config, generator, dropout=False)
        total += float(flow_loss(model, batch.video, batch.cond, d)) * len(batch)
        count += len(batch)
    model.train(was_training)
    return total / max(count, 1)
