"""One DiT block: adaLN-Zero self-attention (joint, or spatial then temporal), windowed audio
cross-attention, caption cross-attention, MLP.

Reference frames travel through the same blocks (self-attention and MLP, at t = 0) but skip the
cross-attentions: they are identity images, not driven by sound or text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as nnf
from torch import nn

from lpm_train.models.attention import CrossKV, FrameKV, FrameSelfAttention, MaskedCrossAttention
from lpm_train.models.embeddings import layer_norm, modulate, zero_


@dataclass
class BlockInputs:
    """What a block needs besides the tokens; built once per forward by the DiT."""

    n_refs: int  # leading reference frames in the token tensor
    rotary: tuple[torch.Tensor, torch.Tensor]  # cos/sin for (cached frames, current frames)
    frame_mask: torch.Tensor | None  # [B, F, F_cached + F]
    speak: tuple[torch.Tensor, torch.Tensor] | None  # audio windows [B, Fv, W, D] and validity
    listen: tuple[torch.Tensor, torch.Tensor] | None
    text: tuple[torch.Tensor, torch.Tensor] | None  # [B, L, D] and validity
    # Cross-attention keys/values by module, kept while the same conditions serve several calls
    # (a streaming chunk's denoising steps); None: compute them every call.
    memo: dict[nn.Module, CrossKV] | None = field(default=None)


class DiTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, factorised: bool, audio_stream: str):
        super().__init__()
        self.factorised, self.audio_stream = factorised, audio_stream
        if factorised:
            self.spatial = FrameSelfAttention(dim, heads, "spatial")
            self.attn = FrameSelfAttention(dim, heads, "temporal")
        else:
            self.attn = FrameSelfAttention(dim, heads, "joint")
        self.n_mod = 9 if factorised else 6
        self.ada = zero_(nn.Linear(dim, self.n_mod * dim))
        self.audio_attn = MaskedCrossAttention(dim, heads)
        self.text_attn = MaskedCrossAttention(dim, heads)
        self.audio_norm, self.text_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))

    def forward(
        self, x: torch.Tensor, c: torch.Tensor, inputs: BlockInputs, past: FrameKV | None = None
    ) -> tuple[torch.Tensor, FrameKV | None]:
        """``x [B, F, N, D]`` tokens, ``c [B, F, D]`` per-frame conditioning (timestep, ...)."""
        mods = self.ada(nnf.silu(c)).chunk(self.n_mod, dim=-1)
        if self.factorised:
            s_shift, s_scale, s_gate = mods[6:9]
            out, _ = self.spatial(modulate(layer_norm(x), s_shift, s_scale))
            x = x + s_gate.unsqueeze(2) * out
        shift, scale, gate, m_shift, m_scale, m_gate = mods[:6]
        out, kv = self.attn(modulate(layer_norm(x), shift, scale), inputs.rotary, inputs.frame_mask, past)
        x = x + gate.unsqueeze(2) * out

        r = inputs.n_refs
        if x.shape[1] > r:
            video = x[:, r:]
            b, f, n, d = video.shape
            audio = inputs.speak if self.audio_stream == "speak" else inputs.listen
            if audio is not None:
                tokens, valid = audio
                attended = self.audio_attn(
                    self.audio_norm(video).reshape(b * f, n, d),
                    tokens.reshape(b * f, -1, d),
                    valid.reshape(b * f, -1),
                    inputs.memo,
                )
                video = video + attended.view(b, f, n, d)
            if inputs.text is not None:
                tokens, valid = inputs.text
                attended = self.text_attn(self.text_norm(video).reshape(b, f * n, d), tokens, valid, inputs.memo)
                video = video + attended.view(b, f, n, d)
            x = torch.cat([x[:, :r], video], dim=1) if r else video

        x = x + m_gate.unsqueeze(2) * self.mlp(modulate(layer_norm(x), m_shift, m_scale))
        return x, kv
