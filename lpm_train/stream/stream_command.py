"""``lpm-train stream``: drive the distilled student with audio and write an mp4, chunk by chunk.

Inputs come either from files (``stream.audio`` wav, ``stream.caption``, ``stream.reference``
image, one ``stream.state`` for every frame) or, when no audio file is given, from the first
sample of ``data.shards`` (its wav, per-frame states, caption and references). Both paths go
through the training decoder, so features match what the model was trained on.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from pathlib import Path

import torch

from lpm_train.config import LpmTrainConfig
from lpm_train.data.sample_decoder import SampleDecoder
from lpm_train.data.shard_stream import RawSample, expand_shard_urls, read_shard_samples
from lpm_train.data.video_batch import collate_samples
from lpm_train.latent.autoencoder import encoded_conditions, load_codec
from lpm_train.model_factory import model_from_checkpoint
from lpm_train.models.dit import VideoDiT
from lpm_train.runtime import setup_runtime
from lpm_train.stream.mp4_writer import ChunkedMp4Writer
from lpm_train.stream.streamer import CachedStreamer
from schemas.sample_layout import AUDIO_MEMBER, reference_member

log = logging.getLogger(__name__)


def load_student(config: LpmTrainConfig) -> tuple[VideoDiT, LpmTrainConfig, int]:
    path = Path(config.stream.checkpoint or Path(config.distill.out_dir) / "checkpoint.pt")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; run `lpm-train distill` or set stream.checkpoint")
    model, model_config, blob = model_from_checkpoint(path, config.stream.weights)
    chunk = int(blob.get("chunk_frames", 0))
    if chunk == 0:  # a base (bidirectional) checkpoint: run it block-causally, undistilled
        chunk = config.distill.chunk_frames
        model.set_chunk_frames(chunk)
        log.warning("%s is not a distilled student; streaming it undistilled", path)
    return model, model_config, chunk


def stream_source(config: LpmTrainConfig) -> RawSample:
    """A raw sample holding what drives the stream: from files, or the first shard sample."""
    s = config.stream
    if s.audio:
        record = {"fps": s.fps, "state": s.state}
        members = {
            AUDIO_MEMBER: Path(s.audio).read_bytes(),
            "txt": s.caption.encode(),
            "json": json.dumps(record).encode(),
        }
        raw = RawSample("stream", s.audio, members)
    else:
        if not config.data.shards:
            raise ValueError("set stream.audio or data.shards to drive the stream")
        raw = next(iter(read_shard_samples(expand_shard_urls(config.data.shards)[0])))
        if s.caption:
            raw.members["txt"] = s.caption.encode()
    if s.reference:
        raw.members = {k: v for k, v in raw.members.items() if not k.startswith("ref_")}
        raw.members[reference_member(0)] = Path(s.reference).read_bytes()
    return raw


@torch.no_grad()
def run_stream(config: LpmTrainConfig) -> dict:
    runtime = setup_runtime(config.train.precision, config.train.threads)
    model, model_config, chunk = load_student(config)
    model = model.to(runtime.device)
    raw = stream_source(config)
    sample, fps = SampleDecoder(model_config.data).clip_conditions(raw)
    codec = load_codec(model_config.model, runtime.device)  # latents are decoded chunk by chunk
    cond = encoded_conditions(collate_samples([sample]).cond.to(runtime.device), codec)
    chunks = config.stream.chunks or math.ceil(cond.state.shape[1] / chunk)
    size = model_config.data.size
    streamer = CachedStreamer(
        model, cond, chunk, config.stream.window_frames, config.stream.steps, config.sampler.shift
    )
    generator = torch.Generator().manual_seed(config.stream.seed)
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "driving.wav"
        audio.write_bytes(raw.members[AUDIO_MEMBER])
        writer = ChunkedMp4Writer(Path(config.stream.out), fps, size, audio)
        started = time.perf_counter()
        first_latency = 0.0
        for index in range(chunks):
            # Noise from a CPU generator: the same stream for a seed on any device.
            shape = (1, chunk, model.config.channels, model.dims.size, model.dims.size)
            noise = torch.randn(shape, generator=generator)
            with runtime.autocast():
                frames = streamer.next_chunk(noise.to(runtime.device))[0]
            writer.write(frames if codec is None else codec.decode(frames))
            if index == 0:
                first_latency = time.perf_counter() - started
        elapsed = time.perf_counter() - started
        path = writer.close()
    summary = {
        "out": str(path),
        "source": raw.key,
        "chunks": chunks,
        "frames": chunks * chunk,
        "fps": fps,
        "chunks_per_s": chunks / elapsed,
        "first_chunk_latency_s": first_latency,
        "kv_cache_mb": streamer.cache.nbytes() / 2**20,
        "device": str(runtime.device),
    }
    log.info("stream: %s", summary)
    return summary
