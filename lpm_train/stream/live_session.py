"""A live, full-duplex session: two audio channels pushed as they arrive, frames back chunk by chunk.

``push(own, partner, state=None, text=None)`` takes any length of 16 kHz mono audio on both
channels: ``own`` is the performer's voice (it drives the lips while speaking), ``partner`` is
everyone else (it drives nods and gaze while listening). The state of each frame is the one
given with its audio, or, when none is given, inferred from the two channels' voice activity
with hysteresis (``voice_states``). A ``text`` instruction holds from the next chunk on (what
the performer does while idle). A chunk is generated as soon as the audio its conditions look at
(``audio_window`` frames ahead) has arrived, so a push returns zero or more chunks of frames;
``close()`` ends the audio and returns the rest.

The student runs as in ``CachedStreamer``: references in the attention sink, a rolling window of
cached context. Only what chunks still to come need is kept (audio, conditions), so a session can
run for hours in constant memory. Fed the same audio in any pieces, a session gives the same
frames (up to float rounding) as one fed the whole file: ``lpm-train stream`` is this loop.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch

from lpm_train.data.audio_features import FrameAudioEncoder
from lpm_train.latent.autoencoder import FrozenAutoencoder
from lpm_train.models.conditions import Conditions, state_masks
from lpm_train.models.dit import VideoDiT
from lpm_train.stream.frame_audio_stream import FrameAudioStream
from lpm_train.stream.streamer import CachedStreamer, conditions_window
from lpm_train.stream.voice_states import StateFollower, VoiceStateSettings
from schemas.performer_states import STATE_NAMES, PerformerState
from schemas.sample_layout import AUDIO_SAMPLE_RATE

TextEncoder = Callable[[str], tuple[torch.Tensor, torch.Tensor]]
StateLike = PerformerState | str | None


class LiveSessionClosedError(RuntimeError):
    """Audio pushed after ``close()``: a closed session has given its last frame."""


@dataclass(frozen=True)
class LiveSettings:
    fps: float = 25.0
    chunk_frames: int = 2
    window_frames: int = 4  # frames of generated context kept besides the reference sink
    steps: int = 4
    shift: float = 1.0
    seed: int = 0
    chunk_limit: int = 0  # stop after this many chunks (0: as long as audio comes)
    voice: VoiceStateSettings = field(default_factory=VoiceStateSettings)


def as_state(state: StateLike) -> PerformerState | None:
    if state is None or isinstance(state, PerformerState):
        return state
    if state not in STATE_NAMES:
        raise ValueError(f"unknown state {state!r}; one of {', '.join(STATE_NAMES)}")
    return PerformerState(STATE_NAMES.index(state))


def _mono(audio: object, name: str) -> torch.Tensor:
    samples = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    if samples.dim() != 1:
        raise ValueError(f"{name} audio must be mono: a 1-D array of samples, got shape {tuple(samples.shape)}")
    if samples.numel() == 0:
        raise ValueError(f"{name} audio is empty: push at least one sample")
    if not bool(torch.isfinite(samples).all()):
        raise ValueError(f"{name} audio holds NaN or infinite samples")
    return samples


class LiveSession:
    def __init__(
        self,
        model: VideoDiT,
        references: torch.Tensor,  # [R, C, H, W] in [-1, 1], pixels (encoded here when a codec is given)
        audio_encoder: FrameAudioEncoder,
        encode_text: TextEncoder,
        settings: LiveSettings = LiveSettings(),
        text: str = "",
        codec: FrozenAutoencoder | None = None,
        device: torch.device | str = "cpu",
        autocast: Callable[[], AbstractContextManager[object]] = nullcontext,
    ):
        self.model, self.settings, self.codec, self.device = model, settings, codec, torch.device(device)
        self.encode_text, self.autocast = encode_text, autocast
        self.own = FrameAudioStream(audio_encoder, settings.fps)
        self.partner = FrameAudioStream(audio_encoder, settings.fps)
        self.follower = StateFollower(settings.voice)
        self._frame_size = int(references.shape[-1])
        refs = references.unsqueeze(0).to(self.device)
        self._refs = refs if codec is None else codec.encode(refs)
        self._text = encode_text(text)
        # (first sample, state) in order: the state given with each push (None: inferred)
        self._given: list[tuple[int, PerformerState | None]] = []
        # Per-frame conditions from ``_first_kept`` on, unmasked features (masks follow the state)
        self._first_kept = 0
        self._own_rows = torch.zeros(0, audio_encoder.dim)
        self._partner_rows = torch.zeros(0, audio_encoder.dim)
        self._states = torch.zeros(0, dtype=torch.long)
        self.streamer = CachedStreamer(model, self._conditions(0, 0), settings.chunk_frames,
                                       settings.window_frames, settings.steps, settings.shift)
        self._noise = torch.Generator().manual_seed(settings.seed)
        self.closed = False
        self.chunks_done = 0
        self.chunk_seconds: list[float] = []  # wall time of each chunk
        self.states: collections.deque[int] = collections.deque(maxlen=100_000)  # what the model saw, per frame
        self.last_conditions: Conditions | None = None  # the window the last chunk was generated from

    # -- input ----------------------------------------------------------------------------------
    @torch.no_grad()
    def push(
        self,
        own: object,
        partner: object | None = None,
        state: StateLike = None,
        text: str | None = None,
        sample_rate: int = AUDIO_SAMPLE_RATE,
    ) -> torch.Tensor:
        """Append audio to both channels; returns the frames ``[n, C, H, W]`` now generated."""
        if self.closed:
            raise LiveSessionClosedError("this session is closed: start a new LiveSession to go on")
        if sample_rate != AUDIO_SAMPLE_RATE:
            raise ValueError(f"audio must be {AUDIO_SAMPLE_RATE} Hz, got {sample_rate} Hz: resample before pushing")
        own_samples = _mono(own, "own")
        partner_samples = torch.zeros_like(own_samples) if partner is None else _mono(partner, "partner")
        if partner_samples.numel() != own_samples.numel():
            raise ValueError(f"own and partner pieces must be the same length ({own_samples.numel()} and "
                             f"{partner_samples.numel()} samples): the channels are time-aligned")
        given = as_state(state)
        if text is not None:
            self._text = self.encode_text(text)
        self._given.append((self.own.samples_received, given))
        self.own.append(own_samples)
        self.partner.append(partner_samples)
        self._take(closing=False)
        return self._generate(closing=False)

    @torch.no_grad()
    def close(self) -> torch.Tensor:
        """No more audio: the frames still owed, up to the end of the audio (or ``chunk_limit``)."""
        if self.closed:
            raise LiveSessionClosedError("this session is already closed")
        self.closed = True
        self._take(closing=True)
        return self._generate(closing=True)

    # -- conditions -----------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        """Frames whose conditions are known (audio arrived for them and the frames they look at)."""
        return self._first_kept + len(self._states)

    @property
    def kept_frames(self) -> int:
        """Frames whose conditions are held: what chunks still to come look at."""
        return len(self._states)

    def _state_given_at(self, sample: int) -> PerformerState | None:
        given = None
        for first, state in self._given:
            if first > sample:
                break
            given = state
        return given

    def _take(self, closing: bool) -> None:
        own_rows, own_levels = self.own.take(closing)
        partner_rows, partner_levels = self.partner.take(closing)
        first = self.frame_count
        states = []
        for offset in range(len(own_levels)):
            given = self._state_given_at(self.own.frame_start(first + offset))
            if given is None:
                states.append(self.follower.follow(float(own_levels[offset]), float(partner_levels[offset])))
            else:
                states.append(self.follower.force(given))
        self._own_rows = torch.cat([self._own_rows, own_rows])
        self._partner_rows = torch.cat([self._partner_rows, partner_rows])
        self._states = torch.cat([self._states, torch.tensor([int(s) for s in states], dtype=torch.long)])
        # Given states no later frame can start in are done with
        next_start = self.own.frame_start(self.frame_count)
        while len(self._given) > 1 and self._given[1][0] <= next_start:
            self._given.pop(0)

    def _conditions(self, first: int, count: int) -> Conditions:
        """Frames ``[first, first + count)`` (all kept) as the model's batch of one."""
        lo, hi = first - self._first_kept, first - self._first_kept + count
        state = self._states[lo:hi].unsqueeze(0)
        speak, listen = state_masks(state)
        text, text_valid = self._text
        return Conditions(
            audio_speak=(self._own_rows[lo:hi] * speak[0].unsqueeze(-1)).unsqueeze(0),
            audio_listen=(self._partner_rows[lo:hi] * listen[0].unsqueeze(-1)).unsqueeze(0),
            speak_valid=speak,
            listen_valid=listen,
            text=text.unsqueeze(0),
            text_valid=text_valid.unsqueeze(0),
            refs=self._refs,
            ref_valid=torch.ones(self._refs.shape[:2], dtype=torch.bool),
            state=state,
        ).to(self.device)

    def _forget_behind(self, frame: int) -> None:
        """Drop the conditions of frames no chunk will look at again."""
        drop = max(frame - self._first_kept, 0)
        if drop:
            self._own_rows, self._partner_rows = self._own_rows[drop:], self._partner_rows[drop:]
            self._states = self._states[drop:]
            self._first_kept += drop

    # -- generation -----------------------------------------------------------------------------
    def _chunks_owed(self, closing: bool) -> int:
        chunk, margin = self.settings.chunk_frames, self.streamer.margin
        if self.frame_count == 0:  # no audio has covered a frame yet
            return 0
        if closing:
            owed = self.settings.chunk_limit or math.ceil(self.frame_count / chunk)
        else:  # a chunk's conditions look ``margin`` frames ahead: wait for them
            owed = max((self.frame_count - margin) // chunk, 0)
        if self.settings.chunk_limit:
            owed = min(owed, self.settings.chunk_limit)
        return max(owed - self.chunks_done, 0)

    def _generate(self, closing: bool) -> torch.Tensor:
        chunk, margin = self.settings.chunk_frames, self.streamer.margin
        frames = []
        for _ in range(self._chunks_owed(closing)):
            started = time.perf_counter()
            first = self.chunks_done * chunk
            known = self._conditions(self._first_kept, self.frame_count - self._first_kept)
            cond, offset = conditions_window(known, first - self._first_kept, chunk, margin)
            if not self.streamer.started:
                self.streamer.cond = cond
                self.streamer.start()
            # Noise from a CPU generator: the same stream for a seed on any device.
            model = self.model
            shape = (1, chunk, model.config.channels, model.dims.size, model.dims.size)
            noise = torch.randn(shape, generator=self._noise).to(self.device)
            with self.autocast():
                latent = self.streamer.denoise(noise, cond, offset)[0]
                out = latent if self.codec is None else self.codec.decode(latent)
            frames.append(out.float().cpu())
            self.states.extend(int(s) for s in cond.state[0, offset : offset + chunk])
            self.last_conditions = cond
            self.chunks_done += 1
            self._forget_behind(self.chunks_done * chunk - margin)
            self.chunk_seconds.append(time.perf_counter() - started)
        if not frames:
            return torch.zeros(0, 3, self._frame_size, self._frame_size)
        return torch.cat(frames)
