"""Shard-like clips of the real talking heads in ../shared/media, for the scoring tests.

Each ``talking_head`` clip with audio is cut into segments of at most 10 s (longer sources into
equal parts of about 7.5 s, as the curation pipeline cuts 5-10 s segments), cropped square and
scaled to 256 px at 25 fps (the shard clip size, ``schemas.sample_layout.DEFAULT_CLIP_SIZE``),
with its own audio (AAC, 16 kHz mono) and a reference frame from the middle of the segment.
Written to a temporary folder, never into the repository.

``matched``: every segment with its own audio and its own reference. ``shuffled``: the same
videos with the audio and the reference of a segment of another recording (a fixed derangement;
the four ``fantasy_*`` clips share one recording's audio, so they never swap among themselves).
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from lpm_media_shards import shared_media_dir

SIZE, FPS = 256, 25


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=300)


def recording(name: str) -> str:
    return "fantasy" if name.startswith("fantasy") else name.rsplit("_s", 1)[0]


def talking_head_segments(out: Path) -> dict[str, Path]:
    """``{segment name: mp4 with its own audio}`` plus ``<name>.ref.jpg`` beside each."""
    media = shared_media_dir()
    with open(media / "MANIFEST.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] == "talking_head" and r["has_audio"] == "True"]
    out.mkdir(parents=True, exist_ok=True)
    square = f"crop='min(iw,ih)':'min(iw,ih)',scale={SIZE}:{SIZE}:flags=area,fps={FPS}"
    segments = {}
    for row in sorted(rows, key=lambda r: r["file"]):
        duration = float(row["duration_s"])
        parts = max(1, int(duration // 7.5)) if duration > 10 else 1
        length = duration / parts if parts > 1 else duration
        for i in range(parts):
            name = f"{Path(row['file']).stem.replace('.', '-')}_s{i}"
            mp4 = out / f"{name}.mp4"
            source = str(media / row["file"])
            _ffmpeg("-ss", f"{i * length:.3f}", "-t", f"{length:.3f}", "-i", source, "-vf", square,
                    "-c:v", "libx264", "-crf", "18", "-c:a", "aac", "-ar", "16000", "-ac", "1", str(mp4))  # fmt: skip
            _ffmpeg("-ss", f"{i * length + length / 2:.3f}", "-i", source, "-frames:v", "1",
                    "-vf", square, str(out / f"{name}.ref.jpg"))  # fmt: skip
            segments[name] = mp4
    return segments


def shuffled_partner(names: list[str]) -> dict[str, str]:
    """Each segment's partner from another recording: the next name in a rotation of the list
    ordered so that neighbours come from different recordings."""
    others = [n for n in names if recording(n) != "fantasy"]
    fantasy = [n for n in names if recording(n) == "fantasy"]
    partner = {}
    for i, name in enumerate(fantasy):
        partner[name] = others[i % len(others)]
    for i, name in enumerate(others):
        candidates = [o for o in others[i + 1 :] + others[:i] if recording(o) != recording(name)]
        partner[name] = candidates[0]
    return partner


def with_foreign_audio(segments: dict[str, Path], out: Path) -> dict[str, str]:
    """``out/<name>.mp4``: the segment's video with its partner's audio (looped or cut to the
    video's length) and the partner's reference. Returns the partners."""
    out.mkdir(parents=True, exist_ok=True)
    partner = shuffled_partner(sorted(segments))
    for name, mp4 in segments.items():
        other = segments[partner[name]]
        target = str(out / f"{name}.mp4")
        _ffmpeg("-i", str(mp4), "-stream_loop", "-1", "-i", str(other), "-map", "0:v:0", "-map", "1:a:0",
                "-c:v", "copy", "-c:a", "aac", "-ar", "16000", "-ac", "1", "-shortest", target)  # fmt: skip
        (out / f"{name}.ref.jpg").write_bytes(other.with_name(f"{partner[name]}.ref.jpg").read_bytes())
    return partner
