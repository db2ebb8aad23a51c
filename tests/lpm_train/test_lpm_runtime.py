"""Per-rank seeds, single-process collectives, kept checkpoints and the anchor defaults (fast;
the two-process behaviour is in test_lpm_distributed.py)."""

import os

import pytest
import torch

from lpm_train.checkpoint import capture_rng, load_checkpoint, restore_rank_rng, save_checkpoint, step_checkpoints
from lpm_train.config import ConfigError, load_config
from lpm_train.runtime import Runtime, rank_seed


def test_rank_seeds_keep_rank0_and_differ_across_ranks():
    assert rank_seed(7, 0) == 7
    seeds = {rank_seed(s, r) for s in range(4) for r in range(64)}
    assert len(seeds) == 4 * 64 and max(seeds) < 2**32  # numpy's seed range
    a = torch.randn(4, generator=torch.Generator().manual_seed(rank_seed(0, 0)))
    b = torch.randn(4, generator=torch.Generator().manual_seed(rank_seed(0, 1)))
    assert not torch.equal(a, b)


def test_single_process_collectives_pass_values_through():
    runtime = Runtime(torch.device("cpu"), 0, 1, None)
    assert runtime.all_ranks_have(False) is False and runtime.all_ranks_have(True) is True
    assert runtime.mean_over_ranks([1.5, 2.0]) == [1.5, 2.0]
    assert runtime.sum_over_ranks(3) == 3 and runtime.gather_objects({"a": 1}) == [{"a": 1}]


def test_checkpoints_keep_the_newest_and_link_the_latest(tmp_path):
    generator = torch.Generator().manual_seed(1)
    for step in (10, 20, 30, 40):
        save_checkpoint(tmp_path / "checkpoint.pt", step=step, state={"x": step}, generator=generator, keep=2)
    assert [p.name for p in step_checkpoints(tmp_path)] == ["checkpoint-00000030.pt", "checkpoint-00000040.pt"]
    assert os.path.samefile(tmp_path / "checkpoint.pt", tmp_path / "checkpoint-00000040.pt")
    assert load_checkpoint(tmp_path / "checkpoint.pt")["x"] == 40
    assert not list(tmp_path.glob(".*"))  # no temporary or link files left


def test_each_rank_restores_its_own_rng_and_a_changed_world_restarts():
    ranks = [capture_rng(torch.Generator().manual_seed(rank_seed(0, r))) for r in range(2)]
    blob = {"rng": ranks[0], "rng_ranks": ranks}
    g = torch.Generator()
    assert restore_rank_rng(blob, 1, 2, g)
    assert torch.equal(g.get_state(), ranks[1]["generator"])
    assert not restore_rank_rng(blob, 0, 4, g)  # written by 2 ranks, resumed with 4


def test_distillation_defaults_follow_the_anchors():
    config = load_config()
    assert config.sampler.guidance_text > 1 and config.sampler.guidance_audio > 1
    assert config.distill.dmd_weight == 1.0 and config.distill.dmd_regression_weight == 0.0
    assert config.distill.critic_updates_per_generator >= 2
    assert config.distill.rollout_window_frames == config.stream.window_frames
    assert config.distill.pair_dtype == "bfloat16"
    with pytest.raises(ConfigError, match="pair_dtype"):
        load_config(None, ["distill.pair_dtype=float16"])
    with pytest.raises(ConfigError, match="rollout_window_frames"):
        load_config(None, ["model.patch=[2, 4, 4]", "distill.rollout_window_frames=3"])
