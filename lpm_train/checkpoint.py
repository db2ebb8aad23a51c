"""Checkpoints: everything needed to continue a run as if it had never stopped.

Model, optimiser, EMA, step, batches consumed, and every RNG state (the trainer's generator,
torch CPU/CUDA, numpy, python) of every rank: rank 0 writes, but each rank draws its own noise,
so each rank's states are gathered into ``rng_ranks`` and each rank restores its own.
Written to a temporary file in the same directory and moved into place with ``os.replace``, so
a crash mid-write leaves the previous checkpoint intact. Each save is kept as
``checkpoint-<step>.pt`` (the newest ``keep`` of them) and ``checkpoint.pt`` is a hard link to
the newest, which is what a run resumes from. Loaded with ``weights_only=True``: RNG states are
stored as tensors and plain Python values.
"""

from __future__ import annotations

import logging
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

LATEST = "checkpoint.pt"
_STEP_FILE = re.compile(r"^checkpoint-(\d+)\.pt$")


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
    # Every RNG state is a CPU byte tensor, the CUDA ones too; a checkpoint loaded with
    # ``map_location=cuda`` (as a GPU run resumes) moved them to the GPU, which set_state refuses.
    torch.set_rng_state(state["torch"].cpu())
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.cpu().numpy(), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"].cpu())


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


def save_checkpoint(
    path: Path,
    *,
    step: int,
    state: dict[str, Any],
    generator: torch.Generator | None,
    rng_ranks: list[dict[str, Any]] | None = None,
    keep: int = 0,
) -> None:
    """``state`` holds the state dicts (``model``, ``optimizer``, ``ema``, ...) and run facts;
    ``rng_ranks`` every rank's ``capture_rng`` (multi-process runs). ``keep > 0``: also keep the
    save as ``checkpoint-<step>.pt`` beside ``path``, and only the newest ``keep`` of those."""
    payload = {"step": step, "rng": capture_rng(generator), **state}
    if rng_ranks is not None:
        payload["rng_ranks"] = rng_ranks
    if keep <= 0:
        atomic_save(payload, path)
        return
    numbered = path.with_name(f"checkpoint-{step:08d}.pt")
    atomic_save(payload, numbered)
    link = path.with_name(f".{path.name}.{os.getpid()}.link")
    link.unlink(missing_ok=True)
    try:
        os.link(numbered, link)  # one file on disk, two names; the replace is atomic
        os.replace(link, path)
    finally:
        link.unlink(missing_ok=True)
    for old in step_checkpoints(path.parent)[:-keep]:
        old.unlink(missing_ok=True)


def step_checkpoints(run_dir: Path) -> list[Path]:
    """The kept ``checkpoint-<step>.pt`` files, oldest first."""
    found = [(int(m.group(1)), p) for p in Path(run_dir).glob("checkpoint-*.pt") if (m := _STEP_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def restore_rank_rng(blob: dict[str, Any], rank: int, world: int, generator: torch.Generator) -> bool:
    """Restore this rank's RNG states from a checkpoint; False (states left as seeded) when the
    checkpoint was written by a different number of ranks, whose streams cannot be continued."""
    states = blob.get("rng_ranks")
    if states is None and world == 1:
        restore_rng(blob["rng"], generator)
        return True
    if states is not None and len(states) == world:
        restore_rng(states[rank], generator)
        return True
    written_by = len(states) if states is not None else 1
    log.warning("checkpoint written by %d rank(s), resuming with %d: RNG streams restart", written_by, world)
    return False


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    return torch.load(path, map_location=map_location, weights_only=True)


def latest_checkpoint(run_dir: Path) -> Path | None:
    path = Path(run_dir) / LATEST
    return path if path.is_file() else None
