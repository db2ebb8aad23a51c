import gc
import json
import subprocess
import wave

import numpy as np
import psutil
import torch
from lpm_tiny_models import conditions, model, noise_chunks
from torchcodec.decoders import VideoDecoder

from lpm_train.stream.kv_cache import StreamingKVCache
from lpm_train.stream.mp4_writer import ChunkedMp4Writer
from lpm_train.stream.streamer import CachedStreamer, RecomputeStreamer, conditions_window


@torch.no_grad()
def test_cached_streaming_matches_recomputing_the_context():
    student = model("full", chunk_frames=2)
    cond = conditions(b=1, t=12)
    cached = CachedStreamer(student, cond, 2, window_frames=12, steps=3)
    recompute = RecomputeStreamer(student, cond, 2, window_frames=12, steps=3)
    for noise in noise_chunks(6):
        torch.testing.assert_close(cached.next_chunk(noise), recompute.next_chunk(noise), rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_rolling_window_keeps_memory_flat_over_100_chunks():
    student = model("factorised", chunk_frames=2)
    cond = conditions(b=1, t=16)  # the audio ends after 8 chunks; the stream goes on
    streamer = CachedStreamer(student, cond, 2, window_frames=4, steps=2)
    process = psutil.Process()
    sizes, rss = [], []
    for index, noise in enumerate(noise_chunks(100)):
        frames = streamer.next_chunk(noise)
        assert bool(torch.isfinite(frames).all())
        sizes.append(streamer.cache.nbytes())
        if index in (20, 99):
            gc.collect()
            rss.append(process.memory_info().rss)
    assert streamer.cache.frames_seen == 200 and streamer.cache.context_frames == 4
    assert len(set(sizes[2:])) == 1  # full after two chunks, constant from then on
    assert (rss[1] - rss[0]) / 2**20 < 20  # no growth beyond allocator noise

    unbounded = CachedStreamer(student, cond, 2, window_frames=10_000, steps=1)
    grown = []
    for noise in noise_chunks(10):
        unbounded.next_chunk(noise)
        grown.append(unbounded.cache.nbytes())
    assert grown[-1] > 5 * grown[0]  # the check above would catch a cache that grows


def test_conditions_window_pads_past_the_end_of_the_audio():
    cond = conditions(b=1, t=8)
    window, first = conditions_window(cond, 6, 4, margin=2)
    assert first == 2 and window.state.shape == (1, 8)
    assert torch.equal(window.audio_speak[:, :4], cond.audio_speak[:, 4:8])
    assert float(window.audio_speak[:, 4:].abs().sum()) == 0.0
    assert not bool(window.speak_valid[:, 4:].any()) and not bool(window.listen_valid[:, 4:].any())
    assert bool((window.state[:, 4:] == cond.state[:, -1:]).all())


def test_kv_cache_evicts_oldest_frames_and_keeps_the_sink():
    from lpm_train.models.attention import FrameKV

    cache = StreamingKVCache(window_frames=3)
    sink = [FrameKV(torch.full((1, 1, 1, 1, 1), -1.0), torch.full((1, 1, 1, 1, 1), -1.0))]
    cache.set_sink(sink)
    for value in range(5):
        cache.append([FrameKV(torch.full((1, 1, 1, 1, 1), float(value)), torch.full((1, 1, 1, 1, 1), float(value)))])
    past = cache.past()[0]
    assert past.k.flatten().tolist() == [-1.0, 2.0, 3.0, 4.0]
    assert cache.n_refs == 1 and cache.frames_seen == 5


def _tone_wav(path, seconds):
    t = np.arange(int(16_000 * seconds)) / 16_000
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(samples.tobytes())


def test_mp4_writer_muxes_chunks_with_the_driving_audio(tmp_path):
    audio = tmp_path / "drive.wav"
    _tone_wav(audio, 0.5)
    writer = ChunkedMp4Writer(tmp_path / "out.mp4", 25, 32, audio)
    gradient = torch.linspace(-1, 1, 32).view(1, 1, 1, 32).expand(2, 3, 32, 32)
    for _ in range(4):  # 8 frames = 0.32 s, shorter than the audio: audio is cut to the video
        writer.write(gradient)
    path = writer.close()
    assert path.is_file() and not list(tmp_path.glob(".*tmp*"))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)], capture_output=True, check=True
    )
    streams = {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}
    assert set(streams) == {"video", "audio"}
    decoded = VideoDecoder(str(path)).get_frames_in_range(0, 8).data
    assert decoded.shape == (8, 3, 32, 32)
    row = decoded[0, 0, 16].float()
    assert row[0] < 40 and row[-1] > 215  # the gradient survived encoding
