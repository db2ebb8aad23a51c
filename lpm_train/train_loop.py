"""Base training: the audio-, text- and reference-conditioned DiT on the curated shards.

``BaseTrainer`` holds one run: ``restore``, ``step`` (one optimiser step on a batch),
``evaluate`` (the held-out loss), ``save`` and ``validate`` (videos) are its methods and ``run``
strings them together. Resumes from ``<out_dir>/checkpoint.pt`` when it exists. A resumed run continues the loss
sequence of the uninterrupted run exactly: weights, optimiser, EMA, RNG states and the number
of batches consumed are restored, and the data stream replays deterministically to that point.

Under ``torchrun`` each rank reads its own slice of the shards and draws its own noise,
timesteps and dropout (``rank_seed``); the weights start identical (seeded before the per-rank
seeds) and DDP averages the gradients. A batch that came out empty on any rank (every sample
undecodable) is skipped by all ranks together, so they stay in step. Logged losses are the
mean over ranks, i.e. the loss of the global batch; only rank 0 writes files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lpm_train.config import LpmTrainConfig, save_resolved
from lpm_train.data.sample_selection import warn_if_selection_changed
from lpm_train.data.shard_loader import ThroughputMeter, make_loader
from lpm_train.data.video_batch import VideoBatch
from lpm_train.diffusion.rectified_flow import draw, flow_loss, heldout_loss
from lpm_train.ema import ModelEma
from lpm_train.latent.autoencoder import FrozenAutoencoder, encoded_batch, load_codec
from lpm_train.metrics_log import MetricsLog
from lpm_train.model_factory import build_model
from lpm_train.runtime import Runtime, data_parallel, rank_seed, setup_runtime
from lpm_train.sample_videos import teacher_generator, validation_sources, write_videos
from lpm_train.trainer import Trainer, seed_everything

log = logging.getLogger(__name__)


@dataclass
class BaseRunResult:
    run_dir: Path
    step: int
    losses: list[tuple[int, float]] = field(default_factory=list)  # steps run by this call
    heldout_start: float | None = None
    heldout_end: float | None = None
    samples_per_s: float = 0.0
    skipped_samples: int = 0  # this rank's
    skipped_batches: int = 0  # steps every rank skipped because some rank's batch was empty


def learning_rate(step: int, base: float, warmup: int) -> float:
    """Linear warm-up then constant: depends on the step alone, so resuming cannot shift it."""
    return base * min(1.0, (step + 1) / max(warmup, 1))


def load_heldout(config: LpmTrainConfig, runtime: Runtime, codec: FrozenAutoencoder | None) -> list[VideoBatch]:
    if not config.data.heldout_shards:
        return []
    loader = make_loader(config.data, config.data.heldout_shards, resampled=False, shuffle=False, split_by_rank=False)
    batches = []
    for batch in loader:
        if len(batch):
            batches.append(encoded_batch(batch.to(runtime.device), codec))
        if len(batches) >= config.train.heldout_batches:
            break
    return batches


class BaseTrainer(Trainer):
    """The conditioned DiT trained with rectified flow on the curated shards."""

    def __init__(self, config: LpmTrainConfig) -> None:
        if not config.data.shards:
            raise ValueError("data.shards is empty: point it at the training shards")
        tc = config.train
        runtime = setup_runtime(tc.precision, tc.threads)
        super().__init__(config, runtime, Path(tc.out_dir), tc.seed)
        seed_everything(tc.seed)  # the same initial weights on every rank
        self.model = build_model(config).to(runtime.device)
        seed_everything(rank_seed(tc.seed, runtime.rank))
        self.ema = ModelEma(self.model, tc.ema_decay)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
        self.heldout_start: float | None = None
        self.codec: FrozenAutoencoder | None = None  # set by ``run``: None when the model works on pixels
        self.heldout: list[VideoBatch] = []
        self.trained: torch.nn.Module = self.model  # the DDP-wrapped (and compiled) model ``step`` calls

    def state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "heldout_start": self.heldout_start,
            "config": self.config.to_dict(),
            "chunk_frames": 0,
        }

    def load_state(self, blob: dict) -> None:
        self.model.load_state_dict(blob["model"])
        self.ema.load_state_dict(blob["ema"])
        self.optimizer.load_state_dict(blob["optimizer"])
        self.heldout_start = blob.get("heldout_start")

    def step(self, batch: VideoBatch) -> float:
        """One optimiser step on a batch already on the device; the loss averaged over ranks."""
        tc = self.config.train
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.step_count, tc.lr, tc.warmup_steps)
        d = draw(batch.video, tc, self.generator)
        with self.runtime.autocast():
            loss = flow_loss(self.trained, batch.video, batch.cond, d)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        self.optimizer.step()
        self.ema.update(self.model)
        self.step_count += 1
        (global_loss,) = self.runtime.mean_over_ranks([loss.item()])
        return global_loss

    def evaluate(self) -> float | None:
        """The held-out loss with fixed noise (None without held-out shards)."""
        return heldout_loss(self.model, self.heldout, self.config.train) if self.heldout else None

    def validate(self, sources: list) -> None:
        with self.runtime.autocast():
            generate = teacher_generator(self.ema.model, self.config, self.config.sample.seed, self.runtime.device,
                                         self.codec)
            write_videos(sources, generate, self.run_dir / "samples" / f"step-{self.step_count:08d}")

    def run(self) -> BaseRunResult:
        config, tc, runtime = self.config, self.config.train, self.runtime
        resumed = self.restore()
        result = BaseRunResult(self.run_dir, self.step_count)
        self.codec = load_codec(config.model, runtime.device)
        self.heldout = load_heldout(config, runtime, self.codec)
        if self.heldout and self.heldout_start is None:
            self.heldout_start = self.evaluate()
        if runtime.is_main:
            if resumed:
                warn_if_selection_changed(self.run_dir / "config.yaml", config.data)
            save_resolved(config, self.run_dir / "config.yaml")
        metrics = MetricsLog(self.run_dir / "log.jsonl", runtime.is_main)
        sources = validation_sources(config, runtime.is_main)
        # Unused parameters: a batch of clips without references leaves the reference embeddings out.
        self.trained = data_parallel(self.model, runtime, find_unused_parameters=True)
        if tc.compile:
            self.trained = torch.compile(self.trained)
        loader = iter(make_loader(config.data, config.data.shards, config.data.resampled, skip_batches=self.consumed,
                                  sampling=config.data.sampling))
        meter = ThroughputMeter()
        data_wait = 0.0
        self.model.train()
        while self.step_count < tc.steps:
            waited = time.perf_counter()
            batch = next(loader)
            data_wait += time.perf_counter() - waited
            result.skipped_samples += batch.skipped
            if not self.accept_batch(len(batch) > 0):
                continue
            loss = self.step(encoded_batch(batch.to(runtime.device), self.codec))
            meter.add(len(batch) * runtime.world)
            result.losses.append((self.step_count, loss))
            if self.step_count % tc.log_every == 0 or self.step_count == tc.steps:
                metrics.write(
                    {
                        "step": self.step_count,
                        "loss": loss,
                        "lr": self.optimizer.param_groups[0]["lr"],
                        "samples_per_s": meter.samples_per_s,
                        "data_wait_s": data_wait,
                        "skipped_samples": runtime.sum_over_ranks(result.skipped_samples),
                        "skipped_batches": self.skipped_batches,
                    }
                )
            if self.step_count % tc.checkpoint_every == 0 or self.step_count == tc.steps:
                self.save()
            if sources and self.step_count % tc.validate_every == 0:
                self.validate(sources)

        result.step, result.skipped_batches = self.step_count, self.skipped_batches
        result.samples_per_s = meter.samples_per_s
        result.heldout_start = self.heldout_start
        if self.heldout:
            result.heldout_end = self.evaluate()
            metrics.write({"step": self.step_count, "heldout_start": self.heldout_start,
                           "heldout_end": result.heldout_end})
        metrics.close()
        return result


def train_base(config: LpmTrainConfig) -> BaseRunResult:
    return BaseTrainer(config).run()
