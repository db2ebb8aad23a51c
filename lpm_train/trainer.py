"""What base training and distillation share: a run folder, a per-rank noise generator, exact
restore and save of checkpoints, and the step / batch counters that make a resume replay the data.

A subclass builds its models in its constructor (in the order that fixes the initial weights),
names what its checkpoint holds (``state`` / ``load_state``), and implements ``step`` on one batch,
``evaluate`` and its own ``run`` loop. ``restore`` and ``save`` are the same for both: the step,
the number of batches consumed (the data stream skips them on resume) and every rank's RNG state
go into the checkpoint beside the subclass's state.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lpm_train.checkpoint import capture_rng, latest_checkpoint, load_checkpoint, restore_rank_rng, save_checkpoint
from lpm_train.config import LpmTrainConfig
from lpm_train.runtime import Runtime, rank_seed

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    def __init__(self, config: LpmTrainConfig, runtime: Runtime, run_dir: Path, seed: int) -> None:
        self.config = config
        self.runtime = runtime
        self.run_dir = run_dir
        self.seed = seed
        # this rank's noise, timesteps and dropout; restored exactly on resume
        self.generator = torch.Generator().manual_seed(rank_seed(seed, runtime.rank))
        self.step_count = 0  # optimiser steps taken
        self.consumed = 0  # batches read from the stream, skipped ones included
        self.skipped_batches = 0  # steps every rank skipped because some rank's batch was empty

    def state(self) -> dict[str, Any]:
        """The subclass's part of a checkpoint: weights, optimisers, whatever else resumes it."""
        raise NotImplementedError

    def load_state(self, blob: dict[str, Any]) -> None:
        raise NotImplementedError

    def restore(self) -> bool:
        """Continue from the run folder's latest checkpoint; False when there is none."""
        checkpoint = latest_checkpoint(self.run_dir)
        if checkpoint is None:
            return False
        blob = load_checkpoint(checkpoint, self.runtime.device)
        self.load_state(blob)
        self.step_count, self.consumed = blob["step"], blob["batches_consumed"]
        if not restore_rank_rng(blob, self.runtime.rank, self.runtime.world, self.generator):
            # a checkpoint from another world size: a fresh, still deterministic, stream per rank
            self.generator.manual_seed(rank_seed(self.seed + self.step_count, self.runtime.rank))
        log.info("resumed %s at step %d (%d batches consumed)", checkpoint, self.step_count, self.consumed)
        return True

    def save(self) -> None:
        """Write a checkpoint (rank 0); every rank must call it, the RNG gathering is collective."""
        rng_ranks = self.runtime.gather_objects(capture_rng(self.generator))
        if not self.runtime.is_main:
            return
        save_checkpoint(
            self.run_dir / "checkpoint.pt",
            step=self.step_count,
            state={**self.state(), "batches_consumed": self.consumed},
            generator=self.generator,
            rng_ranks=rng_ranks if self.runtime.world > 1 else None,
            keep=self.config.train.keep_checkpoints,
        )

    def accept_batch(self, usable: bool) -> bool:
        """Count one batch read from the stream, and say whether every rank can train on it; if some
        rank cannot, all skip it together (counted in ``skipped_batches``) and stay in step."""
        self.consumed += 1
        if self.runtime.all_ranks_have(usable):
            return True
        self.skipped_batches += 1
        return False
