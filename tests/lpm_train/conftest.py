"""Fixtures for the trainer tests: shards cut from the real clips, tiny configs, a trained teacher.

The shards are built once and kept in pytest's cache directory (keyed by the helper's source
and the media manifest), so repeated runs skip the ffmpeg work; a ``done.json`` written last
marks a complete build.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from lpm_media_shards import shared_media_dir, write_media_shards

from lpm_train.config import LpmTrainConfig, load_config


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # On a shared 2-core machine, OpenMP threads spinning against other processes make small
    # ops 10x slower; one thread is both faster and steadier for these tiny models.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def media_shards(request, tmp_path_factory) -> dict:
    media = shared_media_dir()
    if not (media / "MANIFEST.csv").is_file():
        pytest.fail(f"shared media not found at {media} (set LPM_SHARED_MEDIA)")
    digest = hashlib.sha256(
        Path(__file__).with_name("lpm_media_shards.py").read_bytes() + (media / "MANIFEST.csv").read_bytes()
    ).hexdigest()[:12]
    cache = getattr(request.config, "cache", None)
    root = Path(cache.mkdir(f"lpm_train_shards_{digest}")) if cache else tmp_path_factory.mktemp("shards")
    done = root / "done.json"
    if done.is_file():
        built = json.loads(done.read_text())
        if all(Path(p).is_file() for paths in built["paths"].values() for p in paths):
            return built
    shutil.rmtree(root / "shards", ignore_errors=True)
    built = write_media_shards(root / "shards", media)
    done.write_text(json.dumps(built))
    return built


def tiny_config(tmp_path: Path, shards: dict | None = None, *overrides: str) -> LpmTrainConfig:
    """16x16 frames, 8 per clip, 2 blocks: trains a few hundred steps in well under a minute."""
    base = [
        "data.size=16",
        "data.batch_size=4",
        "model.depth=2",
        "train.threads=1",
        "train.log_every=25",
        f"train.out_dir={tmp_path / 'base'}",
        f"distill.out_dir={tmp_path / 'distill'}",
        f"distill.ode_pairs_dir={tmp_path / 'ode_pairs'}",
        f"stream.out={tmp_path / 'stream.mp4'}",
    ]
    if shards is not None:
        base += [
            f"data.shards={json.dumps(shards['paths']['train'])}",
            f"data.heldout_shards={json.dumps(shards['paths']['heldout'])}",
        ]
    return load_config(None, [*base, *overrides])


@pytest.fixture(scope="session")
def trained_teacher(media_shards, tmp_path_factory) -> dict:
    """A base run of 200 steps on the media shards, shared by the training, distillation and
    streaming tests (the distillation needs a teacher that has learned something)."""
    from lpm_train.train_loop import train_base

    run = tmp_path_factory.mktemp("teacher")
    config = tiny_config(run, media_shards, "train.steps=200", "train.checkpoint_every=100")
    torch.set_num_threads(1)
    result = train_base(config)
    return {"config": config, "result": result, "checkpoint": result.run_dir / "checkpoint.pt", "dir": run}


@pytest.fixture(scope="session")
def distilled_student(trained_teacher, media_shards, tmp_path_factory) -> dict:
    """Teacher ODE pairs, then ODE regression and DMD of the causal student."""
    from lpm_train.distill.distill_trainer import train_distill
    from lpm_train.distill.ode_pairs import make_ode_pairs

    run = tmp_path_factory.mktemp("distill")
    config = tiny_config(
        run,
        media_shards,
        f"distill.teacher_checkpoint={trained_teacher['checkpoint']}",
        "distill.ode_pairs=32",
        "distill.regression_steps=100",
        "distill.dmd_steps=20",
        "distill.checkpoint_every=1000",
        "train.validate_every=60",  # student videos at 60 (regression) and 120 (after DMD)
    )
    torch.set_num_threads(1)
    counts = make_ode_pairs(config)
    result = train_distill(config)
    return {"config": config, "counts": counts, "result": result, "checkpoint": result.run_dir / "checkpoint.pt"}
