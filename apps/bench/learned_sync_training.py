"""Training the learned lip-sync network (``lpm-curate models train-sync``), seeded and on the CPU.

Data: the per-segment features ``apps.bench.sync_corpus_features`` cached (each speaking
segment's mouth signals with its track around it, and its video's audio). Self-supervised: every
step takes ``batch`` windows of ``window`` frames from random segments; for each, the similarity
curve (``learned_sync_network.similarity_curve``) of its mouth against its own audio at lags
-15..15 and against another person's voice (the voice clip's audio looped to the picture's length,
as ``bench dubbing`` muxes a dub) at the same lags. The loss is the cross-entropy of picking lag 0
of the own audio among those 62 candidates: shifted own audio and a foreign voice are the
negatives. Seeded (Python, NumPy, torch; one thread; deterministic algorithms), so one seed on one
feature set gives the same weights, byte for byte, on one machine. The shipped model is
``TrainSettings.members`` such networks from consecutive seeds (``train_members``).
"""

import csv
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.learned_sync_network import (
    MAX_LAG,
    audio_features,
    build_network,
    similarity_curve,
    visual_features,
)


@dataclass(frozen=True)
class Segment:
    clip: str
    source: str
    person: str
    signals: np.ndarray  # (n, 3) the context's mouth_open, jaw_open, mouth_dark (experiments add columns)
    ctx_first: int
    seg_first: int
    seg_len: int
    fps: float
    av_sync: float
    weight: int


@dataclass(frozen=True)
class FeatureSet:
    segments: list[Segment]
    audio: dict[str, np.ndarray]  # clip -> its 16 kHz audio
    sources: dict[str, str]  # clip -> its source (clips without a speaking segment too)
    persons: dict[str, str]  # clip -> its person


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    steps: int = 300
    batch: int = 32
    window: int = 50
    hidden: int = 16
    embed: int = 16
    kernel: int = 5
    learning_rate: float = 3e-3
    # Networks trained alike from seeds seed, seed + 1, ...; their scores are averaged. One network's
    # held-out figures swing with its seed (AUC 0.923-0.954 over seeds 0-4, 18 sources); five average it.
    members: int = 5


def load_features(folder: Path, with_blendshapes: bool = False) -> FeatureSet:
    """Every cached clip listed in ``CLIPS.csv`` (clips without a speaking segment add only audio);
    ``with_blendshapes``: each segment's mouth blendshapes as further signal columns."""
    segments, audio = [], {}
    with open(folder / "CLIPS.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        with np.load(folder / row["clip"], allow_pickle=False) as data:
            audio[row["clip"]] = data["audio"]
            signals = data["signals"]
            if with_blendshapes:
                if "blend" not in data.files:
                    raise ValueError(f"{folder / row['clip']}: cached without mouth blendshapes; extract it again")
                signals = np.concatenate([signals, data["blend"]], axis=1)
            offsets = np.concatenate([[0], np.cumsum(data["ctx_len"])])
            for i in range(len(data["ctx_len"])):
                segments.append(Segment(
                    row["clip"], row["source"], row["person"], signals[offsets[i] : offsets[i + 1]],
                    int(data["ctx_first"][i]), int(data["seg_first"][i]), int(data["seg_len"][i]),
                    float(data["fps"]), float(data["av_sync"][i]), int(data["weight"][i])))  # fmt: skip
    return FeatureSet(segments, audio, {r["clip"]: r["source"] for r in rows}, {r["clip"]: r["person"] for r in rows})


def dubbed_audio(picture: np.ndarray, voice: np.ndarray) -> np.ndarray:
    """``voice`` looped to ``picture``'s length, as ``bench dubbing`` muxes a dub (``-stream_loop``)."""
    if voice.size == 0:
        return np.zeros_like(picture)
    return np.resize(voice, picture.shape).astype(np.float32)


def foreign_voices(features: FeatureSet, segment: Segment) -> list[str]:
    """The clips whose person is not the segment's and that have audio, sorted."""
    return sorted(c for c, a in features.audio.items() if features.persons[c] != segment.person and a.size)


def train_members(features: FeatureSet, settings: TrainSettings, log: bool = False) -> list[Any]:
    """``settings.members`` networks, the k-th trained by ``train`` with seed ``settings.seed + k``."""
    return [train(features, replace(settings, seed=settings.seed + k), log) for k in range(settings.members)]


def train(features: FeatureSet, settings: TrainSettings, log: bool = False) -> Any:
    """A network trained on every segment of ``features`` (at least ``window`` frames long)."""
    rng = seeded(settings.seed)
    usable = [s for s in features.segments if len(s.signals) >= settings.window and np.isfinite(s.signals).any()]
    if not usable:
        raise ValueError(f"no segment of at least {settings.window} frames to train on")
    prepared = [prepared_inputs(features, s, rng) for s in usable]
    network = build_network(settings.hidden, settings.embed, settings.kernel, 2 * usable[0].signals.shape[1])
    return fit(network, prepared, settings, rng, log)


def seeded(seed: int) -> np.random.Generator:
    """Python's, NumPy's and torch's generators seeded, one thread, deterministic algorithms: one
    seed on one feature set gives one set of weights."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    return np.random.default_rng(seed)


Prepared = tuple[np.ndarray, np.ndarray, list[np.ndarray]]  # a segment's visual input, own sound, foreign sounds
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def fit(network: Any, prepared: list[Prepared], settings: TrainSettings, rng: np.random.Generator,
        log: bool = False, augment: Augment | None = None) -> Any:
    """``settings.steps`` Adam steps of the 62-way choice on batches of ``prepared`` windows. Any
    network with ``embed_visual``, ``embed_audio`` and ``scale`` (the shipped one reads mouth signals;
    ``benchmarks.mouth_pixel_sync``'s reads mouth pixels); ``augment`` alters each visual window."""
    import torch

    optimiser = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    target = torch.full((settings.batch,), MAX_LAG, dtype=torch.long)
    for step in range(settings.steps):
        v, a, f = _batch(prepared, settings, rng, augment)
        ev = network.embed_visual(v)
        own = similarity_curve(ev, network.embed_audio(a), MAX_LAG)
        foreign = similarity_curve(ev, network.embed_audio(f), MAX_LAG)
        logits = network.scale * torch.cat([own, foreign], dim=1)
        loss = torch.nn.functional.cross_entropy(logits, target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if log and (step % 50 == 0 or step == settings.steps - 1):
            print(f"step {step}: loss {loss.item():.3f}", file=sys.stderr, flush=True)
    network.eval()
    return network


def prepared_inputs(
    features: FeatureSet, segment: Segment, rng: np.random.Generator, visual: np.ndarray | None = None
) -> Prepared:
    """The segment's visual features (``visual``: its mouth pixels or other per-frame input, one row
    per context frame; None: its mouth signals'), its own audio's features (``MAX_LAG`` frames either
    side) and those of up to three foreign voices looped under its picture."""
    n = len(segment.signals)
    own = features.audio[segment.clip]
    first = segment.ctx_first - MAX_LAG
    voices = foreign_voices(features, segment)
    picked = [voices[i] for i in rng.permutation(len(voices))[:3]] if voices else []
    foreign = [audio_features(dubbed_audio(own, features.audio[c]), first, n + 2 * MAX_LAG, segment.fps)
               for c in picked]  # fmt: skip
    sound = audio_features(own, first, n + 2 * MAX_LAG, segment.fps)
    visual = visual_features(segment.signals) if visual is None else visual
    return visual, sound, foreign or [np.flip(sound, axis=0).copy()]


def _batch(prepared: list[Prepared], settings: TrainSettings, rng: np.random.Generator,
           augment: Augment | None = None) -> tuple[Any, Any, Any]:
    import torch

    w, span = settings.window, settings.window + 2 * MAX_LAG
    vs, owns, foreigns = [], [], []
    for k in rng.integers(0, len(prepared), settings.batch):
        visual, sound, foreign = prepared[k]
        start = int(rng.integers(0, len(visual) - w + 1))
        window = visual[start : start + w]
        vs.append(window if augment is None else augment(window, rng))
        owns.append(sound[start : start + span])
        foreigns.append(foreign[int(rng.integers(0, len(foreign)))][start : start + span])
    return tuple(torch.from_numpy(np.stack(x)) for x in (vs, owns, foreigns))
