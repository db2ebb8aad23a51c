"""The trainer's CUDA paths: bf16 autocast, the KV-cache stream, torch.compile and checkpoints.

These need a CUDA GPU, which the CI machine does not have: there every test here is reported as
skipped with its reason (``-ra``). On a GPU machine run ``python -m pytest tests/lpm_train/test_lpm_cuda.py``;
docs/benchmarks.md records where and when they last ran.
"""

from __future__ import annotations

import json

import pytest
import torch
from lpm_tiny_models import conditions, model, noise_chunks

from lpm_train.bench import synthetic_conditions
from lpm_train.config import load_config
from lpm_train.data.video_batch import VideoBatch
from lpm_train.diffusion.rectified_flow import draw, flow_loss
from lpm_train.runtime import setup_runtime
from lpm_train.stream.streamer import CachedStreamer, RecomputeStreamer
from lpm_train.train_loop import BaseTrainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none visible)")

CUDA = torch.device("cuda")


def _config(tmp_path, *overrides):
    return load_config(None, [
        "data.size=16", "data.batch_size=4", "model.depth=2", "train.log_every=1000",
        f"train.out_dir={tmp_path / 'base'}", f"data.shards={json.dumps(['unused.tar'])}", *overrides,
    ])


def _batch(trainer, frames=8):
    config = trainer.config
    g = torch.Generator().manual_seed(0)
    video = torch.rand(config.data.batch_size, frames, 3, config.data.size, config.data.size, generator=g) * 2 - 1
    cond = synthetic_conditions(config, config.data.batch_size, frames)
    return VideoBatch([f"k{i}" for i in range(len(video))], video, cond).to(CUDA)


def test_auto_precision_is_bf16_autocast_on_cuda():
    runtime = setup_runtime("auto")
    assert runtime.device.type == "cuda"
    assert runtime.autocast_dtype == torch.bfloat16
    with runtime.autocast():
        product = torch.randn(8, 8, device=CUDA) @ torch.randn(8, 8, device=CUDA)
    assert product.dtype == torch.bfloat16


def test_bf16_training_step_tracks_fp32_and_learns_a_fixed_batch(tmp_path):
    trainer = BaseTrainer(_config(tmp_path))
    assert next(trainer.model.parameters()).is_cuda
    batch = _batch(trainer)
    d = draw(batch.video, trainer.config.train, torch.Generator().manual_seed(1))
    with torch.no_grad():
        fp32 = float(flow_loss(trainer.model, batch.video, batch.cond, d))
        with trainer.runtime.autocast():
            bf16 = float(flow_loss(trainer.model, batch.video, batch.cond, d))
    assert abs(bf16 - fp32) <= 0.02 * fp32, (bf16, fp32)
    losses = [trainer.step(batch) for _ in range(200)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-20:]) / 20 < 0.85 * sum(losses[:20]) / 20, losses
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in trainer.model.parameters())


def test_cuda_checkpoint_resumes_the_same_weights_and_noise(tmp_path):
    trainer = BaseTrainer(_config(tmp_path))
    batch = _batch(trainer)
    for _ in range(3):
        trainer.step(batch)
    trainer.save()
    expected = [trainer.step(batch) for _ in range(2)]

    resumed = BaseTrainer(_config(tmp_path))
    assert resumed.restore() and resumed.step_count == 3
    assert next(resumed.model.parameters()).is_cuda
    assert [resumed.step(batch) for _ in range(2)] == pytest.approx(expected, rel=1e-4)


@torch.no_grad()
def test_kv_cache_stream_on_cuda_matches_recompute_and_the_cpu():
    student = model("factorised", chunk_frames=2)
    cond, noise = conditions(b=1, t=12), noise_chunks(6)
    on_cpu = CachedStreamer(student, cond, 2, window_frames=12, steps=3)
    expected = [on_cpu.next_chunk(n) for n in noise]
    gpu_student, gpu_cond = model("factorised", chunk_frames=2).to(CUDA), cond.to(CUDA)
    cached = CachedStreamer(gpu_student, gpu_cond, 2, window_frames=12, steps=3)
    recompute = RecomputeStreamer(gpu_student, gpu_cond, 2, window_frames=12, steps=3)
    for n, cpu_frames in zip(noise, expected, strict=True):
        frames = cached.next_chunk(n.to(CUDA))
        torch.testing.assert_close(frames, recompute.next_chunk(n.to(CUDA)), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(frames.cpu(), cpu_frames, rtol=1e-3, atol=1e-3)


def test_compiled_model_matches_eager_on_cuda():
    student = model("factorised").to(CUDA)
    cond = conditions(b=2, t=8).to(CUDA)
    video = torch.rand(2, 8, 3, 16, 16, device=CUDA) * 2 - 1
    t = torch.full((2,), 0.5, device=CUDA)
    with torch.no_grad():
        eager = student(video, t, cond)
        compiled = torch.compile(student)(video, t, cond)
    torch.testing.assert_close(compiled, eager, rtol=1e-3, atol=1e-3)
