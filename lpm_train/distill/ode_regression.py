"""Stage 1 of distillation: regress the causal student onto the teacher's ODE end points.

Each chunk of a clip independently takes one of the student's few-step times (or is clean), so
the student learns to jump from any of its times straight to the teacher's sample while
attending to context chunks that are noisy or clean; at inference the context is always clean.

The input at time ``t`` is either the stored teacher trajectory state, or the point ``t`` of
the way along the straight line from the teacher's sample to its noise (the "reflow" coupling
of rectified flow). The teacher's paths are curved, so an Euler step of the student lands near
the straight line, not on the teacher's path: training on both keeps multi-step sampling
consistent instead of only the first jump.
"""

from __future__ import annotations

import torch
from torch import nn

from lpm_train.diffusion.rectified_flow import noised, predicted_clean
from lpm_train.distill.pair_records import OdePairBatch


def chunk_inputs(
    pairs: OdePairBatch, chunk_frames: int, generator: torch.Generator, straight_fraction: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Returns inputs ``[B, T, ...]``, per-frame times ``[B, T]`` and which frames are noisy
    (where the loss applies)."""
    b, s, t_len = pairs.trajectory.shape[:3]
    n_chunks = t_len // chunk_frames
    device = pairs.trajectory.device
    level = torch.randint(0, s + 1, (b, n_chunks), generator=generator)  # s = clean
    straight = torch.rand(b, n_chunks, generator=generator) < straight_fraction
    frame_level = level.repeat_interleave(chunk_frames, dim=1).to(device)  # [B, T]
    frame_straight = straight.repeat_interleave(chunk_frames, dim=1).to(device)
    states = torch.cat([pairs.trajectory, pairs.clean.unsqueeze(1)], dim=1)  # [B, S+1, T, ...]
    index = frame_level.view(b, 1, t_len, *([1] * (states.dim() - 3))).expand(b, 1, t_len, *states.shape[3:])
    on_path = states.gather(1, index).squeeze(1)
    times = torch.cat([pairs.times, pairs.times.new_zeros(1)])[frame_level]
    on_line = noised(pairs.clean, times, pairs.noise)
    inputs = torch.where(frame_straight.view(b, t_len, *([1] * (on_path.dim() - 2))), on_line, on_path)
    return inputs, times, frame_level < s


def regression_loss(
    student: nn.Module, pairs: OdePairBatch, chunk_frames: int, generator: torch.Generator, straight_fraction: float
) -> torch.Tensor:
    inputs, times, noisy = chunk_inputs(pairs, chunk_frames, generator, straight_fraction)
    velocity = student(inputs, times, pairs.cond)
    error = (predicted_clean(inputs, times, velocity) - pairs.clean).float().pow(2).mean(dim=(2, 3, 4))
    return (error * noisy).sum() / noisy.sum().clamp(min=1)
