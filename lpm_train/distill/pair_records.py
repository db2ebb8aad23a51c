"""ODE pairs as stored and read back: one sample = ``<key>.ode.npz`` + ``<key>.json``.

The npz holds the teacher's states at the student's times (``trajectory``, noise first), its
sample (``clean``), the times and the conditions as features. States are stored as bfloat16 by
default (``distill.pair_dtype``; numpy has no bfloat16, so the bits go in a uint16 array named
``<name>_bf16``) and always come back as float32. Reading is shuffled before decode and split by
rank like the video loader, and tolerant: an unreadable pair is logged and skipped.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from lpm_train.data.byte_shuffle import byte_bounded_shuffle
from lpm_train.data.shape_batcher import batches_by_shape
from lpm_train.data.shard_stream import (
    RawSample,
    ReaderPosition,
    current_reader_position,
    expand_shard_urls,
    raw_sample_stream,
)
from lpm_train.models.conditions import Conditions, stack_conditions

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


def encode_pair(
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
