"""The latent path on a randomly initialised diffusers ``AutoencoderKL`` saved in diffusers' own
format (``save_pretrained``): the same loading code a fetched ``sd-vae-ft-mse`` goes through.
Base training, validation videos, ODE pairs (bf16 latents), distillation and streaming all run
in latent space and write pixel videos."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_config

from lpm_train.cli import main
from lpm_train.data.shard_stream import expand_shard_urls, read_shard_samples
from lpm_train.diffusion.euler_sampler import euler_sample
from lpm_train.distill.pair_records import PAIR_MEMBER, pair_batches
from lpm_train.latent.autoencoder import FrozenAutoencoder, autoencoder_geometry
from lpm_train.model_factory import model_from_checkpoint


@pytest.fixture(scope="module")
def random_vae(tmp_path_factory) -> Path:
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(32, 32),  # one downsampling: 16 px frames -> 8 x 8 latents
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        layers_per_block=1,
        sample_size=16,
    )
    path = tmp_path_factory.mktemp("vae") / "tiny-vae"
    vae.save_pretrained(path)
    return path


def test_frozen_autoencoder_encodes_frames_deterministically_and_decodes_to_pixels(random_vae):
    assert sorted(p.name for p in random_vae.iterdir()) == ["config.json", "diffusion_pytorch_model.safetensors"]
    assert autoencoder_geometry(random_vae) == (4, 2)
    codec = FrozenAutoencoder(random_vae)
    assert not any(p.requires_grad for p in codec.parameters())
    video = torch.rand(2, 3, 3, 16, 16) * 2 - 1  # [B, T, C, H, W]
    latents = codec.encode(video)
    assert latents.shape == (2, 3, 4, 8, 8)
    assert torch.equal(latents, codec.encode(video))  # the posterior's mode, not a sample
    # frame by frame: a frame's latent does not depend on its neighbours
    torch.testing.assert_close(latents[1, 2], codec.encode(video[1, 2:3])[0], rtol=1e-5, atol=1e-5)
    pixels = codec.decode(latents)
    assert pixels.shape == video.shape and pixels.min() >= -1 and pixels.max() <= 1
    assert codec.encode(torch.zeros(2, 0, 3, 16, 16)).shape == (2, 0, 4, 8, 8)  # no references


@pytest.fixture(scope="module")
def latent_runs(random_vae, media_shards, tmp_path_factory) -> dict:
    from lpm_train.distill.distill_trainer import train_distill
    from lpm_train.distill.ode_pairs import make_ode_pairs
    from lpm_train.train_loop import train_base

    run = tmp_path_factory.mktemp("latent")
    config = tiny_config(
        run,
        media_shards,
        f"model.autoencoder={random_vae}",
        "model.patch=[1, 2, 2]",
        "train.steps=6",
        "train.validate_every=6",
        "train.checkpoint_every=6",
        "distill.ode_pairs=4",
        "distill.regression_steps=2",
        "distill.dmd_steps=1",
        "distill.critic_updates_per_generator=1",
        "distill.checkpoint_every=100",
    )
    torch.set_num_threads(1)
    base = train_base(config)
    teacher = base.run_dir / "checkpoint.pt"
    config = dataclasses.replace(config, distill=dataclasses.replace(config.distill, teacher_checkpoint=str(teacher)))
    counts = make_ode_pairs(config)
    distill = train_distill(config)
    return {"config": config, "base": base, "teacher": teacher, "counts": counts, "distill": distill, "run": run}


def pixel_streams(path):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    return {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}


@pytest.mark.slow
def test_base_trains_on_latents_and_writes_pixel_validation_videos(latent_runs):
    base = latent_runs["base"]
    assert base.step == 6 and all(np.isfinite(loss) for _, loss in base.losses)
    model, config, _ = model_from_checkpoint(latent_runs["teacher"])
    assert (model.config.channels, model.dims.size) == (4, 8)  # the DiT sees 4 x 8 x 8 latents
    assert config.model.autoencoder == latent_runs["config"].model.autoencoder
    videos = sorted((base.run_dir / "samples" / "step-00000006").glob("*.mp4"))
    assert len(videos) == 2
    streams = pixel_streams(videos[0])
    assert (int(streams["video"]["width"]), int(streams["video"]["nb_read_frames"])) == (16, 8)
    assert "audio" in streams


@pytest.mark.slow
def test_ode_pairs_are_bf16_latents_of_the_teachers_trajectories(latent_runs):
    config = latent_runs["config"]
    assert latent_runs["counts"]["train"] == 4
    shard = expand_shard_urls([str(Path(config.distill.ode_pairs_dir) / "train-*.tar")])[0]
    raw = next(iter(read_shard_samples(shard)))
    record = json.loads(raw.members["json"])
    assert (record["storage"], record["space"]) == ("bfloat16", "latent")
    with np.load(io.BytesIO(raw.members[PAIR_MEMBER])) as npz:
        assert npz["trajectory_bf16"].dtype == np.uint16 and npz["trajectory_bf16"].shape == (4, 8, 4, 8, 8)
        assert "trajectory" not in npz.files
    teacher, _, _ = model_from_checkpoint(latent_runs["teacher"], "ema", 0)
    batch = next(b for b in pair_batches([shard], 1, False, 0) if b is not None)
    s = config.sampler
    clean, kept = euler_sample(
        teacher, batch.noise, batch.cond, s.steps, s.shift, s.guidance_text, s.guidance_audio, keep_every=4
    )
    # The stored states are the re-integrated ones rounded to bf16 (8 significant bits).
    torch.testing.assert_close(batch.clean, clean, rtol=2**-7, atol=1e-3)
    torch.testing.assert_close(batch.trajectory, torch.stack(kept, 1), rtol=2**-7, atol=1e-3)
    assert torch.equal(batch.noise, batch.noise.bfloat16().float())


@pytest.mark.slow
def test_distilled_latent_student_streams_pixels(latent_runs, tmp_path, capsys):
    distill = latent_runs["distill"]
    assert distill.step == 3 and set(distill.evaluations) >= {"undistilled", "after_regression", "after_dmd"}
    out = tmp_path / "latent_stream.mp4"
    argv = [
        "stream", "--json",
        "--set", f"stream.checkpoint={distill.run_dir / 'checkpoint.pt'}",
        "--set", f"data.shards={json.dumps(latent_runs['config'].data.shards)}",
        "--set", "stream.chunks=4",
        "--set", f"stream.out={out}",
    ]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["frames"] == 8
    streams = pixel_streams(out)
    assert (int(streams["video"]["width"]), int(streams["video"]["nb_read_frames"])) == (16, 8)
