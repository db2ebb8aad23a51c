"""How close the streaming student gets to the teacher in a few steps.

For held-out ODE pairs, the student streams the clip chunk by chunk (KV cache, the given
number of Euler steps) from the pair's own noise; the error is the mean squared difference to
the teacher's many-step sample from that same noise.
"""

from __future__ import annotations

import torch

from lpm_train.distill.pair_records import OdePairBatch
from lpm_train.models.dit import VideoDiT
from lpm_train.stream.streamer import CachedStreamer


@torch.no_grad()
def streamed_sample(
    student: VideoDiT, pairs: OdePairBatch, chunk_frames: int, steps: int, shift: float = 1.0
) -> torch.Tensor:
    t_len = pairs.noise.shape[1]
    streamer = CachedStreamer(student, pairs.cond, chunk_frames, t_len, steps, shift)
    chunks = [streamer.next_chunk(pairs.noise[:, f : f + chunk_frames]) for f in range(0, t_len, chunk_frames)]
    return torch.cat(chunks, dim=1)


@torch.no_grad()
def few_step_errors(
    student: VideoDiT, batches: list[OdePairBatch], chunk_frames: int, steps: tuple[int, ...], shift: float = 1.0
) -> dict[str, float]:
    was_training = student.training
    student.eval()
    errors = {}
    for n in steps:
        total, count = 0.0, 0
        for pairs in batches:
            sample = streamed_sample(student, pairs, chunk_frames, n, shift)
            total += float((sample - pairs.clean).pow(2).mean()) * len(pairs.keys)
            count += len(pairs.keys)
        errors[f"{n}_step"] = total / max(count, 1)
    student.train(was_training)
    return errors
