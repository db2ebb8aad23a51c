"""One raw shard sample (schemas/sample_layout.py) to model-ready tensors.

Required members: ``mp4`` and ``wav``. Everything else is optional and read tolerantly: the
per-frame ``state`` comes from the ``npz``, else the record's ``state_timeline``, else its
dominant ``state``; the caption from ``txt``, else ``json["caption"]["short"]``; references
from ``ref_NN.jpg``. The speak stream is driven by ``own.wav`` (the performer's voice alone) and
the listen stream by ``partner.wav`` (everyone else) when the sample has them (schema 1.4 on);
older samples drive both from ``wav``, whose listening frames already hold the partner's voice.
Unknown members are ignored.
"""

from __future__ import annotations

import io
import json
import logging
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as nnf

from lpm_train.config import DataConfig
from lpm_train.data.audio_features import FrameAudioEncoder, build_audio_encoder, read_wav
from lpm_train.data.shard_stream import RawSample
from lpm_train.data.text_tokenizer import CaptionEncoder, build_caption_encoder
from lpm_train.models.conditions import state_masks
from schemas.performer_states import STATE_NAMES, PerformerState
from schemas.sample_layout import (
    AUDIO_MEMBER,
    AUDIO_SAMPLE_RATE,
    CAPTION_MEMBER,
    DEFAULT_CLIP_FPS,
    FEATURES_MEMBER,
    OWN_AUDIO_MEMBER,
    PARTNER_AUDIO_MEMBER,
    RECORD_MEMBER,
    REFERENCE_MEMBER_RE,
    VIDEO_MEMBER,
)
from schemas.sample_record import SampleRecord

log = logging.getLogger(__name__)



class SampleError(ValueError):
    """A sample that cannot be used; the message is the reason logged when it is skipped."""


@dataclass
class DecodedSample:
    key: str
    video: torch.Tensor  # [T, C, S, S] float in [-1, 1]
    audio_speak: torch.Tensor  # [T, A]
    audio_listen: torch.Tensor  # [T, A]
    text: torch.Tensor  # [L] ids or [L, E]
    text_valid: torch.Tensor  # [L]
    refs: torch.Tensor  # [R, C, S, S]
    state: torch.Tensor  # [T] long


@dataclass
class LiveInputs:
    own: torch.Tensor  # [S] 16 kHz mono: the performer's voice
    partner: torch.Tensor  # [S] 16 kHz mono: what the performer hears
    states: np.ndarray  # [T] PerformerState codes per frame
    caption: str
    fps: float
    refs: torch.Tensor  # [R, C, S, S] in [-1, 1]


def square_resize(frames: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 [N, C, H, W] -> float [N, C, size, size] in [-1, 1]: centre crop, antialiased resize."""
    h, w = frames.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = frames[..., top : top + side, left : left + side].float()
    if side != size:
        crop = nnf.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (crop / 127.5 - 1.0).clamp(-1.0, 1.0)


def reference_members(members: dict[str, bytes]) -> list[str]:
    return sorted(name for name in members if REFERENCE_MEMBER_RE.match(name))


def sample_record(raw: RawSample) -> SampleRecord:
    """The ``json`` member as a record (every field None without one, or when it holds no object)."""
    data = raw.members.get(RECORD_MEMBER)
    if data is None:
        return SampleRecord()
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SampleError(f"unreadable json: {err}") from err
    return SampleRecord.from_document(document) if isinstance(document, dict) else SampleRecord()


def sample_caption(raw: RawSample, record: SampleRecord | None = None) -> str:
    """The caption: the ``txt`` member, else the record's short caption, else empty."""
    caption = raw.members.get(CAPTION_MEMBER, b"").decode("utf-8", errors="replace").strip()
    record = sample_record(raw) if record is None else record
    return caption or record.short_caption()


def _npz_states(raw: RawSample) -> np.ndarray | None:
    """The per-frame ``state`` array alone: parsing every npz array costs more than decoding."""
    data = raw.members.get(FEATURES_MEMBER)
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return npz["state"] if "state" in npz.files else None
    except (OSError, ValueError) as err:
        raise SampleError(f"unreadable npz: {err}") from err


def _frame_states(record: SampleRecord, npz_states: np.ndarray | None, n_frames: int) -> np.ndarray:
    if npz_states is not None and len(npz_states) >= n_frames:
        return npz_states[:n_frames].astype(np.int64)
    names = {name: code for code, name in enumerate(STATE_NAMES)}
    timeline = record.state_timeline
    if timeline:
        states = np.full(n_frames, int(PerformerState.IDLE), dtype=np.int64)
        for name, first, count in timeline:
            states[int(first) : int(first) + int(count)] = names.get(str(name), int(PerformerState.IDLE))
        return states
    # No per-frame labels: the driving audio drives the whole clip as speech unless told otherwise.
    dominant = names.get(str(record.state or "speaking"), int(PerformerState.SPEAKING))
    return np.full(n_frames, dominant, dtype=np.int64)


class SampleDecoder:
    """Decodes raw samples for one data config; heavy encoders are built on first use, inside
    the worker process that uses them."""

    def __init__(self, config: DataConfig):
        self.config = config
        self._audio: FrameAudioEncoder | None = None
        self._caption: CaptionEncoder | None = None

    @property
    def audio_encoder(self) -> FrameAudioEncoder:
        if self._audio is None:
            c = self.config
            self._audio = build_audio_encoder(c.audio_encoder, c.n_mels, c.mel_per_frame, c.wav2vec2_checkpoint)
        return self._audio

    @property
    def caption_encoder(self) -> CaptionEncoder:
        if self._caption is None:
            c = self.config
            self._caption = build_caption_encoder(
                c.text_encoder, c.text_vocab, c.text_max_tokens, c.sentence_encoder_path
            )
        return self._caption

    def clip_frames(self, raw: RawSample) -> int | None:
        """Frame count known before decode: record, then npz, then the container's metadata."""
        record = sample_record(raw)
        if isinstance(record.n_frames, int):
            return record.n_frames
        states = _npz_states(raw)
        if states is not None:
            return len(states)
        if VIDEO_MEMBER in raw.members:
            from torchcodec.decoders import VideoDecoder

            return int(VideoDecoder(raw.members[VIDEO_MEMBER]).metadata.num_frames or 0)
        return None

    def shape_of(self, raw: RawSample) -> tuple[int, int] | None:
        """``(frames, references)`` of the decoded sample, or None (logged) if unusable."""
        try:
            missing = [m for m in (VIDEO_MEMBER, AUDIO_MEMBER) if m not in raw.members]
            if missing:
                raise SampleError(f"missing members {missing}")
            n_frames = self.clip_frames(raw)
            fitting = [b for b in self.config.frame_buckets if n_frames is not None and b <= n_frames]
            if not fitting:
                raise SampleError(f"{n_frames} frames, shortest bucket is {min(self.config.frame_buckets)}")
        except Exception as err:  # any bad sample is skipped, never fatal
            log.warning("skip sample %s (%s): %s", raw.key, raw.url, err)
            return None
        return max(fitting), min(len(reference_members(raw.members)), self.config.max_refs)

    def decode(
        self, raw: RawSample, shape: tuple[int, int], rng: random.Random, start: int | None = None
    ) -> DecodedSample:
        """The clip from frame ``start`` (drawn from ``rng`` when None: a random crop in time)."""
        from torchcodec.decoders import VideoDecoder

        frames, n_refs = shape
        record, npz_states = sample_record(raw), _npz_states(raw)
        fps = float(record.fps or DEFAULT_CLIP_FPS)
        decoder = VideoDecoder(raw.members[VIDEO_MEMBER], dimension_order="NCHW")
        available = int(decoder.metadata.num_frames or 0)
        n_clip = min(self.clip_frames(raw) or available, available) if available else 0
        if n_clip < frames:
            raise SampleError(f"video has {n_clip} frames, need {frames}")
        if start is None:
            start = rng.randrange(n_clip - frames + 1)
        elif not 0 <= start <= n_clip - frames:
            raise SampleError(f"clip start {start} leaves no {frames} frames of {n_clip}")
        video = square_resize(decoder.get_frames_in_range(start, start + frames).data, self.config.size)
        if video.shape[0] != frames:
            raise SampleError(f"decoded {video.shape[0]} frames, expected {frames}")

        states = torch.from_numpy(_frame_states(record, npz_states, n_clip))
        return self._with_conditions(raw, record, fps, states, video, start, frames, n_refs)

    def clip_conditions(self, raw: RawSample) -> tuple[DecodedSample, float]:
        """Conditions for every frame the clip's audio covers (no video decoded): what a
        stream is driven by. Returns the sample (empty ``video``) and the frame rate."""
        record = sample_record(raw)
        fps = float(record.fps or DEFAULT_CLIP_FPS)
        seconds = read_wav(raw.members[AUDIO_MEMBER]).numel() / AUDIO_SAMPLE_RATE
        n_frames = int(seconds * fps)
        states = torch.from_numpy(_frame_states(record, _npz_states(raw), n_frames))
        if len(states) < n_frames:  # labels shorter than the audio: hold the last one
            states = torch.cat([states, states[-1:].expand(n_frames - len(states))])
        empty = torch.zeros(0, 3, self.config.size, self.config.size)
        n_refs = min(len(reference_members(raw.members)), self.config.max_refs)
        return self._with_conditions(raw, record, fps, states, empty, 0, n_frames, n_refs), fps

    def live_inputs(self, raw: RawSample) -> LiveInputs:
        """What drives a live session from a sample: both channels, per-frame states, caption,
        references. Without ``partner.wav`` the sample's own wav stands for the partner too, as in
        training (a listening sample's wav already is what the performer hears)."""
        record = sample_record(raw)
        fps = float(record.fps or DEFAULT_CLIP_FPS)
        own = read_wav(raw.members[OWN_AUDIO_MEMBER if OWN_AUDIO_MEMBER in raw.members else AUDIO_MEMBER])
        partner = read_wav(raw.members[PARTNER_AUDIO_MEMBER]) if PARTNER_AUDIO_MEMBER in raw.members else own
        partner = nnf.pad(partner, (0, max(own.numel() - partner.numel(), 0)))[: own.numel()]
        n_frames = int(own.numel() / AUDIO_SAMPLE_RATE * fps)
        states = _frame_states(record, _npz_states(raw), n_frames)
        if len(states) < n_frames:  # labels shorter than the audio: hold the last one
            states = np.concatenate([states, np.repeat(states[-1:], n_frames - len(states))])
        n_refs = min(len(reference_members(raw.members)), self.config.max_refs)
        refs = [self.decode_reference(raw.members[name], name) for name in reference_members(raw.members)[:n_refs]]
        size = self.config.size
        return LiveInputs(
            own, partner, states[:n_frames], sample_caption(raw, record), fps,
            torch.stack(refs) if refs else torch.zeros(0, 3, size, size),
        )

    def _with_conditions(
        self,
        raw: RawSample,
        record: SampleRecord,
        fps: float,
        clip_states: torch.Tensor,
        video: torch.Tensor,
        start: int,
        frames: int,
        n_refs: int,
    ) -> DecodedSample:
        n_clip = len(clip_states)
        states = clip_states[start : start + frames].long()
        speak_frames, listen_frames = state_masks(states)
        own = raw.members.get(OWN_AUDIO_MEMBER, raw.members[AUDIO_MEMBER])
        driving = self.audio_encoder(read_wav(own), fps, n_clip)[start : start + frames]
        listened = driving
        if PARTNER_AUDIO_MEMBER in raw.members and bool(listen_frames.any()):
            partner = read_wav(raw.members[PARTNER_AUDIO_MEMBER])
            listened = self.audio_encoder(partner, fps, n_clip)[start : start + frames]
        # Features outside a stream's frames are zeroed; the model masks them out anyway.
        audio_speak = driving * speak_frames.unsqueeze(-1)
        audio_listen = listened * listen_frames.unsqueeze(-1)

        text, text_valid = self.caption_encoder.encode(sample_caption(raw, record))

        refs = [self.decode_reference(raw.members[name], name) for name in reference_members(raw.members)[:n_refs]]
        size = self.config.size
        ref_tensor = torch.stack(refs) if refs else torch.zeros(0, 3, size, size)
        return DecodedSample(raw.key, video, audio_speak, audio_listen, text, text_valid, ref_tensor, states)

    def decode_reference(self, data: bytes, name: str = "reference") -> torch.Tensor:
        from torchvision.io import ImageReadMode, decode_image

        try:
            image = decode_image(torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=ImageReadMode.RGB)
        except RuntimeError as err:
            raise SampleError(f"unreadable reference {name}: {err}") from err
        return square_resize(image.unsqueeze(0), self.config.size)[0]
