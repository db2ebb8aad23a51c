"""Attention over frame-structured tokens ``[B, F, N, D]``, with optional cached past frames.

Three layouts share one module: ``joint`` (full attention over all frames x patches),
``temporal`` (each patch position attends across frames) and ``spatial`` (patches within one
frame). Self-attention masks are given per frame (``[B, Fq, Fk]``) and expanded here, which is
what makes block-causal training and the KV cache two views of the same computation.
Keys are cached *before* rotary rotation so a rolling window can be re-positioned.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as nnf
from torch import nn

from lpm_train.models.embeddings import apply_rotary, zero_


@dataclass
class FrameKV:
    """Keys and values of some frames, ``[B, H, F, N, d]``, keys not yet rotated."""

    k: torch.Tensor
    v: torch.Tensor

    @property
    def frames(self) -> int:
        return int(self.k.shape[2])


@dataclass
class CrossKV:
    """A cross-attention's keys and values ``[B', H, 1 + Lk, d]`` and mask ``[B', 1, 1, 1 + Lk]``."""

    k: torch.Tensor
    v: torch.Tensor
    mask: torch.Tensor


class FrameSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, layout: str):
        super().__init__()
        if layout not in {"joint", "temporal", "spatial"}:
            raise ValueError(f"unknown attention layout {layout!r}")
        self.heads, self.head_dim, self.layout = heads, dim // heads, layout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.q_norm = nn.RMSNorm(self.head_dim, eps=1e-6)
        self.k_norm = nn.RMSNorm(self.head_dim, eps=1e-6)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self,
        x: torch.Tensor,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
        frame_mask: torch.Tensor | None = None,
        past: FrameKV | None = None,
    ) -> tuple[torch.Tensor, FrameKV | None]:
        """``rotary``: cos/sin ``[Fp + F, d/2]`` for past then current frames.
        ``frame_mask``: ``[B, F, Fp + F]`` bool, True = may attend. Returns the output and the
        current frames' keys/values (None for the spatial layout, which never caches)."""
        b, f, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, f, n, 3, self.heads, self.head_dim).permute(3, 0, 4, 1, 2, 5)
        q, k = self.q_norm(q), self.k_norm(k)  # [B, H, F, N, d]
        if self.layout == "spatial":
            out = nnf.scaled_dot_product_attention(
                *(t.transpose(1, 2).reshape(b * f, self.heads, n, -1) for t in (q, k, v))
            )
            out = out.view(b, f, self.heads, n, self.head_dim).permute(0, 1, 3, 2, 4)
            return self.proj(out.reshape(b, f, n, -1)), None

        current = FrameKV(k, v)
        keys, values = (k, v) if past is None else (torch.cat([past.k, k], 2), torch.cat([past.v, v], 2))
        fk = keys.shape[2]
        if rotary is not None:
            cos, sin = rotary
            q = apply_rotary(q, cos[-f:, None], sin[-f:, None])
            keys = apply_rotary(keys, cos[:, None], sin[:, None])
        if self.layout == "joint":
            q = q.reshape(b, self.heads, f * n, -1)
            keys, values = keys.reshape(b, self.heads, fk * n, -1), values.reshape(b, self.heads, fk * n, -1)
            mask = None
            if frame_mask is not None:
                mask = frame_mask.repeat_interleave(n, 1).repeat_interleave(n, 2).unsqueeze(1)
            out = nnf.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
            out = out.view(b, self.heads, f, n, -1).permute(0, 2, 3, 1, 4)
        else:  # temporal: one sequence of frames per patch position
            q = q.permute(0, 3, 1, 2, 4).reshape(b * n, self.heads, f, -1)
            keys = keys.permute(0, 3, 1, 2, 4).reshape(b * n, self.heads, fk, -1)
            values = values.permute(0, 3, 1, 2, 4).reshape(b * n, self.heads, fk, -1)
            mask = None if frame_mask is None else frame_mask.repeat_interleave(n, 0).unsqueeze(1)
            out = nnf.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
            out = out.view(b, n, self.heads, f, -1).permute(0, 3, 1, 2, 4)
        return self.proj(out.reshape(b, f, n, -1)), current


class MaskedCrossAttention(nn.Module):
    """Queries attend to context tokens plus a learned null token, so a fully masked context
    (dropped for guidance, idle frames, no caption) gives a defined, learned output."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.null = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.normal_(self.null, std=0.02)
        # Zero output: a new block starts as the identity, like the adaLN-Zero gates.
        self.proj = zero_(nn.Linear(dim, dim))

    def context_kv(self, context: torch.Tensor, valid: torch.Tensor) -> CrossKV:
        """Keys, values and mask of ``context [B', Lk, D]`` with the null token in front."""
        bq, _, d = context.shape
        context = torch.cat([self.null.expand(bq, 1, d), context], dim=1)
        valid = torch.cat([valid.new_ones(bq, 1), valid], dim=1)
        k, v = self.kv(context).view(bq, -1, 2, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return CrossKV(k, v, valid[:, None, None, :])

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor,
        valid: torch.Tensor,
        memo: dict[nn.Module, CrossKV] | None = None,
    ) -> torch.Tensor:
        """``x [B', Lq, D]``, ``context [B', Lk, D]``, ``valid [B', Lk]``. ``memo``: keys and values
        computed by an earlier call on the same context are taken from it (and stored there)."""
        bq, lq, d = x.shape
        kv = memo.get(self) if memo is not None else None
        if kv is None:
            kv = self.context_kv(context, valid)
            if memo is not None:
                memo[self] = kv
        q = self.q(x).view(bq, lq, self.heads, -1).transpose(1, 2)
        out = nnf.scaled_dot_product_attention(q, kv.k, kv.v, attn_mask=kv.mask)
        return self.proj(out.transpose(1, 2).reshape(bq, lq, d))
