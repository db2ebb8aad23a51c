"""``lpm-train bench``: the trainer's throughput figures, measured in one run.

- loader: decoded samples/s from ``data.shards`` (null when no shards are configured);
- model: training samples/s (forward + backward + step) on batches of the same shape;
- streaming: chunks/s and first-chunk latency of the causal student with its KV cache, and the
  time for one chunk at ``bench.context_chunks`` chunks of context with the cache versus full
  recomputation of references + context (the two must produce the same frames; the largest
  difference is reported), and peak RSS of the process while streaming (measured first, before
  the loader fills its buffers);
- live (under ``live``): a ``LiveSession`` fed ``bench.live_seconds`` of two-channel audio in
  40 ms pieces (a microphone's callback size) as fast as it takes them: the wall time from the
  first piece to the first frames, the median time of one chunk, and the real-time factor
  (seconds of video generated per wall second, audio features and state inference included).

Weights are random unless ``stream.checkpoint`` is set: speed does not depend on them. Runs on
the runtime's device (CUDA when visible, synchronised before every clock read) in the trainer's
precision (``train.precision``: ``auto`` is bf16 autocast on CUDA, fp32 on a CPU), the training
step compiled when ``train.compile`` is set, as ``base`` runs it.
"""

from __future__ import annotations

import resource
import statistics
import time

import psutil
import torch

from lpm_train.config import LpmTrainConfig
from lpm_train.data.sample_decoder import SampleDecoder
from lpm_train.data.shard_loader import make_loader
from lpm_train.diffusion.rectified_flow import draw, flow_loss
from lpm_train.latent.autoencoder import load_codec, model_space
from lpm_train.model_factory import build_model, condition_dims, model_from_checkpoint
from lpm_train.models.conditions import Conditions
from lpm_train.models.dit import VideoDiT
from lpm_train.runtime import Runtime, setup_runtime
from lpm_train.stream.live_session import LiveSession, LiveSettings
from lpm_train.stream.streamer import CachedStreamer, RecomputeStreamer


def synthetic_conditions(config: LpmTrainConfig, batch: int, frames: int) -> Conditions:
    """Random conditions of the configured shapes: all frames speaking, all references valid."""
    d, dims = config.data, condition_dims(config.data)
    model, side = model_space(config.model, d.size)  # references as the model sees them (latents or pixels)
    g = torch.Generator().manual_seed(0)
    state = torch.ones(batch, frames, dtype=torch.long)
    text = (
        torch.randint(1, max(dims.text_vocab, 2), (batch, dims.text_tokens), generator=g)
        if dims.text_dim == 0
        else torch.randn(batch, dims.text_tokens, dims.text_dim, generator=g)
    )
    return Conditions(
        audio_speak=torch.randn(batch, frames, dims.audio, generator=g),
        audio_listen=torch.zeros(batch, frames, dims.audio),
        speak_valid=state == 1,
        listen_valid=state == 2,
        text=text,
        text_valid=torch.ones(batch, dims.text_tokens, dtype=torch.bool),
        refs=torch.rand(batch, d.max_refs, model.channels, side, side, generator=g) * 2 - 1,
        ref_valid=torch.ones(batch, d.max_refs, dtype=torch.bool),
        state=state,
    )


def bench_loader(config: LpmTrainConfig) -> float | None:
    if not config.data.shards:
        return None
    loader = iter(make_loader(config.data, config.data.shards, resampled=True))
    next(loader)  # worker start-up and first shard open are not throughput
    started, samples = time.perf_counter(), 0
    for _ in range(config.bench.loader_batches):
        samples += len(next(loader))
    return samples / (time.perf_counter() - started)


def _clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # kernels run asynchronously: time them, not their launch
    return time.perf_counter()


def bench_model(config: LpmTrainConfig, runtime: Runtime) -> float:
    device = runtime.device
    model = build_model(config).train().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    trained = torch.compile(model) if config.train.compile else model  # the first step compiles: not timed
    b, frames = config.data.batch_size, max(config.data.frame_buckets)
    cond = synthetic_conditions(config, b, frames).to(device)
    video = (torch.rand(b, frames, model.config.channels, model.dims.size, model.dims.size) * 2 - 1).to(device)
    generator = torch.Generator().manual_seed(0)
    times = []
    for _ in range(config.bench.model_steps + 1):
        started = _clock(device)
        with runtime.autocast():
            loss = flow_loss(trained, video, cond, draw(video, config.train, generator))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(_clock(device) - started)
    return b / statistics.median(times[1:])


def _student(config: LpmTrainConfig) -> VideoDiT:
    if config.stream.checkpoint:
        model, _, blob = model_from_checkpoint(config.stream.checkpoint, config.stream.weights)
        model.set_chunk_frames(int(blob.get("chunk_frames") or config.distill.chunk_frames))
        return model
    model = build_model(config, config.distill.chunk_frames).eval()
    # adaLN-Zero makes a fresh model output exactly zero, which would make the cache-versus-
    # recompute comparison vacuous: perturb every weight so both paths compute something.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return model


@torch.no_grad()
def bench_stream(config: LpmTrainConfig, runtime: Runtime) -> dict[str, float]:
    with runtime.autocast():
        return _bench_stream(config, runtime.device)


def _bench_stream(config: LpmTrainConfig, device: torch.device) -> dict[str, float]:
    student, chunk, bc = _student(config).to(device), config.distill.chunk_frames, config.bench
    frames = (max(bc.stream_chunks, bc.context_chunks) + 2) * chunk
    cond = synthetic_conditions(config, 1, frames).to(device)
    shape = (frames // chunk + 1, 1, chunk, student.config.channels, student.dims.size, student.dims.size)
    noise = torch.randn(shape).to(device)
    process = psutil.Process()
    rss_before = peak_rss = process.memory_info().rss

    # Warm-up: the first forward of a process pays one-off kernel set-up, not streaming cost.
    CachedStreamer(student, cond, chunk, config.stream.window_frames, config.stream.steps).next_chunk(noise[0])

    # Steady streaming with the configured rolling window.
    streamer = CachedStreamer(student, cond, chunk, config.stream.window_frames, config.stream.steps)
    started = _clock(device)
    streamer.next_chunk(noise[0])
    first_latency = _clock(device) - started
    for i in range(1, bc.stream_chunks):
        streamer.next_chunk(noise[i])
        peak_rss = max(peak_rss, process.memory_info().rss)
    chunks_per_s = bc.stream_chunks / (_clock(device) - started)

    # One chunk at a fixed context length: KV cache versus recomputing the context.
    context_frames = bc.context_chunks * chunk
    cached = CachedStreamer(student, cond, chunk, context_frames, config.stream.steps)
    context = torch.cat([cached.next_chunk(noise[i]) for i in range(bc.context_chunks)], dim=1)
    recompute = RecomputeStreamer(student, cond, chunk, context_frames, config.stream.steps)
    recompute.context, recompute.next_frame = context, context_frames
    cache_state = (cached.cache.context, cached.cache.frames_seen, cached.next_frame)
    cached_times, recompute_times, difference = [], [], 0.0
    for _ in range(bc.repeats):
        cached.cache.context, cached.cache.frames_seen, cached.next_frame = cache_state
        started = _clock(device)
        a = cached.next_chunk(noise[-1])
        cached_times.append(_clock(device) - started)
        peak_rss = max(peak_rss, process.memory_info().rss)
        recompute.context, recompute.next_frame = context, context_frames
        started = _clock(device)
        b = recompute.next_chunk(noise[-1])
        recompute_times.append(_clock(device) - started)
        difference = max(difference, float((a - b).abs().max()))
    cached_s, recompute_s = statistics.median(cached_times), statistics.median(recompute_times)
    return {
        "stream_chunks_per_s": chunks_per_s,
        "first_chunk_latency_s": first_latency,
        "chunk_s_at_context_kv_cache": cached_s,
        "chunk_s_at_context_recompute": recompute_s,
        "kv_cache_speedup": recompute_s / cached_s,
        "kv_vs_recompute_max_abs_diff": difference,
        "stream_peak_rss_mb": peak_rss / 2**20,
        "stream_rss_growth_mb": (peak_rss - rss_before) / 2**20,
        "kv_cache_mb_window": streamer.cache.nbytes() / 2**20,
        "kv_cache_mb_at_context": cached.cache.nbytes() / 2**20,
    }


def conversation_audio(seconds: float, rate: int = 16_000) -> tuple[torch.Tensor, torch.Tensor]:
    """Two channels taking turns every two seconds: voiced bursts (a 150 Hz buzz with syllable-rate
    pauses) on one, silence on the other, so the session's state inference switches as it goes."""
    t = torch.arange(int(seconds * rate)) / rate
    buzz = 0.3 * torch.sign(torch.sin(2 * torch.pi * 150 * t)) * (torch.sin(2 * torch.pi * 4 * t) > -0.5)
    own_turn = (t // 2) % 2 == 0
    return buzz * own_turn, buzz * ~own_turn


@torch.no_grad()
def bench_live(config: LpmTrainConfig, runtime: Runtime) -> dict[str, float]:
    device = runtime.device
    student = _student(config).to(device)
    chunk, s = config.distill.chunk_frames, config.stream
    decoder = SampleDecoder(config.data)
    references = torch.rand(config.data.max_refs, 3, config.data.size, config.data.size,
                            generator=torch.Generator().manual_seed(0)) * 2 - 1
    settings = LiveSettings(fps=s.fps, chunk_frames=chunk, window_frames=s.window_frames, steps=s.steps,
                            shift=config.sampler.shift, seed=s.seed)
    codec = load_codec(config.model, device)
    own, partner = conversation_audio(config.bench.live_seconds)
    piece = int(0.04 * 16_000)
    # Warm-up: one-off kernel set-up and the encoders' first calls are not streaming cost.
    warm = LiveSession(student, references, decoder.audio_encoder, decoder.caption_encoder.encode, settings,
                       "a person talks", codec, device, runtime.autocast)
    warm.push(own[: 16_000], partner[: 16_000])
    session = LiveSession(student, references, decoder.audio_encoder, decoder.caption_encoder.encode, settings,
                          "a person talks", codec, device, runtime.autocast)
    started, first_latency, frames = _clock(device), None, 0
    cpu_started = time.process_time()
    for start in range(0, own.numel(), piece):
        out = session.push(own[start : start + piece], partner[start : start + piece])
        frames += len(out)
        if frames and first_latency is None:
            first_latency = _clock(device) - started
    frames += len(session.close())
    elapsed = _clock(device) - started
    cpu_seconds = time.process_time() - cpu_started
    return {
        "first_chunk_latency_s": first_latency or elapsed,
        "chunk_latency_s": statistics.median(session.chunk_seconds),
        "realtime_factor": frames / s.fps / elapsed,
        # On a CPU, the same per second of this process's CPU time (all its threads): what the compute
        # allows when the cores are not shared, which wall time on a busy machine does not show.
        "realtime_factor_cpu": frames / s.fps / cpu_seconds if device.type == "cpu" else None,
        # Audio a chunk waits for beyond its own frames (the conditions' look-ahead and the analysis
        # window): the latency a live microphone adds to the compute above, whatever the device.
        "audio_lookahead_s": session.streamer.margin / s.fps + session.own.context / 16_000,
        "chunks": session.chunks_done,
        "seconds_of_audio": config.bench.live_seconds,
        "state_switches": sum(a != b for a, b in zip(list(session.states), list(session.states)[1:], strict=False)),
    }


def run_bench(config: LpmTrainConfig) -> dict:
    runtime = setup_runtime(config.train.precision, config.train.threads)
    device = runtime.device
    # Streaming first, so its peak RSS is the model and cache's, not the loader's buffers.
    stream = bench_stream(config, runtime)
    live = bench_live(config, runtime)
    model = bench_model(config, runtime)
    loader = bench_loader(config)
    c = config
    return {
        "loader_samples_per_s": loader,
        "model_samples_per_s": model,
        **stream,
        "live": live,
        "peak_rss_mb": stream["stream_peak_rss_mb"],
        "process_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "setup": {
            "size": c.data.size,
            "frames": max(c.data.frame_buckets),
            "batch": c.data.batch_size,
            "hidden": c.model.hidden,
            "depth": c.model.depth,
            "attention": c.model.attention,
            "chunk_frames": c.distill.chunk_frames,
            "stream_steps": c.stream.steps,
            "window_frames": c.stream.window_frames,
            "context_chunks": c.bench.context_chunks,
            "threads": torch.get_num_threads(),
            "device": device.type,
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "precision": "bf16" if runtime.autocast_dtype == torch.bfloat16 else "fp32",
            "compile": c.train.compile,
        },
        "cuda_peak_allocated_mb": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
    }
