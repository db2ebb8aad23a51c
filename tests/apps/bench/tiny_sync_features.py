"""A tiny feature cache for the learned lip-sync model's tests: the layout of ``apps.bench.sync_corpus_features``."""

import csv
import hashlib
from pathlib import Path

import numpy as np

from annotators.models.learned_sync_network import save_weights

FPS = 25.0
RATE = 16000


def write_tiny_features(folder: Path, clips: int = 3, frames: int = 70) -> Path:
    """``clips`` clips of different people in the cache layout: a mouth opening that drives the
    loudness of noise (the audio follows the lips), one segment each, with a random face vector."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in range(clips):
        mouth = np.clip(np.convolve(rng.standard_normal(frames), np.ones(4) / 4, "same"), 0, None).astype(np.float32)
        envelope = np.repeat(mouth, RATE // int(FPS))
        audio = (rng.standard_normal(len(envelope)) * envelope * 0.1).astype(np.float32)
        signals = np.stack([mouth, mouth * 0.5, mouth * 2], axis=1)
        face = rng.standard_normal(128)  # the segment's face vector (a person of their own)
        name = f"clip{k}.npz"
        np.savez(folder / name, audio=audio, fps=np.float64(FPS), signals=signals,
                 ctx_first=np.array([0]), ctx_len=np.array([frames]), seg_first=np.array([10]),
                 seg_len=np.array([50]), av_sync=np.array([1.0]), weight=np.array([40]),
                 face=(face / np.linalg.norm(face))[None].astype(np.float32))
        rows.append({"clip": name, "source": f"source{k}", "person": f"person{k}", "segments": 1})
    with open(folder / "CLIPS.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["clip", "source", "person", "segments"])
        writer.writeheader()
        writer.writerows(rows)
    return folder


def weights_digest(network: object, path: Path) -> str:
    """The SHA-256 of ``network`` saved to ``path``: one digest, one set of weights."""
    save_weights(network, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()
