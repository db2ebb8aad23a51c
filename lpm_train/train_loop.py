"""Base training: the audio-, text- and reference-conditioned DiT on the curated shards.

Resumes from ``<out_dir>/checkpoint.pt`` when it exists. A resumed run continues the loss
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
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lpm_train.checkpoint import capture_rng, latest_checkpoint, load_checkpoint, restore_rank_rng, save_checkpoint
from lpm_train.config import LpmTrainConfig, save_resolved
from lpm_train.data.shard_loader import ThroughputMeter, make_loader
from lpm_train.data.video_batch import VideoBatch
from lpm_train.diffusion.rectified_flow import draw, flow_loss, heldout_loss
from lpm_train.ema import ModelEma
from lpm_train.latent.autoencoder import FrozenAutoencoder, encoded_batch, load_codec
from lpm_train.metrics_log import MetricsLog
from lpm_train.model_factory import build_model
from lpm_train.runtime import Runtime, data_parallel, rank_seed, setup_runtime
from lpm_train.sample_videos import teacher_generator, validation_sources, write_videos

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


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


def train_base(config: LpmTrainConfig) -> BaseRunResult:
    if not config.data.shards:
        raise ValueError("data.shards is empty: point it at the training shards")
    runtime = setup_runtime(config.train.precision, config.train.threads)
    tc = config.train
    seed_everything(tc.seed)  # the same initial weights on every rank
    run_dir = Path(tc.out_dir)
    model = build_model(config).to(runtime.device)
    seed_everything(rank_seed(tc.seed, runtime.rank))
    ema = ModelEma(model, tc.ema_decay)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    generator = torch.Generator().manual_seed(rank_seed(tc.seed, runtime.rank))
    result = BaseRunResult(run_dir, 0)
    consumed = 0

    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is not None:
        blob = load_checkpoint(checkpoint, runtime.device)
        model.load_state_dict(blob["model"])
        ema.load_state_dict(blob["ema"])
        optimizer.load_state_dict(blob["optimizer"])
        result.step, consumed = blob["step"], blob["batches_consumed"]
        result.heldout_start = blob.get("heldout_start")
        if not restore_rank_rng(blob, runtime.rank, runtime.world, generator):
            generator.manual_seed(rank_seed(tc.seed + result.step, runtime.rank))
        log.info("resumed %s at step %d (%d batches consumed)", checkpoint, result.step, consumed)

    codec = load_codec(config.model, runtime.device)  # None: the model works on pixels
    heldout = load_heldout(config, runtime, codec)
    if heldout and result.heldout_start is None:
        result.heldout_start = heldout_loss(model, heldout, tc)
    if runtime.is_main:
        save_resolved(config, run_dir / "config.yaml")
    metrics = MetricsLog(run_dir / "log.jsonl", runtime.is_main)
    sources = validation_sources(config, runtime.is_main)
    # Unused parameters: a batch of clips without references leaves the reference embeddings out.
    trained = data_parallel(model, runtime, find_unused_parameters=True)
    if tc.compile:
        trained = torch.compile(trained)
    loader = iter(make_loader(config.data, config.data.shards, config.data.resampled, skip_batches=consumed))
    meter = ThroughputMeter()
    data_wait = 0.0

    def save() -> None:
        rng_ranks = runtime.gather_objects(capture_rng(generator))  # collective: every rank calls it
        if runtime.is_main:
            state = {
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "optimizer": optimizer.state_dict(),
                "batches_consumed": consumed,
                "heldout_start": result.heldout_start,
                "config": config.to_dict(),
                "chunk_frames": 0,
            }
            save_checkpoint(
                run_dir / "checkpoint.pt",
                step=result.step,
                state=state,
                generator=generator,
                rng_ranks=rng_ranks if runtime.world > 1 else None,
                keep=tc.keep_checkpoints,
            )

    model.train()
    while result.step < tc.steps:
        waited = time.perf_counter()
        batch = next(loader)
        data_wait += time.perf_counter() - waited
        consumed += 1
        result.skipped_samples += batch.skipped
        if not runtime.all_ranks_have(len(batch) > 0):
            result.skipped_batches += 1
            continue
        batch = encoded_batch(batch.to(runtime.device), codec)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(result.step, tc.lr, tc.warmup_steps)
        d = draw(batch.video, tc, generator)
        with runtime.autocast():
            loss = flow_loss(trained, batch.video, batch.cond, d)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        ema.update(model)
        result.step += 1
        meter.add(len(batch) * runtime.world)
        (global_loss,) = runtime.mean_over_ranks([loss.item()])
        result.losses.append((result.step, global_loss))
        if result.step % tc.log_every == 0 or result.step == tc.steps:
            metrics.write(
                {
                    "step": result.step,
                    "loss": global_loss,
                    "lr": optimizer.param_groups[0]["lr"],
                    "samples_per_s": meter.samples_per_s,
                    "data_wait_s": data_wait,
                    "skipped_samples": runtime.sum_over_ranks(result.skipped_samples),
                    "skipped_batches": result.skipped_batches,
                }
            )
        if result.step % tc.checkpoint_every == 0 or result.step == tc.steps:
            save()
        if sources and result.step % tc.validate_every == 0:
            with runtime.autocast():
                generate = teacher_generator(ema.model, config, config.sample.seed, runtime.device, codec)
                write_videos(sources, generate, run_dir / "samples" / f"step-{result.step:08d}")

    result.samples_per_s = meter.samples_per_s
    if heldout:
        result.heldout_end = heldout_loss(model, heldout, tc)
        metrics.write({"step": result.step, "heldout_start": result.heldout_start, "heldout_end": result.heldout_end})
    metrics.close()
    return result
