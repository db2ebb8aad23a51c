import pytest
import torch
from conftest import tiny_config

from lpm_train.checkpoint import load_checkpoint
from lpm_train.metrics_log import read_log
from lpm_train.train_loop import train_base


@pytest.mark.slow
def test_base_training_on_real_clip_shards_lowers_train_and_heldout_loss(trained_teacher):
    result = trained_teacher["result"]
    losses = [loss for _, loss in result.losses]
    assert result.step == 200 and len(losses) == 200
    start, end = sum(losses[:10]) / 10, sum(losses[-20:]) / 20
    print(f"\nbase training loss: first 10 steps {start:.4f}, last 20 steps {end:.4f}")
    print(f"held-out loss: start {result.heldout_start:.4f}, end {result.heldout_end:.4f}")
    assert end < 0.5 * start
    assert result.heldout_end < 0.6 * result.heldout_start
    assert result.skipped_samples == 0

    log = read_log(result.run_dir / "log.jsonl")
    throughput = [r["samples_per_s"] for r in log if "samples_per_s" in r]
    assert throughput and min(throughput) > 0
    assert log[-1]["heldout_end"] == pytest.approx(result.heldout_end)


@pytest.mark.slow
def test_checkpoint_holds_everything_needed_to_resume(trained_teacher):
    blob = load_checkpoint(trained_teacher["checkpoint"])
    assert blob["step"] == 200 and blob["batches_consumed"] >= 200
    assert {"model", "ema", "optimizer", "config", "rng"} <= set(blob)
    assert {"torch", "numpy", "python", "generator"} <= set(blob["rng"])
    # EMA differs from the live weights (it averages them), but not wildly.
    live, ema = blob["model"]["patch_embed.weight"], blob["ema"]["patch_embed.weight"]
    assert not torch.equal(live, ema)
    assert float((live - ema).norm() / live.norm()) < 0.5


@pytest.mark.slow
def test_compiled_base_training_with_activation_checkpointing_matches_eager(media_shards, tmp_path):
    """``train.compile`` and ``model.activation_checkpointing`` (GPU options) on this CPU: the same
    first losses as eager training (inductor compiles for about two minutes here)."""
    common = ["train.steps=3", "train.validate_every=0", "train.warmup_steps=2"]
    eager = train_base(tiny_config(tmp_path / "eager", media_shards, *common))
    compiled = train_base(
        tiny_config(
            tmp_path / "compiled", media_shards, *common, "train.compile=true", "model.activation_checkpointing=true"
        )
    )
    assert [s for s, _ in compiled.losses] == [1, 2, 3]
    for (_, a), (_, b) in zip(eager.losses, compiled.losses, strict=True):
        assert b == pytest.approx(a, rel=1e-4)
