"""The trainer on shards written by the curation pipeline itself (not by a test helper)."""

import subprocess
import sys

import pytest
import torch
from conftest import tiny_config
from lpm_media_shards import shared_media_dir

from lpm_train.train_loop import train_base

# Four different people, each talking to camera.
CLIPS = [
    "talkvid_tys_gt.mp4",
    "talkvid_talk_emotion_gt.mp4",
    "latentsync_demo3_video.mp4",
    "infinitetalk_ref_video.mp4",
]


@pytest.fixture(scope="module")
def pipeline_shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_shards")
    inputs = root / "inputs"
    inputs.mkdir()
    for name in CLIPS:
        (inputs / name).symlink_to(shared_media_dir() / name)
    out = root / "run"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "apps.cli.main",
            "run",
            "--input",
            str(inputs),
            "--out",
            str(out),
            "--workflow",
            "smoke",
            "--executor",
            "local",
            "--set",
            "samples.shard_target_bytes=400000",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    shards = sorted(str(p) for p in (out / "shards").rglob("*.tar"))
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
