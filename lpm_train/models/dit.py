"""The video diffusion transformer: "Base LPM" in miniature, and its causal student.

Sequence: reference frames (clean, t = 0, a type and an index embedding) followed by the
video's token frames. Rotary positions over frames: references at 0, video frame ``f`` at
``f + 1``. References attend only to references, so their keys and values do not depend on
the video and can be computed once as a permanent attention sink when streaming.

``chunk_frames = 0`` gives the bidirectional teacher; ``chunk_frames > 0`` the block-causal
student, where a frame sees the references, its own chunk and earlier chunks. The same weights
run either way, which is how the student is initialised from the teacher.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as nnf
from torch import nn
from torch.utils.checkpoint import checkpoint

from lpm_train.config import ModelConfig
from lpm_train.models.attention import FrameKV
from lpm_train.models.blocks import BlockInputs, DiTBlock
from lpm_train.models.conditions import Conditions
from lpm_train.models.embeddings import (
    AudioWindows,
    CaptionEmbedding,
    FrameRotary,
    TimestepEmbedder,
    layer_norm,
    modulate,
    spatial_sincos,
    zero_,
)
from lpm_train.models.patchify import patchify, pool_frames, unpatchify


@dataclass(frozen=True)
class ConditionDims:
    """Input widths the data pipeline produces (the model's conditioning interface)."""

    audio: int  # features per video frame
    text_vocab: int  # hashed tokenizer buckets (0 with a sentence encoder)
    text_dim: int  # sentence-encoder width (0 with token ids)
    text_tokens: int
    size: int  # frame side in pixels


def attention_mask(
    ref_valid: torch.Tensor, q_ref: torch.Tensor, k_ref: torch.Tensor, q_chunk: torch.Tensor, k_chunk: torch.Tensor
) -> torch.Tensor | None:
    """Frame-level mask ``[B, Fq, Fk]``: references see references; video sees valid references
    and video of the same or an earlier chunk (pass equal chunk ids for bidirectional)."""
    q_ref, k_ref = q_ref.unsqueeze(1), k_ref.unsqueeze(0)
    earlier_or_same = k_chunk.unsqueeze(0) <= q_chunk.unsqueeze(1)
    # Anyone may attend to a reference; only video attends to video (same or earlier chunk).
    allowed = k_ref | (~q_ref & earlier_or_same)
    mask = allowed.unsqueeze(0).repeat(ref_valid.shape[0], 1, 1)
    ref_columns = k_ref[0]
    if ref_columns.any():
        # A dropped or missing reference is hidden from the video; references still see each
        # other, so no query row is ever fully masked.
        mask[:, :, ref_columns] &= ref_valid.unsqueeze(1) | q_ref.view(1, -1, 1)
    return None if bool(mask.all()) else mask


class VideoDiT(nn.Module):
    def __init__(self, config: ModelConfig, dims: ConditionDims, chunk_frames: int = 0):
        super().__init__()
        self.config, self.dims = config, dims
        self.patch = tuple(config.patch)
        pt, ph, pw = self.patch
        d = config.hidden
        self.chunk_tokens = chunk_frames // pt  # token frames per causal chunk (0: bidirectional)
        self.patch_embed = nn.Linear(config.channels * pt * ph * pw, d)
        self.register_buffer("spatial_pos", spatial_sincos(dims.size // ph, d), persistent=False)
        self.type_embed = nn.Embedding(2, d)  # 0 video, 1 reference
        self.ref_index = nn.Embedding(config.max_refs, d)
        self.state_embed = nn.Embedding(3, d)
        self.time_embed = TimestepEmbedder(d)
        self.speak_audio = AudioWindows(dims.audio * pt, d, config.audio_window)
        self.listen_audio = AudioWindows(dims.audio * pt, d, config.audio_window)
        self.caption = CaptionEmbedding(d, max(dims.text_vocab, 1), dims.text_dim, dims.text_tokens)
        # Speak and listen audio alternate between blocks (as in LPM): even blocks hear the
        # speech being produced, odd blocks the speech being listened to.
        self.blocks = nn.ModuleList(
            DiTBlock(d, config.heads, config.mlp_ratio, config.attention == "factorised", ("speak", "listen")[i % 2])
            for i in range(config.depth)
        )
        self.rotary = FrameRotary(d // config.heads, config.rope_theta)
        self.final_ada = zero_(nn.Linear(d, 2 * d))
        self.out = zero_(nn.Linear(d, config.channels * pt * ph * pw))

    @property
    def causal(self) -> bool:
        return self.chunk_tokens > 0

    def set_chunk_frames(self, chunk_frames: int) -> None:
        self.chunk_tokens = chunk_frames // self.patch[0]

    # -- embedding -----------------------------------------------------------------------------
    def _frame_conditioning(self, t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.time_embed(t) + self.state_embed(state)

    def _video_tokens(
        self, x: torch.Tensor, t: torch.Tensor, cond: Conditions, first: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pt = self.patch[0]
        tokens = self.patch_embed(patchify(x, self.patch)) + self.spatial_pos + self.type_embed.weight[0]
        t = t.view(-1, 1).expand(-1, x.shape[1]) if t.dim() == 1 else t
        state = cond.state[:, first : first + x.shape[1]]
        return tokens, self._frame_conditioning(t[:, ::pt], state[:, ::pt])

    def _ref_tokens(self, cond: Conditions) -> tuple[torch.Tensor, torch.Tensor]:
        b, r = cond.refs.shape[:2]
        pt = self.patch[0]
        # A reference is a still image: repeated over a temporal patch it is one clean frame.
        frames = cond.refs.unsqueeze(2).expand(-1, -1, pt, -1, -1, -1).flatten(1, 2)
        tokens = self.patch_embed(patchify(frames, self.patch)) + self.spatial_pos + self.type_embed.weight[1]
        tokens = tokens + self.ref_index.weight[:r].view(1, r, 1, self.config.hidden)
        zeros = torch.zeros(b, r, device=tokens.device)
        return tokens, self.time_embed(zeros)

    def _block_inputs(
        self, cond: Conditions, first: int, count: int, n_refs: int, positions: torch.Tensor, mask: torch.Tensor | None
    ) -> BlockInputs:
        pt = self.patch[0]
        first_token = first // pt
        speak = listen = text = None
        if count:
            speak = self.speak_audio(
                pool_frames(cond.audio_speak, pt), pool_frames(cond.speak_valid, pt).any(-1), first_token, count
            )
            listen = self.listen_audio(
                pool_frames(cond.audio_listen, pt), pool_frames(cond.listen_valid, pt).any(-1), first_token, count
            )
            text = (self.caption(cond.text), cond.text_valid)
        return BlockInputs(n_refs, self.rotary(positions), mask, speak, listen, text)

    def _output(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.final_ada(nnf.silu(c)).chunk(2, dim=-1)
        out = self.out(modulate(layer_norm(x), shift, scale))
        return unpatchify(out, self.patch, self.config.channels, self.dims.size)

    # -- whole clip -----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: Conditions, first_frame: int = 0) -> torch.Tensor:
        """Velocity for clip ``x [B, T, C, H, W]`` at times ``t`` ([B] or per frame [B, T])."""
        video, c_video = self._video_tokens(x, t, cond, first_frame)
        refs, c_refs = self._ref_tokens(cond)
        r, f = refs.shape[1], video.shape[1]
        device = x.device
        is_ref = torch.arange(r + f, device=device) < r
        chunk = torch.zeros(r + f, dtype=torch.long, device=device)
        if self.causal:
            chunk[r:] = torch.arange(f, device=device) // self.chunk_tokens
        mask = attention_mask(cond.ref_valid, is_ref, is_ref, chunk, chunk)
        positions = torch.cat([torch.zeros(r, device=device), torch.arange(1, f + 1, device=device)])
        inputs = self._block_inputs(cond, first_frame, f, r, positions, mask)
        h, c = torch.cat([refs, video], 1), torch.cat([c_refs, c_video], 1)
        recompute = self.config.activation_checkpointing and torch.is_grad_enabled()
        for block in self.blocks:
            h, _ = checkpoint(block, h, c, inputs, use_reentrant=False) if recompute else block(h, c, inputs)
        return self._output(h[:, r:], c_video)

    # -- streaming ------------------------------------------------------------------------------
    def reference_kv(self, cond: Conditions) -> list[FrameKV]:
        """Per-block keys/values of the references alone: the streaming attention sink."""
        refs, c = self._ref_tokens(cond)
        r = refs.shape[1]
        positions = torch.zeros(r, device=refs.device)
        inputs = self._block_inputs(cond, 0, 0, r, positions, None)
        kvs = []
        h = refs
        for block in self.blocks:
            h, kv = block(h, c, inputs)
            kvs.append(kv)
        return kvs

    def chunk_inputs(
        self, cond: Conditions, first_frame: int, frames: int, past_frames: int, n_refs: int, memo: bool = True
    ) -> BlockInputs:
        """What the blocks need for one chunk of ``frames`` token frames after ``past_frames`` cached
        ones (``n_refs`` references first): the same for every denoising step of that chunk, so a
        streamer builds it once per chunk. With ``memo`` it then holds each cross-attention's keys
        and values of the chunk's audio and caption once the first step has computed them."""
        device = cond.state.device
        k_ref = torch.arange(past_frames + frames, device=device) < n_refs
        q_ref = torch.zeros(frames, dtype=torch.bool, device=device)
        mask = attention_mask(
            cond.ref_valid,
            q_ref,
            k_ref,
            torch.zeros(frames, dtype=torch.long, device=device),
            torch.zeros(past_frames + frames, dtype=torch.long, device=device),
        )
        positions = torch.cat(
            [torch.zeros(n_refs, device=device), torch.arange(1, past_frames - n_refs + frames + 1, device=device)]
        )
        inputs = self._block_inputs(cond, first_frame, frames, 0, positions, mask)
        inputs.memo = {} if memo else None
        return inputs

    def forward_cached(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        cond: Conditions,
        first_frame: int,
        past: list[FrameKV] | None,
        n_refs: int,
        inputs: BlockInputs | None = None,
    ) -> tuple[torch.Tensor, list[FrameKV]]:
        """Velocity for one chunk given cached past frames (``n_refs`` references, then video
        context). Returns the chunk's own keys/values so the caller decides what to cache.
        ``inputs``: this chunk's ``chunk_inputs``, when the caller runs several steps of it."""
        video, c = self._video_tokens(x, t, cond, first_frame)
        if inputs is None:
            # One call (a training rollout's step): no memo, because a block recomputed under
            # activation checkpointing must compute its keys again, not look them up.
            past_frames = past[0].frames if past else 0
            inputs = self.chunk_inputs(cond, first_frame, video.shape[1], past_frames, n_refs, memo=False)
        kvs = []
        h = video
        for block, block_past in zip(self.blocks, past or [None] * len(self.blocks), strict=True):
            h, kv = block(h, c, inputs, block_past)
            kvs.append(kv)
        return self._output(h, c), kvs
