"""Where and how the trainer runs: device, precision, data parallelism.

CUDA present: bf16 autocast and, under ``torchrun`` (``WORLD_SIZE > 1``), DistributedDataParallel
over NCCL. CPU: plain float32 (bf16 on a CPU is slower and only an explicit ``precision: bf16``
turns it on). Everything else in the trainer is device-agnostic.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int
    world: int
    autocast_dtype: torch.dtype | None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)


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


def data_parallel(model: nn.Module, runtime: Runtime) -> nn.Module:
    if runtime.world <= 1:
        return model
    ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
