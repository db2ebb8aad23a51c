"""Embeddings: timesteps, spatial positions, temporal rotary positions, captions, audio windows."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf
from torch import nn


def sinusoidal(values: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=values.device) / half)
    angles = values.float().unsqueeze(-1) * freqs
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


class TimestepEmbedder(nn.Module):
    """t in [0, 1] -> vector; sinusoidal on 1000·t (the DiT convention) then an MLP."""

    def __init__(self, dim: int, frequency_dim: int = 128):
        super().__init__()
        self.frequency_dim = frequency_dim
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(sinusoidal(t * 1000.0, self.frequency_dim))


def spatial_sincos(grid: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sin-cos position table ``[grid*grid, dim]`` (half the channels per axis)."""
    coords = torch.arange(grid, dtype=torch.float32)
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    return torch.cat([sinusoidal(ys.reshape(-1), dim // 2, 100.0), sinusoidal(xs.reshape(-1), dim // 2, 100.0)], -1)


class FrameRotary(nn.Module):
    """Rotary embedding over the frame axis: attention between frames depends only on their
    distance, which lets the streaming KV cache re-position a rolling window without recomputing."""

    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        freqs = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        angles = positions.to(torch.float64).unsqueeze(-1) * self.freqs
        return angles.cos().float(), angles.sin().float()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x [..., L, d]`` with ``cos, sin [L, d/2]`` (half-split pairing)."""
    first, second = x.chunk(2, dim=-1)
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=-1)


class CaptionEmbedding(nn.Module):
    """Token ids (hashed tokenizer, learned table) or sentence-encoder vectors -> model width."""

    def __init__(self, dim: int, vocab: int, input_dim: int, max_tokens: int):
        super().__init__()
        self.table = nn.Embedding(vocab, dim) if input_dim == 0 else None
        self.project = nn.Linear(input_dim, dim) if input_dim else None
        self.position = nn.Parameter(torch.zeros(max_tokens, dim))
        nn.init.normal_(self.position, std=0.02)
        self.norm = nn.LayerNorm(dim)

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        x = self.table(text) if self.table is not None else self.project(text.float())
        return self.norm(x + self.position[: x.shape[1]])


class AudioWindows(nn.Module):
    """Per-frame audio features -> for each token frame, the audio tokens of the frames within
    ``window`` of it, with a relative-offset embedding. The cross-attention of a frame sees only
    its window, so lips follow the sound at that instant rather than the whole clip."""

    def __init__(self, in_dim: int, dim: int, window: int):
        super().__init__()
        self.window = window
        self.project = nn.Sequential(nn.Linear(in_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.offset = nn.Parameter(torch.zeros(2 * window + 1, dim))
        nn.init.normal_(self.offset, std=0.02)

    def forward(
        self, features: torch.Tensor, valid: torch.Tensor, first: int, count: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``features [B, Fa, in_dim]``, ``valid [B, Fa]`` over all token frames of the clip;
        returns tokens ``[B, count, 2w+1, dim]`` and validity for frames ``first..first+count-1``."""
        w = self.window
        if features.shape[1] == 0:  # nothing to hear (e.g. streaming past the end of the audio)
            tokens = features.new_zeros(features.shape[0], count, 2 * w + 1, self.offset.shape[1])
            return tokens, torch.zeros(tokens.shape[:3], dtype=torch.bool, device=features.device)
        # Pad the clip with invalid zero frames so that every window lies inside, then take the
        # windows as strided views: no clamped gather, which torch 2.11's inductor cannot schedule
        # ("argument ... is not comparable"), and a frame outside the clip is simply invalid.
        right = max(0, first + count + w - features.shape[1])
        span = slice(first, first + count)
        windows = nnf.pad(features, (0, 0, w, right)).unfold(1, 2 * w + 1, 1)[:, span]  # [B, count, in, 2w+1]
        inside = nnf.pad(valid, (w, right), value=False).unfold(1, 2 * w + 1, 1)[:, span]  # [B, count, 2w+1]
        tokens = self.project(windows.transpose(-1, -2)) + self.offset  # [B, count, 2w+1, dim]
        return tokens, inside


def zero_(module: nn.Linear) -> nn.Linear:
    nn.init.zeros_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: ``x [B, F, N, D]`` with per-frame ``shift, scale [B, F, D]``."""
    return x * (1 + scale.unsqueeze(2)) + shift.unsqueeze(2)


def layer_norm(x: torch.Tensor) -> torch.Tensor:
    return nnf.layer_norm(x, x.shape[-1:], eps=1e-6)
