"""Checkpoints: everything needed to continue a run as if it had never stopped.

Model, optimiser, EMA, step, batches consumed, and every RNG state (the trainer's generator,
torch CPU/CUDA, numpy, python). Written to a temporary file in the same directory and moved
into place with ``os.replace``, so a crash mid-write leaves the previous checkpoint intact.
Loaded with ``weights_only=True``: RNG states are stored as tensors and plain Python values.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "checkpoint.pt"


def capture_rng(generator: torch.Generator | None = None) -> dict[str, Any]:
    numpy_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].copy()), *numpy_state[2:]],
        "python": list(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def restore_rng(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy(), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])


def atomic_save(payload: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(payload, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_checkpoint(path: Path, *, step: int, state: dict[str, Any], generator: torch.Generator | None) -> None:
    """``state`` holds the state dicts (``model``, ``optimizer``, ``ema``, ...) and run facts."""
    atomic_save({"step": step, "rng": capture_rng(generator), **state}, path)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    return torch.load(path, map_location=map_location, weights_only=True)


def latest_checkpoint(run_dir: Path) -> Path | None:
    path = Path(run_dir) / LATEST
    return path if path.is_file() else None
