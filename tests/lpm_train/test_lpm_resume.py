import os

import pytest
import torch
from conftest import tiny_config

import lpm_train.checkpoint as checkpoint_module
from lpm_train.checkpoint import atomic_save, load_checkpoint
from lpm_train.train_loop import train_base


def test_resume_reproduces_the_uninterrupted_losses_exactly(media_shards, tmp_path):
    common = ["data.num_workers=2", "train.warmup_steps=4", "train.checkpoint_every=1000"]
    straight = train_base(tiny_config(tmp_path / "a", media_shards, "train.steps=12", *common))
    interrupted_dir = tmp_path / "b"
    first = train_base(tiny_config(interrupted_dir, media_shards, "train.steps=6", *common))
    assert first.step == 6
    resumed = train_base(tiny_config(interrupted_dir, media_shards, "train.steps=12", *common))
    assert [s for s, _ in resumed.losses] == list(range(7, 13))
    expected = dict(straight.losses)
    assert [loss for _, loss in first.losses] == [expected[s] for s in range(1, 7)]
    assert [loss for _, loss in resumed.losses] == [expected[s] for s in range(7, 13)]  # exact, not approx
    a = load_checkpoint(straight.run_dir / "checkpoint.pt")
    b = load_checkpoint(resumed.run_dir / "checkpoint.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert all(torch.equal(a["ema"][k], b["ema"][k]) for k in a["ema"])


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    atomic_save({"step": 1}, path)

    def crash(payload, target):
        with open(target, "wb") as f:
            f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"step": 2}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
