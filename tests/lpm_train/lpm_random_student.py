"""A randomly initialised causal student saved as ``lpm-train distill`` saves one, for the tests of
the commands that load a student (live): speed and plumbing do not depend on trained weights."""

from __future__ import annotations

from pathlib import Path

import torch

from lpm_train.checkpoint import save_checkpoint
from lpm_train.config import load_config
from lpm_train.model_factory import build_model

CHUNK = 2


def save_random_student(path: Path, size: int = 16) -> Path:
    config = load_config(None, [f"data.size={size}", "model.depth=2", f"distill.chunk_frames={CHUNK}"])
    model = build_model(config, CHUNK).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # adaLN-Zero starts as the identity: give every path non-zero weights
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    state = {"model": model.state_dict(), "config": config.to_dict(), "chunk_frames": CHUNK}
    save_checkpoint(path, step=0, state=state, generator=None)
    return path
