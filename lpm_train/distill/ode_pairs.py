"""Teacher ODE trajectories as WebDataset shards (``lpm-train make-ode-pairs``).

For each curated sample the teacher integrates the guided flow ODE from a seeded noise with
``sampler.steps`` Euler steps; we keep the states at the student's few-step times (including
the noise at t = 1) and the end point. Conditions are stored as features, so distillation never
decodes video. Storage and reading: ``distill/pair_records.py``.

Under ``torchrun`` the work is split by rank: each rank reads its own slice of the shards, draws
its own noise, writes its own ``<split>-r<rank>-<n>.tar`` files and an even share of the pairs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zlib
from pathlib import Path

import torch
import webdataset as wds

from lpm_train.config import LpmTrainConfig
from lpm_train.data.shard_loader import make_loader
from lpm_train.diffusion.euler_sampler import euler_sample, time_grid
from lpm_train.distill.pair_records import PAIR_MEMBER, encode_pair
from lpm_train.latent.autoencoder import encoded_batch, load_codec
from lpm_train.model_factory import model_from_checkpoint
from lpm_train.runtime import Runtime, rank_seed, setup_runtime

log = logging.getLogger(__name__)


def student_times(config: LpmTrainConfig) -> torch.Tensor:
    """The student's few-step grid without its final 0: where trajectories are sampled."""
    return time_grid(config.distill.student_steps, config.sampler.shift)[:-1]


class _AtomicTarWriter(wds.TarWriter):
    """A TarWriter that writes ``<name>.tmp`` and renames on close: readers never see half a shard."""

    def __init__(self, path: Path):
        self.final, self.tmp = path, path.with_name(path.name + ".tmp")
        super().__init__(str(self.tmp), encoder=False)

    def close(self) -> None:
        super().close()
        self.tmp.replace(self.final)


@torch.no_grad()
def write_ode_pairs(
    config: LpmTrainConfig,
    shards: list[str],
    out_dir: Path,
    prefix: str,
    limit: int,
    resampled: bool,
    runtime: Runtime | None = None,
) -> int:
    """This rank's teacher trajectories for up to ``limit`` samples of ``shards`` (its share of
    them under ``torchrun``); returns how many it wrote. ``resampled``: draw shuffled clips and
    random windows until ``limit`` (training pairs); otherwise one pass in order over this
    rank's shards (held-out pairs)."""
    runtime = runtime or setup_runtime(config.train.precision, config.train.threads)
    if resampled:
        limit = len(range(runtime.rank, limit, runtime.world))
    teacher, teacher_config, _ = model_from_checkpoint(Path(config.distill.teacher_checkpoint), "ema", 0)
    teacher = teacher.to(runtime.device)
    codec = load_codec(teacher_config.model, runtime.device)  # pairs live where the teacher works
    # The teacher's data shapes, with this command's batch size and its choice of samples.
    data = dataclasses.replace(
        teacher_config.data, batch_size=config.data.batch_size, num_workers=0, seed=config.distill.seed,
        sync_verdicts=config.data.sync_verdicts, skip_picture_twins=config.data.skip_picture_twins,
    )
    steps, student_steps = config.sampler.steps, config.distill.student_steps
    if steps % student_steps:
        raise ValueError("sampler.steps must be a multiple of distill.student_steps")
    times = student_times(config)
    split_seed = config.distill.seed * 1000 + zlib.crc32(prefix.encode()) % 1000
    generator = torch.Generator().manual_seed(rank_seed(split_seed, runtime.rank))
    name = f"{prefix}-r{runtime.rank:03d}" if runtime.world > 1 else prefix
    out_dir.mkdir(parents=True, exist_ok=True)
    written, shard_index, in_shard = 0, 0, 0
    writer: _AtomicTarWriter | None = None
    for batch in make_loader(data, shards, resampled=resampled, shuffle=resampled):
        if written >= limit:
            break
        if not len(batch):
            continue
        batch = encoded_batch(batch.to(runtime.device), codec)
        # Noise is drawn on the CPU (the same pairs on any device), the ODE runs on the device.
        noise = torch.randn(batch.video.shape, generator=generator)
        cond = batch.cond
        with runtime.autocast():
            clean, kept = euler_sample(
                teacher,
                noise.to(runtime.device),
                cond,
                steps,
                config.sampler.shift,
                config.sampler.guidance_text,
                config.sampler.guidance_audio,
                keep_every=steps // student_steps,
            )
        clean, trajectory = clean.float().cpu(), torch.stack(kept, dim=1).float().cpu()
        cond = cond.to("cpu")
        for row, key in enumerate(batch.keys):
            if written >= limit:
                break
            if writer is None or in_shard >= config.distill.ode_pairs_per_shard:
                if writer is not None:
                    writer.close()
                    shard_index += 1
                writer, in_shard = _AtomicTarWriter(out_dir / f"{name}-{shard_index:06d}.tar"), 0
            record = {
                "source_key": key,
                "teacher": config.distill.teacher_checkpoint,
                "steps": steps,
                "times": times.tolist(),
                "shape": list(clean.shape[1:]),
                "references": int(batch.cond.refs.shape[1]),
                "storage": config.distill.pair_dtype,
                "space": "latent" if codec is not None else "pixel",
            }
            writer.write(
                {
                    "__key__": f"{key}_{written:06d}",
                    PAIR_MEMBER: encode_pair(
                        trajectory[row], times, clean[row], cond.index(slice(row, row + 1)), config.distill.pair_dtype
                    ),
                    "json": json.dumps(record).encode(),
                }
            )
            written, in_shard = written + 1, in_shard + 1
    if writer is not None:
        writer.close()
    log.info("wrote %d %s ODE pairs to %s", written, prefix, out_dir)
    return written


def make_ode_pairs(config: LpmTrainConfig) -> dict[str, int]:
    if not config.distill.teacher_checkpoint:
        raise ValueError("distill.teacher_checkpoint is empty: point it at the base run's checkpoint.pt")
    runtime = setup_runtime(config.train.precision, config.train.threads)
    out = Path(config.distill.ode_pairs_dir)
    limit = config.distill.ode_pairs
    mine = {"train": write_ode_pairs(config, config.data.shards, out, "train", limit, True, runtime)}
    if config.data.heldout_shards:
        mine["heldout"] = write_ode_pairs(config, config.data.heldout_shards, out, "heldout", limit, False, runtime)
    return {split: runtime.sum_over_ranks(count) for split, count in mine.items()}
