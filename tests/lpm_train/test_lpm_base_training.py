import pytest
import torch

from lpm_train.checkpoint import load_checkpoint
from lpm_train.metrics_log import read_log


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
