"""3-D patchify: a video becomes frames of patch tokens, keeping the frame axis explicit.

Tokens are laid out ``[B, F, N, P]`` (token frames, patches per frame, patch values) rather
than flattened, because attention masks, timesteps, audio windows and the KV cache are all
per frame, and the factorised attention needs both axes.
"""

from __future__ import annotations

import torch


def patchify(video: torch.Tensor, patch: tuple[int, int, int]) -> torch.Tensor:
    """``[B, T, C, H, W]`` -> ``[B, T/pt, (H/ph)(W/pw), C*pt*ph*pw]``."""
    b, t, c, h, w = video.shape
    pt, ph, pw = patch
    x = video.reshape(b, t // pt, pt, c, h // ph, ph, w // pw, pw)
    x = x.permute(0, 1, 4, 6, 3, 2, 5, 7)  # B, F, gh, gw, C, pt, ph, pw
    return x.reshape(b, t // pt, (h // ph) * (w // pw), c * pt * ph * pw)


def unpatchify(tokens: torch.Tensor, patch: tuple[int, int, int], channels: int, height: int) -> torch.Tensor:
    """Inverse of :func:`patchify` for square frames of side ``height``."""
    b, f, n, _ = tokens.shape
    pt, ph, pw = patch
    gh, gw = height // ph, n // (height // ph)
    x = tokens.reshape(b, f, gh, gw, channels, pt, ph, pw)
    x = x.permute(0, 1, 5, 4, 2, 6, 3, 7)  # B, F, pt, C, gh, ph, gw, pw
    return x.reshape(b, f * pt, channels, gh * ph, gw * pw)


def pool_frames(features: torch.Tensor, frames_per_token: int) -> torch.Tensor:
    """Per-frame ``[B, T, ...]`` features -> per-token-frame ``[B, T/pt, pt*...]`` by stacking."""
    b, t = features.shape[:2]
    return features.reshape(b, t // frames_per_token, -1)
