"""The streaming KV cache: references as a permanent attention sink, plus a rolling window of
the most recent generated frames. Its size is bounded by ``refs + window`` frames per block, so
generation can run indefinitely in constant memory.

Keys are stored un-rotated; the model assigns rotary positions from the cache layout on every
step (references at 0, the window at 1..W, the new chunk after), so positions never grow past
what training saw, however long the stream runs.
"""

from __future__ import annotations

import torch

from lpm_train.models.attention import FrameKV


class StreamingKVCache:
    def __init__(self, window_frames: int):
        if window_frames < 0:
            raise ValueError("window_frames must be >= 0")
        self.window = window_frames  # token frames of generated context kept
        self.sink: list[FrameKV] | None = None
        self.context: list[FrameKV] | None = None
        self.n_refs = 0
        self.frames_seen = 0  # all token frames ever appended (evicted ones included)

    def set_sink(self, kvs: list[FrameKV] | None) -> None:
        self.sink = [FrameKV(kv.k.detach(), kv.v.detach()) for kv in kvs] if kvs else None
        self.n_refs = self.sink[0].frames if self.sink else 0

    @property
    def context_frames(self) -> int:
        return self.context[0].frames if self.context else 0

    def past(self) -> list[FrameKV] | None:
        if self.sink is None:
            return self.context
        if self.context is None:
            return self.sink
        return [
            FrameKV(torch.cat([s.k, c.k], 2), torch.cat([s.v, c.v], 2))
            for s, c in zip(self.sink, self.context, strict=True)
        ]

    def append(self, kvs: list[FrameKV]) -> None:
        """Add a chunk's keys/values (computed on the clean chunk) and evict beyond the window."""
        added = kvs[0].frames
        self.frames_seen += added
        if self.context is None:
            merged = [FrameKV(kv.k.detach(), kv.v.detach()) for kv in kvs]
        else:
            merged = [
                FrameKV(torch.cat([c.k, kv.k.detach()], 2), torch.cat([c.v, kv.v.detach()], 2))
                for c, kv in zip(self.context, kvs, strict=True)
            ]
        start = max(merged[0].frames - self.window, 0)
        # clone() releases the evicted frames' storage instead of keeping a view onto it.
        self.context = [FrameKV(kv.k[:, :, start:].clone(), kv.v[:, :, start:].clone()) for kv in merged]

    def nbytes(self) -> int:
        total = 0
        for kvs in (self.sink or [], self.context or []):
            for kv in kvs:
                total += kv.k.numel() * kv.k.element_size() + kv.v.numel() * kv.v.element_size()
        return total
