"""The WebDataset sample layout: one sample per kept segment.

A sample is a group of tar members sharing a key (``<key>.<ext>``). Trainers and the shard
writer both import these names, so the layout has exactly one definition.

Members
-------
``mp4``     the segment's video: H.264 (yuv420p), constant ``fps`` (default 25), cropped square
            around the performer and scaled to ``size`` x ``size`` (default 256), no audio track,
            first frame a keyframe. Frame ``i`` shows source time ``t_start + i / fps``.
``wav``     the *driving* audio, 16 kHz mono PCM s16le, same duration as the clip:
            speaking segment -> the performer's own voice (the source mix);
            listening segment -> the partner's audio (the partner's diarized track when one
            exists, else the source mix, which at those times holds only the partner);
            idle or mixed (turn-change) segment -> the source mix. Per-frame ``state`` in the
            ``npz`` tells which frames the audio drives as speech and which as listening.
``own.wav``  the performer's own voice: the source mix where their voice is heard, silence
            elsewhere (10 ms crossfades at the edges), 16 kHz mono, time-aligned with ``wav``.
``partner.wav`` everyone else's voice, cut the same way. Frames where both are heard (an
            overlap) are flagged in the ``npz`` (``overlap``) and kept in both channels, or, where
            a separation model ran, each channel holds its own separated voice there; how the
            channels were cut is in ``json["channels"]``. Shards written before schema 1.4 lack
            both members: readers fall back to ``wav``.
``json``    the full segment record (``schemas/sample_record.py``), UTF-8.
``txt``     the short performance caption, UTF-8, one line.
``ref_NN.jpg`` identity references (NN = 00, 01, ...), JPEG, drawn from outside the segment's
            time window; metadata for each is in ``json["references"]`` in the same order.
``npz``     per-frame features aligned to the clip's frames (see ``NPZ_ARRAYS``); arrays have
            first dimension ``n_frames``.

Keys are ``[A-Za-z0-9_-]`` only: no dots (WebDataset splits the key at the first dot), no path
separators.
"""

import re
from dataclasses import fields

from schemas.sample_record import SampleRecord

VIDEO_MEMBER = "mp4"
AUDIO_MEMBER = "wav"
OWN_AUDIO_MEMBER = "own.wav"
PARTNER_AUDIO_MEMBER = "partner.wav"
RECORD_MEMBER = "json"
CAPTION_MEMBER = "txt"
FEATURES_MEMBER = "npz"
REFERENCE_MEMBER_PATTERN = "ref_{index:02d}.jpg"
REFERENCE_MEMBER_RE = re.compile(r"^ref_(\d{2})\.jpg$")

AUDIO_SAMPLE_RATE = 16_000
DEFAULT_CLIP_FPS = 25
DEFAULT_CLIP_SIZE = 256

# Arrays in the npz member; shape (n_frames, ...) and dtype.
NPZ_ARRAYS: dict[str, str] = {
    "state": "int8 (n,): PerformerState code per frame (0 idle, 1 speaking, 2 listening)",
    "present": "bool (n,): the performer's face was found in this frame",
    "head_pose": "float16 (n, 3): yaw, pitch, roll in degrees (yaw > 0: performer turns to their left)",
    "mouth_open": "float16 (n,): inner-lip distance / face height",
    "blendshapes": "float16 (n, 52): MediaPipe blendshape scores, order of BLENDSHAPE_NAMES in json",
    "face_box": "float16 (n, 4): x0, y0, x1, y1 of the face in clip coordinates, 0..1",
    "vad": "float16 (n,): voice-activity probability of the source mix",
    "speaking_prob": "float16 (n,): probability that the visible performer is the one speaking",
    "own_voice": "bool (n,): the performer's own voice is heard (what own.wav keeps)",
    "partner_voice": "bool (n,): another voice is heard (what partner.wav keeps)",
    "overlap": "bool (n,): both at once (kept in both channels unless separated)",
}

# Top-level fields of the json member: ``schemas/sample_record.py`` defines them and their parts.
SAMPLE_JSON_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SampleRecord))

_SAFE_KEY = re.compile(r"[^A-Za-z0-9_-]+")


def safe_key(*parts: object) -> str:
    """A WebDataset-safe sample key built from id parts (unsafe characters become ``-``)."""
    key = "_".join(_SAFE_KEY.sub("-", str(p)).strip("-") for p in parts)
    if not key or key.startswith("_"):
        raise ValueError(f"cannot build a sample key from {parts!r}")
    return key


def reference_member(index: int) -> str:
    return REFERENCE_MEMBER_PATTERN.format(index=index)
