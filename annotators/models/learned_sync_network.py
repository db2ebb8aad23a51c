"""The learned lip-sync network: its inputs, its layers and its weight file.

Inputs are what the pipeline already has for a speaking segment (``MouthTrack``): per analysis
frame, mouth opening, MediaPipe ``jawOpen`` and mouth darkness, each standardised over the track
(gaps interpolated) with their frame-to-frame changes (6 channels); and the 16 kHz audio as a
log-mel spectrum per video frame (``N_MELS`` bands of one frame's audio around the instant the
frame shows plus the 40 ms by which speech trails the mouth, standardised per band over the span,
with its changes: 2 x ``N_MELS`` channels). Two small temporal convolution stacks embed each frame's
mouth and each frame's sound; the similarity of mouth frame t with sound frame t + lag, averaged
over the span, gives a curve over lags as ``annotators.speaking.av_sync`` does with hand-made
envelopes. Trained (``apps.bench.learned_sync_training``) so the curve peaks at lag 0 of the
picture's own audio and not at shifted lags or on another clip's voice.

Weights are a ``.npz`` of named float32 arrays plus a ``config`` JSON string (layer sizes): no
pickle, so a weight file cannot run code, and a wrong or damaged one is refused by name. A file may
hold several members of one layout (``config["members"]``, arrays named ``m<k>.<name>``): networks
trained alike from consecutive seeds, whose scores are averaged (``LearnedLipSync``). A single
network's file has no ``members`` key and plain names, so its bytes are what they were.
"""

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from annotators.models.stable_npz import write_stable_npz
from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE

N_MELS = 24
MEL_RANGE_HZ = (80.0, 7600.0)
VISUAL_CHANNELS = 6
# The sound of a mouth movement trails it by about 40 ms: the delay ``annotators.speaking.av_sync`` reads
# each frame's audio with, so an in-sync recording peaks at lag 0.
SPEECH_AUDIO_LAG_S = 0.04
MAX_LAG = 15


class LearnedSyncWeightsError(ValueError):
    """A weight file that is not a learned lip-sync network of this layout."""


def visual_features(signals: np.ndarray) -> np.ndarray:
    """(n, 3) mouth_open, jaw_open, mouth_dark (NaN where absent) -> (n, 6) float32."""
    columns = []
    for k in range(signals.shape[1]):
        x = _standardised(signals[:, k])
        columns += [x, np.gradient(x) if len(x) > 1 else np.zeros_like(x)]
    return np.stack(columns, axis=1).astype(np.float32)


def audio_features(audio: np.ndarray, first_frame: int, n_frames: int, fps: float) -> np.ndarray:
    """(n_frames, 2 * N_MELS) log-mel (standardised per band over the span) and its change, for the
    video frames ``first_frame .. first_frame + n_frames`` (zeros outside the audio)."""
    centres = first_frame + np.arange(n_frames + 1) - 0.5 + SPEECH_AUDIO_LAG_S * fps
    edges = np.round(centres * ANALYSIS_SAMPLE_RATE / fps).astype(int)
    length = int(np.max(np.diff(edges)))
    n_fft = 1 << int(np.ceil(np.log2(max(length, 2))))
    frames = np.zeros((n_frames, length), dtype=np.float32)
    for i in range(n_frames):
        a, b = max(edges[i], 0), max(edges[i + 1], 0)
        chunk = audio[a:b]
        frames[i, length - len(chunk) :] = chunk
    power = np.abs(np.fft.rfft(frames * np.hanning(length), n_fft)) ** 2
    mel = np.log(power @ _mel_filters(n_fft).T + 1e-8)
    spread = mel.std(axis=0)
    mel = (mel - mel.mean(axis=0)) / np.where(spread > 1e-6, spread, 1.0)
    change = np.gradient(mel, axis=0) if n_frames > 1 else np.zeros_like(mel)
    return np.concatenate([mel, change], axis=1).astype(np.float32)


def _mel_filters(n_fft: int) -> np.ndarray:
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    low, high = hz_to_mel(np.array(MEL_RANGE_HZ))
    edges = 700.0 * (10 ** (np.linspace(low, high, N_MELS + 2) / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / ANALYSIS_SAMPLE_RATE)
    filters = np.zeros((N_MELS, len(freqs)))
    for m in range(N_MELS):
        left, centre, right = edges[m : m + 3]
        rising = (freqs - left) / (centre - left)
        falling = (right - freqs) / (right - centre)
        filters[m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return filters


def _standardised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return np.zeros(len(x))
    x = np.interp(np.arange(len(x)), np.flatnonzero(ok), x[ok])
    spread = x.std()
    return (x - x.mean()) / spread if spread > 1e-9 else np.zeros(len(x))


def build_network(hidden: int = 16, embed: int = 16, kernel: int = 5, visual_channels: int = VISUAL_CHANNELS) -> Any:
    """The two frame encoders; ``similarity_curve`` compares their outputs. ``visual_channels``: twice
    the mouth signals per frame (the shipped network reads three; experiments read more)."""
    import torch
    from torch import nn

    class SyncNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = {"hidden": hidden, "embed": embed, "kernel": kernel, "n_mels": N_MELS}
            if visual_channels != VISUAL_CHANNELS:  # written only when it differs: the shipped bytes stay
                self.config["visual_channels"] = visual_channels
            pad = kernel // 2
            self.visual = nn.Sequential(
                nn.Conv1d(visual_channels, hidden, kernel, padding=pad), nn.ReLU(),
                nn.Conv1d(hidden, embed, kernel, padding=pad))  # fmt: skip
            self.audio = nn.Sequential(
                nn.Conv1d(2 * N_MELS, hidden, kernel, padding=pad), nn.ReLU(),
                nn.Conv1d(hidden, embed, kernel, padding=pad))  # fmt: skip
            self.scale = nn.Parameter(torch.tensor(5.0))

        def embed_visual(self, v: torch.Tensor) -> torch.Tensor:
            """(batch, n, 6) -> (batch, n, embed), unit length per frame."""
            return nn.functional.normalize(self.visual(v.transpose(1, 2)).transpose(1, 2), dim=-1)

        def embed_audio(self, a: torch.Tensor) -> torch.Tensor:
            return nn.functional.normalize(self.audio(a.transpose(1, 2)).transpose(1, 2), dim=-1)

    return SyncNetwork()


def similarity_curve(visual_embedding: Any, audio_embedding: Any, max_lag: int = MAX_LAG) -> Any:
    """(batch, n, e) mouth frames and (batch, n + 2 max_lag, e) sound frames starting ``max_lag``
    frames earlier -> (batch, 2 max_lag + 1) mean cosine similarity at lags -max_lag..max_lag."""
    import torch

    n = visual_embedding.shape[1]
    return torch.stack(
        [(visual_embedding * audio_embedding[:, max_lag + lag : max_lag + lag + n]).sum(-1).mean(-1)
         for lag in range(-max_lag, max_lag + 1)], dim=1)  # fmt: skip


def save_weights(networks: Any | Sequence[Any], path: Path) -> None:
    """One network or a list of members of one layout, as an ``.npz`` whose bytes depend on the weights
    only: fixed member dates and order (``np.savez`` stamps the current time, so one seed would not give
    one SHA-256)."""
    members = list(networks) if isinstance(networks, Sequence) else [networks]
    config = dict(members[0].config)
    if any(m.config != config for m in members):
        raise ValueError("ensemble members must share one layout")
    if len(members) > 1:
        config["members"] = len(members)
    arrays = {"config": np.array(json.dumps(config, sort_keys=True))}
    for k, member in enumerate(members):
        prefix = f"m{k}." if len(members) > 1 else ""
        arrays |= {prefix + name: v.detach().cpu().numpy().astype(np.float32)
                   for name, v in member.state_dict().items()}
    write_stable_npz(arrays, path)


def load_weights(path: Path) -> list[Any]:
    """The networks of a weight file (one, or its members); ``LearnedSyncWeightsError`` naming the file
    when it is not one."""
    import torch

    if not zipfile.is_zipfile(path):
        raise LearnedSyncWeightsError(f"{path}: not a learned lip-sync weight file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            config = json.loads(str(data["config"]))
            arrays = {k: data[k] for k in data.files if k != "config"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise LearnedSyncWeightsError(f"{path}: not a learned lip-sync weight file ({err})") from err
    if config.get("n_mels") != N_MELS:
        raise LearnedSyncWeightsError(f"{path}: built for {config.get('n_mels')} mel bands, this code uses {N_MELS}")
    count = config.get("members", 1)
    networks = []
    try:
        for k in range(count):
            prefix = f"m{k}." if "members" in config else ""
            network = build_network(config["hidden"], config["embed"], config["kernel"],
                                    config.get("visual_channels", VISUAL_CHANNELS))
            mine = {name[len(prefix):]: torch.from_numpy(v) for name, v in arrays.items() if name.startswith(prefix)}
            if prefix and len(mine) * count != len(arrays):
                raise KeyError(f"member {k} has {len(mine)} of {len(arrays)} arrays")
            network.load_state_dict(mine, strict=True)
            networks.append(network.eval())
    except (KeyError, RuntimeError, TypeError) as err:
        raise LearnedSyncWeightsError(f"{path}: weights do not fit the learned lip-sync network ({err})") from err
    return networks
