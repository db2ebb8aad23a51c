"""``lpm-train stream``: drive the distilled student with audio and write an mp4, chunk by chunk.

Inputs come either from files (``stream.audio`` wav, ``stream.caption``, ``stream.reference``
image, one ``stream.state`` for every frame) or, when no audio file is given, from the first
sample of ``data.shards`` (its wav, per-frame states, caption and references). Both paths go
through the training decoder, so features match what the model was trained on.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lpm_train.config import LpmTrainConfig
from lpm_train.data.sample_decoder import LiveInputs, SampleDecoder
from lpm_train.data.shard_stream import RawSample, expand_shard_urls, read_shard_samples
from lpm_train.latent.autoencoder import load_codec
from lpm_train.model_factory import model_from_checkpoint
from lpm_train.models.dit import VideoDiT
from lpm_train.runtime import Runtime, setup_runtime
from lpm_train.stream.live_session import LiveSession, LiveSettings
from lpm_train.stream.mp4_writer import ChunkedMp4Writer
from schemas.performer_states import PerformerState
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


def state_runs(states: np.ndarray) -> list[tuple[int, int, int]]:
    """``(state, first frame, frame count)`` of each run of equal states."""
    runs: list[tuple[int, int, int]] = []
    for frame, state in enumerate(states.tolist()):
        if runs and runs[-1][0] == state:
            runs[-1] = (state, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((state, frame, 1))
    return runs


def open_session(config: LpmTrainConfig, model: VideoDiT, model_config: LpmTrainConfig, chunk: int,
                 inputs: LiveInputs, decoder: SampleDecoder, runtime: Runtime) -> LiveSession:
    s = config.stream
    settings = LiveSettings(fps=inputs.fps, chunk_frames=chunk, window_frames=s.window_frames, steps=s.steps,
                            shift=config.sampler.shift, seed=s.seed, chunk_limit=s.chunks)
    codec = load_codec(model_config.model, runtime.device)  # latents are decoded chunk by chunk
    return LiveSession(model, inputs.refs, decoder.audio_encoder, decoder.caption_encoder.encode, settings,
                       inputs.caption, codec, runtime.device, runtime.autocast)


@torch.no_grad()
def run_stream(config: LpmTrainConfig) -> dict:
    """The whole driving audio through a ``LiveSession``, one push per run of given states: the
    offline stream is the live path fed from files."""
    runtime = setup_runtime(config.train.precision, config.train.threads)
    model, model_config, chunk = load_student(config)
    model = model.to(runtime.device)
    raw = stream_source(config)
    decoder = SampleDecoder(model_config.data)
    inputs = decoder.live_inputs(raw)
    session = open_session(config, model, model_config, chunk, inputs, decoder, runtime)
    size = model_config.data.size
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "driving.wav"
        audio.write_bytes(raw.members[AUDIO_MEMBER])
        writer = ChunkedMp4Writer(Path(config.stream.out), inputs.fps, size, audio)
        started = time.perf_counter()
        first_latency = None
        runs = state_runs(inputs.states)
        for index, (state, first, _count) in enumerate(runs):
            lo = session.own.frame_start(first)
            hi = session.own.frame_start(runs[index + 1][1]) if index + 1 < len(runs) else inputs.own.numel()
            frames = session.push(inputs.own[lo:hi], inputs.partner[lo:hi], PerformerState(state))
            if len(frames) and first_latency is None:
                first_latency = time.perf_counter() - started
            if len(frames):
                writer.write(frames)
        frames = session.close()
        if len(frames):
            first_latency = time.perf_counter() - started if first_latency is None else first_latency
            writer.write(frames)
        elapsed = time.perf_counter() - started
        path = writer.close()
    chunks = session.chunks_done
    summary = {
        "out": str(path),
        "source": raw.key,
        "chunks": chunks,
        "frames": chunks * chunk,
        "fps": inputs.fps,
        "chunks_per_s": chunks / elapsed,
        "first_chunk_latency_s": first_latency or 0.0,
        "realtime_factor": chunks * chunk / inputs.fps / elapsed,
        "kv_cache_mb": session.streamer.cache.nbytes() / 2**20,
        "device": str(runtime.device),
    }
    log.info("stream: %s", summary)
    return summary
