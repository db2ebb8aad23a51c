"""Videos to watch: ``lpm-train sample`` (the teacher, Euler + classifier-free guidance) and the
periodic validation videos of ``base`` and ``distill``.

Sources are fixed held-out samples (the first ``count`` of ``data.heldout_shards`` in shard
order, else of ``data.shards``), so videos from successive checkpoints compare. Each is driven
by the sample's own conditions from its first frame (audio, states, caption, references) and a
noise seeded by its index; the mp4 is muxed with the sample's audio from the same first frame.
Beside each ``<key>.mp4`` goes ``<key>.ref.jpg`` (its first reference), which ``lpm-train
score`` compares the generated face with.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from lpm_train.config import DataConfig, LpmTrainConfig
from lpm_train.data.sample_decoder import SampleDecoder, reference_members
from lpm_train.data.shard_stream import expand_shard_urls, read_shard_samples
from lpm_train.data.video_batch import collate_samples
from lpm_train.diffusion.euler_sampler import euler_sample
from lpm_train.latent.autoencoder import FrozenAutoencoder, encoded_conditions, load_codec
from lpm_train.models.conditions import Conditions
from lpm_train.models.dit import VideoDiT
from lpm_train.stream.mp4_writer import ChunkedMp4Writer
from lpm_train.stream.streamer import CachedStreamer, conditions_window
from schemas.sample_layout import AUDIO_MEMBER

log = logging.getLogger(__name__)


@dataclass
class SampleSource:
    key: str
    cond: Conditions  # [1, frames, ...] from the clip's first frame
    fps: float
    audio: bytes  # the sample's wav
    reference: bytes | None  # its first reference image (jpg)


def fixed_sources(data: DataConfig, count: int, frames: int) -> list[SampleSource]:
    """The first ``count`` usable samples of the held-out shards (else the training shards)
    with at least ``frames`` frames of audio; ``frames = 0``: the largest training bucket."""
    shards = data.heldout_shards or data.shards
    frames = frames or max(data.frame_buckets)
    decoder = SampleDecoder(data)
    sources: list[SampleSource] = []
    for url in expand_shard_urls(shards):
        for raw in read_shard_samples(url):
            if len(sources) >= count:
                return sources
            if AUDIO_MEMBER not in raw.members:
                continue
            sample, fps = decoder.clip_conditions(raw)
            cond = collate_samples([sample]).cond
            if cond.state.shape[1] < frames:
                continue
            refs = reference_members(raw.members)
            reference = raw.members[refs[0]] if refs else None
            window, _ = conditions_window(cond, 0, frames, 0)
            sources.append(SampleSource(raw.key, window, fps, raw.members[AUDIO_MEMBER], reference))
    return sources


def _noise(model: VideoDiT, frames: int, index: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1000 + index)
    return torch.randn((1, frames, model.config.channels, model.dims.size, model.dims.size), generator=generator)


def teacher_generator(
    model: VideoDiT, config: LpmTrainConfig, seed: int, device: torch.device, codec: FrozenAutoencoder | None = None
) -> Callable[[SampleSource, int], torch.Tensor]:
    """Pixels ``[T, C, H, W]`` of the model's guided Euler sample (decoded from latents with a codec)."""
    s = config.sampler

    def generate(source: SampleSource, index: int) -> torch.Tensor:
        noise = _noise(model, source.cond.state.shape[1], index, seed).to(device)
        cond = encoded_conditions(source.cond.to(device), codec)
        video, _ = euler_sample(model, noise, cond, s.steps, s.shift, s.guidance_text, s.guidance_audio)
        return video[0] if codec is None else codec.decode(video[0])

    return generate


def student_generator(
    model: VideoDiT,
    chunk_frames: int,
    window_frames: int,
    steps: int,
    shift: float,
    seed: int,
    device: torch.device,
    codec: FrozenAutoencoder | None = None,
) -> Callable[[SampleSource, int], torch.Tensor]:
    """The causal student as ``stream`` runs it: chunk by chunk through the KV cache."""

    def generate(source: SampleSource, index: int) -> torch.Tensor:
        frames = source.cond.state.shape[1]
        noise = _noise(model, frames, index, seed).to(device)
        cond = encoded_conditions(source.cond.to(device), codec)
        streamer = CachedStreamer(model, cond, chunk_frames, window_frames, steps, shift)
        chunks = [streamer.next_chunk(noise[:, f : f + chunk_frames]) for f in range(0, frames, chunk_frames)]
        video = torch.cat(chunks, dim=1)[0]
        return video if codec is None else codec.decode(video)

    return generate


@torch.no_grad()
def write_videos(
    sources: list[SampleSource], generate: Callable[[SampleSource, int], torch.Tensor], out_dir: Path
) -> list[dict]:
    """One mp4 (muxed with the source's audio) and one reference jpg per source, and
    ``index.json`` listing them; returns the index."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, source in enumerate(sources):
            audio = Path(tmp) / f"{i}.wav"
            audio.write_bytes(source.audio)
            video = generate(source, i)
            writer = ChunkedMp4Writer(out_dir / f"{source.key}.mp4", source.fps, int(video.shape[-1]), audio)
            writer.write(video)
            path = writer.close()
            if source.reference is not None:
                (out_dir / f"{source.key}.ref.jpg").write_bytes(source.reference)
            index.append({"key": source.key, "mp4": path.name, "frames": int(video.shape[0]), "fps": source.fps})
    (out_dir / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    log.info("wrote %d sample videos to %s", len(index), out_dir)
    return index


def validation_sources(config: LpmTrainConfig, is_main: bool) -> list[SampleSource]:
    """The fixed held-out samples periodic validation renders (rank 0 only; none when off)."""
    if not (is_main and config.train.validate_every and config.train.validation_samples):
        return []
    return fixed_sources(config.data, config.train.validation_samples, config.sample.frames)


def run_sample(config: LpmTrainConfig) -> dict:
    """``lpm-train sample``: the teacher checkpoint's guided Euler samples of fixed held-out clips."""
    from lpm_train.model_factory import model_from_checkpoint
    from lpm_train.runtime import setup_runtime

    sc = config.sample
    path = Path(sc.checkpoint or Path(config.train.out_dir) / "checkpoint.pt")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; run `lpm-train base` or set sample.checkpoint")
    runtime = setup_runtime(config.train.precision, config.train.threads)
    model, model_config, _ = model_from_checkpoint(path, sc.weights, 0)
    model = model.to(runtime.device)
    codec = load_codec(model_config.model, runtime.device)
    data = model_config.data
    if config.data.shards or config.data.heldout_shards:  # this run's shards, the model's decoding
        data = dataclasses.replace(data, shards=config.data.shards, heldout_shards=config.data.heldout_shards)
    sources = fixed_sources(data, sc.count, sc.frames)
    if not sources:
        raise ValueError("no usable samples in data.heldout_shards / data.shards")
    with runtime.autocast():
        generate = teacher_generator(model, config, sc.seed, runtime.device, codec)
        index = write_videos(sources, generate, Path(sc.out_dir))
    return {"out_dir": sc.out_dir, "checkpoint": str(path), "videos": [row["mp4"] for row in index]}
