import json
import wave

import numpy as np
import pytest
from cli_outputs import last_json, streams_of
from torchcodec.decoders import VideoDecoder

from lpm_train.cli import main
from lpm_train.data.shard_stream import read_shard_samples

REQUIRED_BENCH_KEYS = {
    "loader_samples_per_s",
    "model_samples_per_s",
    "stream_chunks_per_s",
    "first_chunk_latency_s",
    "kv_cache_speedup",
    "peak_rss_mb",
}


@pytest.mark.slow
def test_stream_command_writes_an_mp4_from_the_first_shard_sample(distilled_student, tmp_path, capsys):
    config = distilled_student["config"]
    out = tmp_path / "from_shard.mp4"
    argv = [
            "stream", "--json",
            "--set", f"stream.checkpoint={distilled_student['checkpoint']}",
            "--set", f"data.shards={json.dumps(config.data.shards)}",
            "--set", "stream.chunks=10",
            "--set", f"stream.out={out}",
    ]  # fmt: skip
    assert main(argv) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["chunks"] == 10 and summary["frames"] == 20 and summary["first_chunk_latency_s"] > 0
    streams = streams_of(out)
    assert int(streams["video"]["nb_read_frames"]) == 20 and "audio" in streams
    assert (int(streams["video"]["width"]), int(streams["video"]["height"])) == (16, 16)


@pytest.mark.slow
def test_stream_command_from_an_audio_file_and_reference_image(distilled_student, tmp_path, capsys):
    config = distilled_student["config"]
    raw = next(iter(read_shard_samples(config.data.shards[0])))
    reference = tmp_path / "ref.jpg"
    reference.write_bytes(raw.members["ref_00.jpg"])
    audio = tmp_path / "speech.wav"
    rate = 16_000
    t = np.arange(int(0.64 * rate)) / rate
    with wave.open(str(audio), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16).tobytes())
    out = tmp_path / "from_file.mp4"
    argv = [
            "stream", "--json",
            "--set", f"stream.checkpoint={distilled_student['checkpoint']}",
            "--set", f"stream.audio={audio}",
            "--set", f"stream.reference={reference}",
            "--set", "stream.caption=a woman talks to the camera",
            "--set", f"stream.out={out}",
    ]  # fmt: skip
    assert main(argv) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["frames"] == 16  # 0.64 s at 25 fps, in chunks of 2
    frames = VideoDecoder(str(out)).get_frames_in_range(0, 16).data
    assert frames.shape == (16, 3, 16, 16) and float(frames.float().std()) > 1.0


@pytest.mark.slow
def test_bench_reports_every_figure_as_json(media_shards, tmp_path, capsys):
    argv = [
            "bench", "--json",
            "--set", f"data.shards={json.dumps(media_shards['paths']['train'])}",
            "--set", "data.size=16",
            "--set", "train.threads=1",
            "--set", "bench.loader_batches=3",
            "--set", "bench.model_steps=2",
            "--set", "bench.stream_chunks=6",
            "--set", "bench.context_chunks=16",
            "--set", "bench.repeats=2",
    ]  # fmt: skip
    assert main(argv) == 0
    figures = last_json(capsys.readouterr().out)
    assert set(figures) >= REQUIRED_BENCH_KEYS
    assert all(figures[k] > 0 for k in REQUIRED_BENCH_KEYS)
    # Same frames with and without the cache; the cache does far less work at 16 chunks.
    assert figures["kv_vs_recompute_max_abs_diff"] < 1e-4
    assert figures["kv_cache_speedup"] > 1.5
    live = figures["live"]
    assert live["chunks"] == 100 and live["state_switches"] >= 3  # 8 s at 25 fps in chunks of 2; turns heard
    # No order between the two latencies: the first chunk encodes no more than any other since a
    # chunk's conditions are built once per chunk, so either can be the larger by scheduling noise.
    assert live["chunk_latency_s"] > 0 and live["first_chunk_latency_s"] > 0 and live["realtime_factor"] > 0
    assert 0 < live["audio_lookahead_s"] < 1.0  # a chunk waits for a fraction of a second of audio, not the file
    assert live["realtime_factor_cpu"] > 0  # on a CPU: per second of the process's CPU time
