"""Tiny models and random conditions for the model, sampler and streaming tests."""

import torch

from lpm_train.config import ModelConfig
from lpm_train.models.conditions import Conditions
from lpm_train.models.dit import ConditionDims, VideoDiT

SIZE, AUDIO = 16, 8


def conditions(b=2, t=8, refs=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    state = torch.ones(b, t, dtype=torch.long)
    state[:, t // 2 :] = 2
    return Conditions(
        audio_speak=torch.randn(b, t, AUDIO, generator=g),
        audio_listen=torch.randn(b, t, AUDIO, generator=g),
        speak_valid=state == 1,
        listen_valid=state == 2,
        text=torch.randint(1, 50, (b, 6), generator=g),
        text_valid=torch.ones(b, 6, dtype=torch.bool),
        refs=torch.randn(b, refs, 3, SIZE, SIZE, generator=g),
        ref_valid=torch.ones(b, refs, dtype=torch.bool),
        state=state,
    )


def model(attention="full", depth=2, chunk_frames=0, patch=(1, 4, 4), perturb=True, seed=0):
    torch.manual_seed(seed)
    config = ModelConfig(attention=attention, depth=depth, hidden=32, heads=2, patch=list(patch), audio_window=1)
    m = VideoDiT(config, ConditionDims(AUDIO, 50, 0, 6, SIZE), chunk_frames).eval()
    if perturb:  # adaLN-Zero starts as the identity; give every path non-zero weights
        with torch.no_grad():
            for p in m.parameters():
                p.add_(0.1 * torch.randn_like(p))
    return m


def noise_chunks(n, chunk=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, chunk, 3, SIZE, SIZE, generator=g) for _ in range(n)]
