"""Chunk-by-chunk generation with the causal student.

``CachedStreamer``: references are encoded once into the cache's sink; each chunk is denoised
in a few Euler steps attending to the cache, then run once more clean (t = 0) to write its keys
and values, exactly what the student saw as context in training. ``RecomputeStreamer`` is the
baseline the benchmark compares against: the same model re-encodes the references and the
whole context on every step. Both produce the same frames (a test checks this).

Conditioning is read through a window of frames around the chunk (audio attention looks
``audio_window`` token frames ahead), so driving audio may be arbitrarily long or endless;
beyond its end the audio is masked and the last state is held.
"""

from __future__ import annotations

import dataclasses

import torch

from lpm_train.diffusion.euler_sampler import time_grid
from lpm_train.models.conditions import Conditions
from lpm_train.models.dit import VideoDiT
from lpm_train.stream.kv_cache import StreamingKVCache

_FRAME_FIELDS = ("audio_speak", "audio_listen", "speak_valid", "listen_valid", "state")


def conditions_window(cond: Conditions, first: int, count: int, margin: int) -> tuple[Conditions, int]:
    """Frames ``[first - margin, first + count + margin)`` of ``cond`` (clipped at the start,
    padded past the end); returns the slice and where ``first`` sits in it."""
    total = cond.state.shape[1]
    lo, hi = max(first - margin, 0), first + count + margin
    pad = max(hi - total, 0)
    values = {}
    for name in _FRAME_FIELDS:
        full = getattr(cond, name)
        x = full[:, lo : min(hi, total)]
        if pad:
            # Past the end of the audio: masked audio (as outside a training clip), last state held.
            filler = full[:, -1:].expand(-1, pad) if name == "state" else full.new_zeros(x.shape[0], pad, *x.shape[2:])
            x = torch.cat([x, filler], 1)
        values[name] = x
    return dataclasses.replace(cond, **values), first - lo


class CachedStreamer:
    def __init__(
        self,
        model: VideoDiT,
        cond: Conditions,
        chunk_frames: int,
        window_frames: int,
        steps: int,
        shift: float = 1.0,
    ):
        pt = model.patch[0]
        self.model, self.cond, self.chunk_frames, self.steps = model, cond, chunk_frames, steps
        self.grid = time_grid(steps, shift)
        self.margin = model.config.audio_window * pt
        self.cache = StreamingKVCache(window_frames // pt)
        self.next_frame = 0
        self.started = False

    @torch.no_grad()
    def start(self) -> None:
        self.cache.set_sink(self.model.reference_kv(self.cond) if self.cond.refs.shape[1] else None)
        self.started = True

    @torch.no_grad()
    def next_chunk(self, noise: torch.Tensor) -> torch.Tensor:
        """Denoise ``noise [B, chunk_frames, C, H, W]`` into the next chunk of frames."""
        if not self.started:
            self.start()
        cond, first = conditions_window(self.cond, self.next_frame, self.chunk_frames, self.margin)
        return self.denoise(noise, cond, first)

    @torch.no_grad()
    def denoise(self, noise: torch.Tensor, cond: Conditions, first: int) -> torch.Tensor:
        """The next chunk from ``noise``, conditioned on ``cond`` whose frame ``first`` is the chunk's
        first: a live session passes conditions as they arrive instead of holding them all."""
        past, n_refs = self.cache.past(), self.cache.n_refs
        x = noise
        b = x.shape[0]
        # The chunk's conditions are the same at every step: encode them once.
        inputs = self.model.chunk_inputs(
            cond, first, x.shape[1] // self.model.patch[0], past[0].frames if past else 0, n_refs
        )
        for i in range(self.steps):
            t = self.grid[i].to(x.device).expand(b)
            v, _ = self.model.forward_cached(x, t, cond, first, past, n_refs, inputs)
            x = x + (self.grid[i + 1] - self.grid[i]).to(x.device) * v
        _, kvs = self.model.forward_cached(x, torch.zeros(b, device=x.device), cond, first, past, n_refs, inputs)
        self.cache.append(kvs)
        self.next_frame += self.chunk_frames
        return x


class RecomputeStreamer:
    """Baseline without a KV cache: every step runs the block-causal model over references +
    context + the new chunk. Its frames equal the cached streamer's as long as the context fits
    the window (the benchmark's setting); once frames are evicted the two differ, because
    cached keys keep the context they were computed with."""

    def __init__(
        self,
        model: VideoDiT,
        cond: Conditions,
        chunk_frames: int,
        window_frames: int,
        steps: int,
        shift: float = 1.0,
    ):
        self.model, self.cond, self.chunk_frames, self.steps = model, cond, chunk_frames, steps
        self.window = window_frames
        self.grid = time_grid(steps, shift)
        self.margin = model.config.audio_window * model.patch[0]
        self.context: torch.Tensor | None = None
        self.next_frame = 0

    @torch.no_grad()
    def next_chunk(self, noise: torch.Tensor) -> torch.Tensor:
        b, c = noise.shape[:2]
        n_context = 0 if self.context is None else self.context.shape[1]
        first = self.next_frame - n_context
        cond, offset = conditions_window(self.cond, first, n_context + c, self.margin)
        x = noise
        for i in range(self.steps):
            t = torch.cat([torch.zeros(b, n_context), self.grid[i].expand(b, c)], 1).to(x.device)
            clip = x if self.context is None else torch.cat([self.context, x], 1)
            v = self.model(clip, t, cond, first_frame=offset)[:, n_context:]
            x = x + (self.grid[i + 1] - self.grid[i]).to(x.device) * v
        context = x if self.context is None else torch.cat([self.context, x], 1)
        self.context = context[:, max(context.shape[1] - self.window, 0) :]
        self.next_frame += c
        return x
