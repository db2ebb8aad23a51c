"""Where and how the trainer runs: device, precision, data parallelism, per-rank randomness.

CUDA present: bf16 autocast and, under ``torchrun`` (``WORLD_SIZE > 1``), DistributedDataParallel
over NCCL. CPU: plain float32 (bf16 on a CPU is slower and only an explicit ``precision: bf16``
turns it on) and gloo under ``torchrun``. Everything else in the trainer is device-agnostic.

The collectives every command needs live here, so a single-process run (no process group) goes
through the same code: ``all_ranks_have`` (a batch is skipped by every rank or by none, else the
ranks fall out of step and the next gradient all-reduce hangs), ``mean_over_ranks`` (logged
losses describe the global batch) and ``gather_objects`` (rank 0 saves every rank's RNG state).
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

# An odd constant (2^32 / golden ratio): rank r's seed is ``seed + r * _RANK_STRIDE`` mod 2^32
# (numpy's seed range), so rank 0 keeps the single-process seed and the ranks of one run get
# distinct seeds (an odd stride is invertible mod 2^32).
_RANK_STRIDE = 0x9E3779B1


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s generator: noise, timesteps and condition dropout must differ
    across ranks, or data parallelism trains on N copies of one draw."""
    return (seed + rank * _RANK_STRIDE) % 2**32


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int
    world: int
    autocast_dtype: torch.dtype | None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1 and dist.is_initialized()

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def all_ranks_have(self, flag: bool) -> bool:
        """True only if ``flag`` is True on every rank (a MIN all-reduce): every rank calls it
        once per step, so all of them take the same branch."""
        if not self.distributed:
            return flag
        value = torch.tensor([1 if flag else 0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return bool(value.item())

    def mean_over_ranks(self, values: list[float]) -> list[float]:
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return (tensor / self.world).tolist()

    def sum_over_ranks(self, value: int) -> int:
        if not self.distributed:
            return value
        tensor = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.all_reduce(tensor)
        return int(tensor.item())

    def gather_objects(self, obj: Any) -> list[Any]:
        """Every rank's ``obj`` (tensors and plain values), in rank order, on every rank.

        Sent as ``torch.save`` bytes: ``all_gather_object`` pickles tensors through storages
        that torch 2.8 cannot unpickle (``UntypedStorage has no attribute 'dtype'``)."""
        if not self.distributed:
            return [obj]
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        gathered: list[Any] = [None] * self.world
        dist.all_gather_object(gathered, buffer.getvalue())
        return [torch.load(io.BytesIO(data), weights_only=True) for data in gathered]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def setup_runtime(precision: str = "auto", threads: int = 0) -> Runtime:
    if threads > 0:
        # On a shared CPU, fewer threads than cores avoids OpenMP spin-waiting on busy cores.
        torch.set_num_threads(threads)
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if precision not in {"auto", "fp32", "bf16"}:
        raise ValueError(f"precision must be auto, fp32 or bf16, not {precision!r}")
    use_bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    return Runtime(device, rank, world, torch.bfloat16 if use_bf16 else None)


def data_parallel(model: nn.Module, runtime: Runtime, find_unused_parameters: bool = False) -> nn.Module:
    if not runtime.distributed:
        return model
    ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused_parameters)
