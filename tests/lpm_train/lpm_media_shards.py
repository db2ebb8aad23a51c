"""Small WebDataset shards in the layout of schemas/sample_layout.py, cut from the real
``talking_head`` clips in ../shared/media (never copied into the repo).

Stands in for the curation pipeline's shards until it is finished. Each sample: a 2-s piece
cropped square and scaled to 64x64 at 25 fps (H.264, no audio), its 16 kHz mono wav (for
listening samples: another clip's audio, standing in for the partner), a record json, a caption,
per-frame npz arrays and a reference JPEG taken from outside the piece. Some samples omit
optional members or carry unknown ones, as the reader must tolerate both.

Run as a script to build shards for the benchmark:
    python tests/lpm_train/lpm_media_shards.py OUT_DIR
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import webdataset as wds

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from schemas.performer_states import STATE_NAMES, PerformerState  # noqa: E402
from schemas.sample_layout import (  # noqa: E402 - after the path fix for script use
    AUDIO_SAMPLE_RATE,
    SAMPLE_JSON_FIELDS,
    reference_member,
    safe_key,
)
from schemas.version import SCHEMA_VERSION  # noqa: E402

FPS, SIZE, PIECE_S = 25, 64, 2.0
N_FRAMES = int(FPS * PIECE_S)
CAPTIONS = [
    "a woman talks to the camera with a calm smile",
    "a man speaks energetically and nods",
    "the person listens quietly and blinks",
    "she explains something while raising her eyebrows",
]


def shared_media_dir() -> Path:
    override = os.environ.get("LPM_SHARED_MEDIA")
    return Path(override) if override else ROOT.parent / "shared" / "media"


@dataclass
class Piece:
    clip: Path
    start: float
    ref_t: float
    index: int


def source_pixels(clip: Path) -> int:
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
            str(clip),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    width, height = (int(v) for v in probe.stdout.strip().split(",")[:2])
    return width * height


def talking_head_pieces(media: Path, max_per_clip: int = 4, max_source_pixels: int = 600_000) -> list[Piece]:
    """Pieces of the talking-head clips; sources over ``max_source_pixels`` (a 1080p HEVC clip
    takes seconds per cut) are left out to keep the test suite fast."""
    pieces = []
    with open(media / "MANIFEST.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] == "talking_head" and r["has_audio"] == "True"]
    for row in sorted(rows, key=lambda r: r["file"]):
        if source_pixels(media / row["file"]) > max_source_pixels:
            continue
        duration = float(row["duration_s"])
        starts = [s * PIECE_S for s in range(int(duration // PIECE_S)) if s * PIECE_S + PIECE_S <= duration - 0.3]
        for i, start in enumerate(starts[:max_per_clip]):
            # A reference frame from outside the piece's window, as the curation pipeline does.
            ref_t = start + PIECE_S + 0.1 if start + PIECE_S + 0.2 < duration else start - 0.2
            pieces.append(Piece(media / row["file"], start, ref_t, i))
    return pieces


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


def cut_piece(piece: Piece, work: Path) -> tuple[bytes, bytes, bytes]:
    square = f"crop='min(iw,ih)':'min(iw,ih)',scale={SIZE}:{SIZE}:flags=area,fps={FPS}"
    mp4, wav, jpg = work / "v.mp4", work / "a.wav", work / "r.jpg"
    _ffmpeg(
        "-ss",
        f"{piece.start:.3f}",
        "-t",
        f"{PIECE_S:.3f}",
        "-i",
        str(piece.clip),
        "-map",
        "0:v:0",
        "-vf",
        square,
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(FPS),
        "-frames:v",
        str(N_FRAMES),
        str(mp4),
        "-map",
        "0:a:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(AUDIO_SAMPLE_RATE),
        "-c:a",
        "pcm_s16le",
        str(wav),
    )
    _ffmpeg("-ss", f"{piece.ref_t:.3f}", "-i", str(piece.clip), "-frames:v", "1", "-vf", square, "-q:v", "3", str(jpg))
    return mp4.read_bytes(), wav.read_bytes(), jpg.read_bytes()


def frame_states(kind: str) -> np.ndarray:
    states = np.full(N_FRAMES, int(PerformerState.SPEAKING), dtype=np.int8)
    if kind == "listening":
        states[:] = int(PerformerState.LISTENING)
    elif kind == "mixed":  # a turn change: speaks, then listens
        states[N_FRAMES // 2 :] = int(PerformerState.LISTENING)
    elif kind == "idle_gap":
        states[20:30] = int(PerformerState.IDLE)
    return states


def state_timeline(states: np.ndarray) -> list[list]:
    runs, first = [], 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[first]:
            runs.append([STATE_NAMES[int(states[first])], first, i - first])
            first = i
    return runs


def features_npz(states: np.ndarray, rng: np.random.Generator) -> bytes:
    n = len(states)
    arrays = {
        "state": states.astype(np.int8),
        "present": np.ones(n, dtype=bool),
        "head_pose": rng.normal(0, 5, (n, 3)).astype(np.float16),
        "mouth_open": rng.uniform(0, 0.3, n).astype(np.float16),
        "blendshapes": rng.uniform(0, 1, (n, 52)).astype(np.float16),
        "face_box": np.tile(np.array([0.25, 0.2, 0.75, 0.8], dtype=np.float16), (n, 1)),
        "vad": (states == int(PerformerState.SPEAKING)).astype(np.float16),
        "speaking_prob": (states == int(PerformerState.SPEAKING)).astype(np.float16),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def sample_members(piece: Piece, number: int, work: Path, partner_wav: bytes | None) -> dict[str, bytes | str]:
    kind = ["speaking", "listening", "mixed", "idle_gap"][number % 4]
    mp4, wav, jpg = cut_piece(piece, work)
    if kind == "listening" and partner_wav is not None:
        wav = partner_wav  # the driving audio of a listener is the partner's speech
    states = frame_states(kind)
    video_id = piece.clip.stem
    key = safe_key(video_id, f"p{piece.index}")
    codes = states.tolist()
    dominant = STATE_NAMES[max(range(3), key=lambda s: (codes.count(s), -s))]
    caption = CAPTIONS[number % len(CAPTIONS)]
    record = dict.fromkeys(SAMPLE_JSON_FIELDS) | {
        "schema_version": SCHEMA_VERSION,
        "key": key,
        "segment_id": f"{video_id}:{piece.start:.2f}",
        "video_id": video_id,
        "track_id": f"{video_id}:t0",
        "identity_id": video_id.split("_")[0],
        "state": dominant,
        "t_start": piece.start,
        "t_end": piece.start + PIECE_S,
        "fps": FPS,
        "n_frames": N_FRAMES,
        "size": SIZE,
        "audio_source": "partner_track" if kind == "listening" else "own",
        "state_timeline": state_timeline(states),
        "scores": {"quality": 0.8, "sync": 5.0, "vad": 0.9},
        "caption": {"short": caption, "detailed": caption, "captioner": "test"},
        "references": [
            {
                "member": reference_member(0),
                "reference_id": f"{key}-r0",
                "kind": "view",
                "view_bin": 0,
                "expression_bin": 0,
                "video_id": video_id,
                "t": piece.ref_t,
            }
        ],
        "provenance": {"uri": str(piece.clip), "source_t_start": piece.start, "source_t_end": piece.start + PIECE_S},
    }
    members: dict[str, bytes | str] = {
        "__key__": key,
        "mp4": mp4,
        "wav": wav,
        "json": json.dumps(record).encode(),
        "txt": caption.encode(),
        reference_member(0): jpg,
        "npz": features_npz(states, np.random.default_rng(number)),
    }
    # Tolerance cases: optional members missing, unknown members present.
    if number % 5 == 3:
        del members[reference_member(0)]
    if number % 7 == 4:
        del members["npz"]  # state then comes from the record's state_timeline
    if number % 6 == 5:
        members["extra.bin"] = b"members the trainer does not know must be ignored"
    return members


def write_media_shards(out: Path, media: Path | None = None, per_shard: int = 4, max_per_clip: int = 4) -> dict:
    """Writes ``train-NNNNNN.tar`` and ``heldout-NNNNNN.tar``; returns their paths and keys.
    Held out: the second piece of each multi-piece clip and the last clip of the one-person
    ``fantasy`` series: unseen moments and an unseen take of seen people."""
    media = media or shared_media_dir()
    pieces = talking_head_pieces(media, max_per_clip)
    if not pieces:
        raise FileNotFoundError(f"no talking_head clips in {media}")
    out.mkdir(parents=True, exist_ok=True)
    fantasy = [p for p in pieces if p.clip.name.startswith("fantasy_")]
    heldout_ids = {id(p) for p in pieces if p.index == 1} | ({id(fantasy[-1])} if fantasy else set())
    train, heldout = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        partner = None
        for number, piece in enumerate(pieces):
            members = sample_members(piece, number, work, partner)
            partner = members["wav"]
            (heldout if id(piece) in heldout_ids else train).append(members)
    paths = {"train": [], "heldout": []}
    for name, samples in (("train", train), ("heldout", heldout)):
        for shard_index in range(0, len(samples), per_shard):
            path = out / f"{name}-{shard_index // per_shard:06d}.tar"
            with wds.TarWriter(str(path), encoder=False) as writer:
                for members in samples[shard_index : shard_index + per_shard]:
                    writer.write(members)
            paths[name].append(str(path))
    return {
        "paths": paths,
        "keys": {"train": [m["__key__"] for m in train], "heldout": [m["__key__"] for m in heldout]},
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/lpm_train/lpm_media_shards.py OUT_DIR")
    result = write_media_shards(Path(sys.argv[1]))
    print(json.dumps(result["paths"], indent=1))
