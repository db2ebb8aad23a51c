"""The trainer on shards written by the curation pipeline itself (not by a test helper)."""

import pytest
import torch
from conftest import tiny_config

from lpm_train.train_loop import train_base


@pytest.fixture(scope="module")
def pipeline_shards(talking_heads_run):
    """The shards of the session's ``lpm-curate run`` over four people talking (``talking_heads_run``
    in ``tests/conftest.py``: the smoke workflow, shards of about 400 kB)."""
    shards = sorted(str(p) for p in (talking_heads_run / "shards").rglob("*.tar"))
    assert len(shards) >= 3, "enough shards to hold one out"
    return {"paths": {"train": shards[:-1], "heldout": shards[-1:]}}


@pytest.mark.slow
def test_base_training_on_pipeline_shards_lowers_train_and_heldout_loss(pipeline_shards, tmp_path):
    torch.set_num_threads(1)
    config = tiny_config(tmp_path, pipeline_shards, "train.steps=150")
    result = train_base(config)
    losses = [loss for _, loss in result.losses]
    start, end = sum(losses[:10]) / 10, sum(losses[-20:]) / 20
    print(
        f"\npipeline shards: loss {start:.4f} -> {end:.4f}, held-out {result.heldout_start:.4f} -> "
        f"{result.heldout_end:.4f}"
    )
    assert result.skipped_samples == 0, "every sample the pipeline wrote decodes"
    assert end < 0.6 * start
    assert result.heldout_end < 0.8 * result.heldout_start
