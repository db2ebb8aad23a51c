"""What the review page plays and draws for an item: a clip with its sound, references, timeline.

A kept sample's ``mp4`` has no audio track and its driving audio is the ``wav`` beside it; the
two are muxed into one mp4 (video stream copied, audio to AAC) so the browser plays them with one
clock and lip sync is judged on exactly the frames in the shard. A rejection has no sample: its
source span is cut from the input video, with the input's own sound and ``CONTEXT_S`` seconds
before and after it, so the reviewer sees what led to the rejection (the page marks the span).
The rejected track's face box is not drawn: no manifest row keeps a rejected track's boxes. Both go through the
whitelisting ffmpeg runner. Members are read through the shard index (byte offsets, checksums).
"""

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from apps.review.review_items import ReviewItem
from curation.dataset.shard_reader import read_sample
from curation.media.ffmpeg_runner import MediaToolError, run_media_tool, safe_input
from curation.store.run_store import RunStore
from schemas.performer_states import PerformerState
from schemas.sample_layout import AUDIO_MEMBER, FEATURES_MEMBER, RECORD_MEMBER, REFERENCE_MEMBER_RE, VIDEO_MEMBER
from schemas.sample_record import SampleRecord

_FFMPEG = ("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y")
MAX_SOURCE_SPAN_S = 12.0
CONTEXT_S = 2.0
SOURCE_HEIGHT = 256


def sample_members(store: RunStore, item: ReviewItem) -> dict[str, bytes]:
    if item.kind != "kept" or not item.shard or not item.key:
        return {}
    return read_sample(store, item.shard, item.key)


def reference_names(members: dict[str, bytes]) -> list[str]:
    return sorted(name for name in members if REFERENCE_MEMBER_RE.match(name))


def playable_clip(store: RunStore, item: ReviewItem) -> bytes | None:
    """An mp4 with picture and sound for the item; ``None`` when there is nothing to play."""
    if item.kind == "kept":
        members = sample_members(store, item)
        return mux_clip(members[VIDEO_MEMBER], members.get(AUDIO_MEMBER))
    return source_span(item)


def mux_clip(mp4: bytes, wav: bytes | None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="lpm-review-") as tmp:
        video, audio, out = (os.path.join(tmp, n) for n in ("clip.mp4", "audio.wav", "muxed.mp4"))
        Path(video).write_bytes(mp4)
        inputs = [*safe_input(video)]
        maps = ["-map", "0:v:0"]
        if wav:
            Path(audio).write_bytes(wav)
            inputs += safe_input(audio)
            maps += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "96k"]
        run_media_tool([*_FFMPEG, *inputs, *maps, "-c:v", "copy", "-movflags", "+faststart", "-f", "mp4", out],
                       timeout=60)
        return Path(out).read_bytes()


def source_window(item: ReviewItem) -> tuple[float, float]:
    """The part of the input a rejection is played from: its span (at most 12 s) with context."""
    start = max(item.t_start - CONTEXT_S, 0.0)
    return start, item.t_start + min(max(item.t_end - item.t_start, 0.5), MAX_SOURCE_SPAN_S) + CONTEXT_S


def source_span(item: ReviewItem) -> bytes | None:
    uri = item.source_uri
    if not uri or "://" in uri or not os.path.isfile(uri):
        return None
    start, end = source_window(item)
    with tempfile.TemporaryDirectory(prefix="lpm-review-") as tmp:
        out = os.path.join(tmp, "span.mp4")
        command = [
            *_FFMPEG, "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", *safe_input(uri),
            "-map", "0:v:0", "-map", "0:a:0?", "-vf", f"scale=-2:{SOURCE_HEIGHT}", "-c:v", "libx264",
            "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "1",
            "-movflags", "+faststart", "-f", "mp4", out,
        ]
        try:
            run_media_tool(command, timeout=120)
        except MediaToolError:
            return None  # a damaged or non-video input: the page says there is nothing to play
        data = Path(out).read_bytes()
        return data or None


def timeline(members: dict[str, bytes]) -> dict[str, Any]:
    """Per-frame state, VAD and speaking probability of a sample, for the bar under the video."""
    if FEATURES_MEMBER not in members:
        return {"fps": 25.0, "n_frames": 0, "state": [], "vad": [], "speaking_prob": [], "states": []}
    arrays = np.load(io.BytesIO(members[FEATURES_MEMBER]), allow_pickle=False)
    record = SampleRecord.from_json(members.get(RECORD_MEMBER) or b"{}")

    def series(name: str) -> list[float]:
        if name not in arrays:
            return []
        return [round(float(v), 3) if np.isfinite(v) else 0.0 for v in np.asarray(arrays[name], dtype=np.float32)]

    state = [int(v) for v in arrays["state"]] if "state" in arrays else []
    return {
        "fps": float(record.fps or 25.0),
        "n_frames": len(state),
        "state": state,
        "vad": series("vad"),
        "speaking_prob": series("speaking_prob"),
        "states": [s.name.lower() for s in PerformerState],
    }
