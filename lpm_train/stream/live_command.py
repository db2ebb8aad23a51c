"""``lpm-train live``: the student driven by two live audio channels.

Server mode (default): a page on 127.0.0.1 where the browser's microphone is the partner channel
and a reply (``live.reply`` wav, or ``live.reply_text`` spoken by espeak-ng) is the own channel;
frames appear as they are made, with the state and the real-time factor. Until interrupted.

File mode (``live.own`` and/or ``live.partner`` set): both wavs pushed in ``live.piece_ms``
pieces, as a microphone would deliver them, and the frames written to ``live.out`` chunk by chunk
as they come, muxed with the two channels mixed.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as nnf

from lpm_train.config import LpmTrainConfig
from lpm_train.data.audio_features import read_wav
from lpm_train.data.sample_decoder import SampleDecoder
from lpm_train.latent.autoencoder import load_codec
from lpm_train.runtime import setup_runtime
from lpm_train.stream.live_server import LiveEngine, live_server
from lpm_train.stream.live_session import LiveSession, LiveSettings
from lpm_train.stream.mp4_writer import ChunkedMp4Writer
from lpm_train.stream.stream_command import load_student
from lpm_train.stream.voice_states import VoiceStateSettings
from schemas.performer_states import STATE_NAMES
from schemas.sample_layout import AUDIO_SAMPLE_RATE

log = logging.getLogger(__name__)


def spoken(text: str) -> torch.Tensor:
    """``text`` spoken by espeak-ng, 16 kHz mono."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reply.wav"
        try:
            subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True, timeout=120)
        except FileNotFoundError as err:
            raise FileNotFoundError("espeak-ng is not installed (bootstrap.sh installs it); set live.reply") from err
        return read_wav(path.read_bytes())


def write_wav(path: Path, samples: torch.Tensor) -> None:
    pcm = (samples.clamp(-1, 1) * 32767).round().to(torch.int16).numpy().tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(AUDIO_SAMPLE_RATE)
        w.writeframes(pcm)


class SessionFactory:
    """Everything a session needs, loaded once; ``__call__`` opens a fresh session."""

    def __init__(self, config: LpmTrainConfig):
        self.config = config
        self.runtime = setup_runtime(config.train.precision, config.train.threads)
        model, model_config, self.chunk = load_student(config)
        self.model = model.to(self.runtime.device)
        self.decoder = SampleDecoder(model_config.data)
        self.codec = load_codec(model_config.model, self.runtime.device)
        self.size = model_config.data.size
        g = torch.Generator().manual_seed(config.stream.seed)
        reference = config.stream.reference
        self.references = (
            self.decoder.decode_reference(Path(reference).read_bytes(), reference).unsqueeze(0)
            if reference
            else torch.rand(1, 3, self.size, self.size, generator=g) * 2 - 1
        )
        if not reference:
            log.warning("no stream.reference image: the performer's identity is random")

    def __call__(self) -> LiveSession:
        s, live = self.config.stream, self.config.live
        settings = LiveSettings(
            fps=s.fps, chunk_frames=self.chunk, window_frames=s.window_frames, steps=s.steps,
            shift=self.config.sampler.shift, seed=s.seed,
            voice=VoiceStateSettings(threshold_dbfs=live.threshold_dbfs, hold_frames=live.hold_frames),
        )
        return LiveSession(self.model, self.references, self.decoder.audio_encoder,
                           self.decoder.caption_encoder.encode, settings, live.text, self.codec,
                           self.runtime.device, self.runtime.autocast)


def _channel(path: str) -> torch.Tensor:
    return read_wav(Path(path).read_bytes()) if path else torch.zeros(0)


def run_live_files(config: LpmTrainConfig, factory: SessionFactory) -> dict:
    live = config.live
    own, partner = _channel(live.own), _channel(live.partner)
    length = max(own.numel(), partner.numel())
    own, partner = nnf.pad(own, (0, length - own.numel())), nnf.pad(partner, (0, length - partner.numel()))
    session = factory()
    piece = max(int(AUDIO_SAMPLE_RATE * live.piece_ms / 1000), 1)
    with tempfile.TemporaryDirectory() as tmp:
        mix = Path(tmp) / "mix.wav"
        write_wav(mix, own + partner)
        writer = ChunkedMp4Writer(Path(live.out), config.stream.fps, factory.size, mix)
        started, first_latency = time.perf_counter(), None
        for start in range(0, length, piece):
            frames = session.push(own[start : start + piece], partner[start : start + piece])
            if len(frames):
                first_latency = first_latency or time.perf_counter() - started
                writer.write(frames)
        frames = session.close()
        if len(frames):
            writer.write(frames)
        elapsed = time.perf_counter() - started
        path = writer.close()
    states = np.array(list(session.states))
    made = session.chunks_done * factory.chunk
    return {
        "out": str(path),
        "frames": made,
        "first_chunk_latency_s": first_latency or elapsed,
        "realtime_factor": made / config.stream.fps / elapsed,
        "state_frames": {name: int((states == code).sum()) for code, name in enumerate(STATE_NAMES)},
    }


def run_live(config: LpmTrainConfig) -> dict:
    live = config.live
    factory = SessionFactory(config)
    if live.own or live.partner:
        return run_live_files(config, factory)
    reply = _channel(live.reply) if live.reply else spoken(live.reply_text or "Hello. It is good to see you.")
    engine = LiveEngine(factory, reply)
    server = live_server(engine, live.port)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"live page: {url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    session = engine.session
    return {"url": url, "frames": session.chunks_done * factory.chunk}
