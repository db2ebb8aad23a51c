"""Stage 2 of distillation: distribution-matching distillation (DMD / DMD2) with self-rollouts.

The student generates a clip the way it will stream it (chunk by chunk through the KV cache
with the references as a sink and the same rolling window of generated frames as ``stream``,
the few-step schedule, each chunk's exit step drawn at random as in Self-Forcing), so it is
trained on its own context, evicted frames included, rather than the teacher's. The generator gradient is the difference
between a "fake" score (a critic trained on the student's samples) and the "real" score (the
frozen teacher, with guidance), which moves the student's distribution toward the teacher's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn

from lpm_train.config import TrainConfig
from lpm_train.diffusion.euler_sampler import guided_velocity, time_grid
from lpm_train.diffusion.rectified_flow import draw, flow_loss, noised, predicted_clean
from lpm_train.models.conditions import Conditions
from lpm_train.models.dit import VideoDiT
from lpm_train.stream.kv_cache import StreamingKVCache


def student_rollout(
    student: VideoDiT,
    noise: torch.Tensor,
    cond: Conditions,
    chunk_frames: int,
    steps: int,
    shift: float,
    exit_step: int,
    window_frames: int = 0,
) -> torch.Tensor:
    """The student's clip from ``noise``; gradients flow through each chunk's exit step only
    (earlier steps and the cache writes are detached, which bounds memory like inference).
    ``window_frames``: generated frames kept as context (0: the whole clip)."""
    pt = student.patch[0]
    grid = time_grid(steps, shift).to(noise.device)
    b, t_len = noise.shape[:2]
    cache = StreamingKVCache((window_frames or t_len) // pt)
    with torch.no_grad():
        cache.set_sink(student.reference_kv(cond) if cond.refs.shape[1] else None)
    chunks = []
    for first in range(0, t_len, chunk_frames):
        x = noise[:, first : first + chunk_frames]
        past, n_refs = cache.past(), cache.n_refs
        with torch.no_grad():
            for i in range(exit_step):
                v, _ = student.forward_cached(x, grid[i].expand(b), cond, first, past, n_refs)
                x = x + (grid[i + 1] - grid[i]) * v
        t = grid[exit_step].expand(b)
        v, _ = student.forward_cached(x, t, cond, first, past, n_refs)
        clean = predicted_clean(x, t, v)
        with torch.no_grad():
            _, kvs = student.forward_cached(clean.detach(), torch.zeros(b, device=x.device), cond, first, past, n_refs)
        cache.append(kvs)
        chunks.append(clean)
    return torch.cat(chunks, dim=1)


def dmd_generator_loss(
    sample: torch.Tensor,
    cond: Conditions,
    teacher: nn.Module,
    critic: nn.Module,
    generator: torch.Generator,
    guidance_text: float,
    guidance_audio: float,
) -> torch.Tensor:
    b = sample.shape[0]
    t = (0.02 + 0.96 * torch.rand(b, generator=generator)).to(sample.device)
    noisy = noised(sample.detach(), t, torch.randn(sample.shape, generator=generator).to(sample.device))
    with torch.no_grad():
        real = predicted_clean(noisy, t, guided_velocity(teacher, noisy, t, cond, guidance_text, guidance_audio))
        fake = predicted_clean(noisy, t, critic(noisy, t, cond))
        # DMD's normaliser: the step is measured relative to how far the sample is from the
        # teacher's denoised estimate, so the loss scale does not depend on the noise level.
        scale = (sample - real).abs().mean(dim=tuple(range(1, sample.dim())), keepdim=True).clamp(min=1e-4)
        target = sample - (fake - real) / scale
    return 0.5 * nnf.mse_loss(sample.float(), target.float())


def critic_loss(
    critic: nn.Module, sample: torch.Tensor, cond: Conditions, config: TrainConfig, generator: torch.Generator
) -> torch.Tensor:
    """The critic follows the student's current distribution with the ordinary flow objective."""
    return flow_loss(critic, sample.detach(), cond, draw(sample, config, generator, dropout=False))
