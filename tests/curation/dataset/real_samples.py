"""Sample members made from a real clip, for shard tests (no pipeline run needed)."""

import numpy as np

from curation.media.audio_decoder import decode_audio
from curation.media.clip_encoder import CropBox, encode_clip
from curation.storage_formats import json_bytes, npz_bytes, wav_bytes


def real_members(clip: str, t_start: float, duration: float, key: str, fps: float = 25.0) -> dict[str, bytes]:
    mp4 = encode_clip(clip, t_start, duration, CropBox(64, 0, 384), 64, fps)
    audio = decode_audio(clip, t_start=t_start, duration=duration)
    pcm = np.round(audio * 32767).astype(np.int16)
    n = int(round(duration * fps))
    return {
        "mp4": mp4,
        "wav": wav_bytes(pcm, 16000),
        "npz": npz_bytes({"state": np.ones(n, np.int8), "present": np.ones(n, bool)}),
        "json": json_bytes({"key": key, "t_start": t_start, "t_end": t_start + duration, "state": "speaking"}),
        "txt": f"caption for {key}".encode(),
    }
