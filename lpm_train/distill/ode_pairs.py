"""Teacher ODE trajectories as WebDataset shards (``lpm-train make-ode-pairs``).

For each curated sample the teacher integrates the guided flow ODE from a seeded noise with
``sampler.steps`` Euler steps; we keep the states at the student's few-step times (including
the noise at t = 1) and the end point. Conditions are stored as features, so distillation never
decodes video. One sample = ``<key>.ode.npz`` + ``<key>.json``.

Under ``torchrun`` the work is split by rank: each rank reads its own slice of the shards, draws
its own noise, writes its own ``<split>-r<rank>-<n>.tar`` files and an even share of the pairs.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import webdataset as wds

from lpm_train.config import LpmTrainConfig
from lpm_train.data.byte_shuffle import byte_bounded_shuffle
from lpm_train.data.shape_batcher import batches_by_shape
from lpm_train.data.shard_loader import make_loader
from lpm_train.data.shard_stream import (
    RawSample,
    ReaderPosition,
    current_reader_position,
    expand_shard_urls,
    raw_sample_stream,
)
from lpm_train.diffusion.euler_sampler import euler_sample, time_grid
from lpm_train.latent.autoencoder import encoded_batch, load_codec
from lpm_train.model_factory import model_from_checkpoint
from lpm_train.models.conditions import Conditions, stack_conditions
from lpm_train.runtime import Runtime, rank_seed, setup_runtime

log = logging.getLogger(__name__)

PAIR_MEMBER = "ode.npz"
PAIR_SHUFFLE_BYTES = 256 * 2**20  # ~8 pairs at gpu_small scale, hundreds at the tiny scale
_COND_FIELDS = [f.name for f in dataclasses.fields(Conditions)]


@dataclass
class OdePairBatch:
    keys: list[str]
    trajectory: torch.Tensor  # [B, S, T, C, H, W]: states at times[0] = 1 ... times[S-1]
    times: torch.Tensor  # [S]
    clean: torch.Tensor  # [B, T, C, H, W]: the teacher's sample
    cond: Conditions

    @property
    def noise(self) -> torch.Tensor:
        return self.trajectory[:, 0]

    def to(self, device: torch.device | str) -> OdePairBatch:
        return dataclasses.replace(
            self,
            trajectory=self.trajectory.to(device),
            times=self.times.to(device),
            clean=self.clean.to(device),
            cond=self.cond.to(device),
        )


def _state_array(x: torch.Tensor, dtype: str) -> np.ndarray:
    # numpy has no bfloat16: its bits are stored as uint16 under a ``_bf16`` name.
    return x.to(torch.bfloat16).view(torch.uint16).numpy() if dtype == "bfloat16" else x.float().numpy()


def _state_tensor(npz: np.lib.npyio.NpzFile, name: str) -> torch.Tensor:
    if f"{name}_bf16" in npz.files:
        return torch.from_numpy(npz[f"{name}_bf16"]).view(torch.bfloat16).float()
    return torch.from_numpy(npz[name])


def _encode_pair(
    trajectory: torch.Tensor, times: torch.Tensor, clean: torch.Tensor, cond: Conditions, dtype: str
) -> bytes:
    suffix = "_bf16" if dtype == "bfloat16" else ""
    arrays = {
        f"trajectory{suffix}": _state_array(trajectory, dtype),
        "times": times.numpy(),
        f"clean{suffix}": _state_array(clean, dtype),
    }
    arrays |= {f"cond_{name}": getattr(cond, name)[0].numpy() for name in _COND_FIELDS}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode_pair(raw: RawSample) -> OdePairBatch:
    """Trajectories come back as float32 whatever they were stored as."""
    with np.load(io.BytesIO(raw.members[PAIR_MEMBER]), allow_pickle=False) as npz:
        cond = Conditions(**{name: torch.from_numpy(npz[f"cond_{name}"]).unsqueeze(0) for name in _COND_FIELDS})
        return OdePairBatch(
            [raw.key],
            _state_tensor(npz, "trajectory").unsqueeze(0),
            torch.from_numpy(npz["times"]),
            _state_tensor(npz, "clean").unsqueeze(0),
            cond,
        )


def collate_pairs(items: list[OdePairBatch]) -> OdePairBatch:
    return OdePairBatch(
        [k for item in items for k in item.keys],
        torch.cat([i.trajectory for i in items]),
        items[0].times,
        torch.cat([i.clean for i in items]),
        stack_conditions([i.cond for i in items]),
    )


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
    data = dataclasses.replace(
        teacher_config.data, batch_size=config.data.batch_size, num_workers=0, seed=config.distill.seed
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
                    PAIR_MEMBER: _encode_pair(
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


def _pair_shape(raw: RawSample) -> tuple[int, ...] | None:
    if PAIR_MEMBER not in raw.members or "json" not in raw.members:
        return None
    record = json.loads(raw.members["json"])
    return (*record["shape"], record.get("references", 0))


def pair_batches(
    pattern: list[str], batch_size: int, resampled: bool, seed: int, skip: int = 0, split_by_rank: bool = True
) -> Iterator[OdePairBatch | None]:
    """Same-shape batches of ODE pairs in a reproducible (seeded) order, like the video loader;
    the first ``skip`` batches are passed over undecoded (resume). ``split_by_rank``: each rank
    reads its own shards (training); otherwise every rank reads all of them (evaluation). A
    batch whose every pair is unreadable comes out as ``None``, so batch counting (and resume)
    stays exact and the trainer can skip it together with the other ranks."""
    position = current_reader_position()
    position = ReaderPosition(position.rank, position.world) if split_by_rank else ReaderPosition()
    raw = raw_sample_stream(expand_shard_urls(pattern), resampled, seed, position)
    if resampled:
        # Shuffle before decode, as the video loader does: a shard's pairs come from neighbouring
        # clips, and ranks that happen to draw the same shard must not read it in the same order.
        rng = random.Random(f"pairs/{seed}/{position.rank}")
        raw = byte_bounded_shuffle(raw, PAIR_SHUFFLE_BYTES, rng)
    for index, (_, members) in enumerate(batches_by_shape(raw, _pair_shape, batch_size, 4 * batch_size)):
        if index < skip:
            continue
        decoded = []
        for member in members:
            try:
                decoded.append(decode_pair(member))
            except Exception as err:  # a bad pair is logged and skipped, never fatal
                log.warning("skip ODE pair %s (%s): %s: %s", member.key, member.url, type(err).__name__, err)
        yield collate_pairs(decoded) if decoded else None
