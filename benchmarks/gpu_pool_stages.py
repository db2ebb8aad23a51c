"""The two stages and the synthetic videos of ``benchmarks/gpu_pool_check.py``.

``npy_probe`` (a CPU pool) fills a synthetic video's ``MediaInfo``; ``conv_features`` (a GPU pool, a
quarter of a GPU an actor) resolves ``auto`` to a device on its worker, loads a small seeded conv
net there and runs it on the video's frames. Each writes a note of what Ray gave its worker (pid,
``CUDA_VISIBLE_DEVICES``, GPU ids, assigned resources) into ``notes_dir`` for the check to read.
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from curation.ingest.local_copy import local_media
from curation.media.media_info import MediaInfo
from curation.runtime.device import resolve_device
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork

FPS = 25.0
GPU_SHARE = 0.25  # four actors on one GPU


def make_net() -> Any:
    """A small conv net, the same weights wherever it is built (seeded)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 128, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, 64),
    ).eval()


def features(net: Any, frames: np.ndarray, device: str) -> np.ndarray:
    """(frames, 64) float32: the net on the frames scaled to [0, 1], run on ``device``."""
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 3, 1, 2).float() / 255.0
        return net(x).cpu().numpy()


def worker_facts() -> dict[str, Any]:
    """What Ray gave the worker this runs in."""
    import ray

    context = ray.get_runtime_context()
    return {
        "pid": os.getpid(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "gpu_ids": [str(i) for i in ray.get_gpu_ids()],
        "assigned": context.get_assigned_resources(),
    }


def gpu_processes() -> int | None:
    """Processes holding a CUDA context on the first visible GPU, as NVML lists them (None: no NVML)."""
    try:
        import pynvml
    except ImportError:
        try:
            from ray._private.thirdparty import pynvml
        except ImportError:
            return None
    try:
        pynvml.nvmlInit()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0] or "0"
        handle = pynvml.nvmlDeviceGetHandleByIndex(int(visible))
        return len(pynvml.nvmlDeviceGetComputeRunningProcesses(handle))
    except Exception:  # NVML missing or refused (a VM, a container): the count is only a hint
        return None


@dataclass
class NpyProbe(Stage):
    """The probe of a synthetic video: its frames' shape as the record's ``MediaInfo``."""

    name: ClassVar[str] = "npy_probe"
    adds: ClassVar[tuple[str, ...]] = ("video",)
    resources: ClassVar[Resources] = Resources(cpus=0.5)
    notes_dir: str = ""

    def process(self, work: VideoWork) -> VideoWork:
        frames = np.load(local_media(work), mmap_mode="r")
        n, height, width, _ = frames.shape
        work.video = MediaInfo(
            container="npy",
            duration_s=n / FPS,
            has_video=True,
            width=width,
            height=height,
            rotation=0,
            fps=FPS,
            variable_fps=False,
            n_frames=n,
            video_codec="raw",
            has_audio=False,
            audio_codec=None,
            audio_sample_rate=None,
            audio_channels=None,
        )
        note = {"stage": self.name, **worker_facts()}
        Path(self.notes_dir, f"{work.video_id}-{self.name}.json").write_text(json.dumps(note))
        return work


@dataclass
class ConvFeatures(Stage):
    """A model stage: ``auto`` device resolved on the worker, a conv net over the video's frames."""

    name: ClassVar[str] = "conv_features"
    needs: ClassVar[tuple[str, ...]] = ("video",)
    resources: ClassVar[Resources] = Resources(cpus=0.5, gpus=GPU_SHARE)
    notes_dir: str = ""
    tf32: bool = True
    reps: int = 1  # forward passes a video (the last one's output kept): GPU work long enough to overlap
    hold_s: float = 0.0  # the least time a video holds its actor (a stand-in for a model's work), not compute

    def setup(self) -> None:
        import torch

        started = time.perf_counter()
        torch.backends.cudnn.allow_tf32 = self.tf32
        torch.backends.cuda.matmul.allow_tf32 = self.tf32
        self._device = resolve_device("auto")
        self._net = make_net().to(self._device)
        if self._device == "cuda":
            torch.cuda.synchronize()
        self._setup_s = time.perf_counter() - started
        self._up_at = time.time()
        # Every actor says it is up, whether or not a video reaches it: a pool hands videos to its
        # actors as they come up, so the first up may take all of a handful of short videos.
        up = {"stage": self.name, **worker_facts(), "device": self._device, "up_at": self._up_at}
        Path(self.notes_dir, f"up-{os.getpid()}.json").write_text(json.dumps(up))

    def process(self, work: VideoWork) -> VideoWork:
        import torch

        frames = np.load(local_media(work))
        started, clock = time.time(), time.perf_counter()
        for _ in range(max(1, self.reps)):
            output = features(self._net, frames, self._device)  # .cpu() waits for the GPU's work
        wall = time.perf_counter() - clock
        time.sleep(max(0.0, self.hold_s - wall))
        cuda = self._device == "cuda"
        note = {
            "stage": self.name,
            **worker_facts(),
            "device": self._device,
            "torch_cuda_available": torch.cuda.is_available(),
            "cuda_device_name": torch.cuda.get_device_name() if cuda else None,
            "cuda_peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
            "gpu_processes_seen": gpu_processes() if cuda else None,
            "setup_s": round(self._setup_s, 3),
            "up_at": self._up_at,
            "start": started,
            "end": started + wall,
            "compute_s": round(wall, 4),
        }
        np.save(Path(self.notes_dir, f"{work.video_id}-{self.name}.npy"), output)
        Path(self.notes_dir, f"{work.video_id}-{self.name}.json").write_text(json.dumps(note))
        return work


def synthetic_videos(folder: Path, n: int, frames: int, size: int) -> list[Path]:
    """Smooth random frames with noise, uint8 (frames, size, size, 3), one .npy a video."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        base = rng.integers(0, 256, (1, size // 8, size // 8, 3)).repeat(8, 1).repeat(8, 2)
        clip = np.clip(base.astype(np.int16) + rng.integers(-20, 21, (frames, size, size, 3)), 0, 255)
        paths.append(folder / f"v{i}.npy")
        np.save(paths[-1], clip.astype(np.uint8))
    return paths
