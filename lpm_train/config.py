"""Trainer configuration: typed sections loaded from YAML, with ``key=value`` overrides.

Every command starts from ``configs/default.yaml`` (tiny, trains on a CPU), overlays the user's
``--config`` file, then the ``--set section.key=value`` overrides. Unknown keys are errors that
name their dotted path, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

import contextlib
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "default.yaml"


@dataclass
class DataConfig:
    shards: list[str] = field(default_factory=list)  # paths, globs, brace patterns or fsspec URLs
    heldout_shards: list[str] = field(default_factory=list)
    resampled: bool = True  # infinite stream of randomly drawn shards (training)
    size: int = 32  # model resolution (square)
    frame_buckets: list[int] = field(default_factory=lambda: [8])  # clip lengths batched together
    max_refs: int = 1
    batch_size: int = 4
    num_workers: int = 0
    shuffle_buffer_mb: float = 32.0  # shuffle before decode, bounded in encoded bytes
    max_pending_samples: int = 64  # samples the shape batcher may hold back across all shapes
    seed: int = 0
    audio_encoder: str = "log_mel"  # "log_mel" | "wav2vec2"
    n_mels: int = 32
    mel_per_frame: int = 2  # mel columns stacked per video frame
    wav2vec2_checkpoint: str = ""  # torch file with {"arch": {...}, "state_dict": {...}}
    text_encoder: str = "hashed"  # "hashed" | "sentence"
    text_max_tokens: int = 32
    text_vocab: int = 4096
    sentence_encoder_path: str = ""  # local HuggingFace model directory


@dataclass
class ModelConfig:
    channels: int = 3
    patch: list[int] = field(default_factory=lambda: [1, 4, 4])  # frames, height, width
    hidden: int = 64
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    attention: str = "full"  # "full" | "factorised" (spatial then temporal)
    audio_window: int = 2  # token frames either side that each frame's audio attention sees
    rope_theta: float = 100.0
    max_refs: int = 4  # reference index embeddings
    # A frozen image autoencoder in diffusers' format (folder): the DiT then works on its latents
    # (lpm_train/latent/autoencoder.py). Empty: pixels, as in the CPU tests.
    autoencoder: str = ""


@dataclass
class TrainConfig:
    out_dir: str = "runs/base"
    steps: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 20
    grad_clip: float = 1.0
    ema_decay: float = 0.99
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100
    logit_normal_mean: float = 0.0
    logit_normal_std: float = 1.0
    per_frame_timesteps: bool = False  # independent t per frame (diffusion forcing)
    p_drop_audio: float = 0.1
    p_drop_text: float = 0.1
    p_drop_refs: float = 0.1
    precision: str = "auto"  # "auto" (bf16 on CUDA, fp32 on CPU) | "fp32" | "bf16"
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default (one per core)
    heldout_batches: int = 1
    keep_checkpoints: int = 3  # newest step checkpoints kept (base and distill), so a late blow-up can be rolled back
    # Every this many steps rank 0 writes mp4s (with their audio) of ``validation_samples`` fixed
    # held-out samples under ``<out_dir>/samples/step-<n>/`` (base: the EMA teacher with guidance;
    # distill: the EMA student streamed). 0: never. Losses alone do not show lip sync or identity.
    validate_every: int = 100
    validation_samples: int = 2


@dataclass
class SamplerConfig:
    """The teacher's guided Euler sampler: ``lpm-train sample``, the ODE pairs and DMD's real
    score all use it, so the student is distilled toward the distribution users sample."""

    steps: int = 16
    # Classifier-free guidance > 1, as the anchors distil: CausVid and Self-Forcing take the DMD
    # real score and the ODE-pair teacher with guidance 3-3.5 (a guidance-free teacher's samples
    # are blurry and weakly conditioned; the student inherits whatever its target is).
    guidance_text: float = 3.0
    # Audio-driven talking-head samplers guide audio separately at 3-4.5 (lip sync is the point).
    guidance_audio: float = 3.5
    shift: float = 1.0  # timestep shift; >1 spends more steps at high noise


@dataclass
class DistillConfig:
    out_dir: str = "runs/distill"
    teacher_checkpoint: str = ""
    ode_pairs_dir: str = "runs/ode_pairs"
    ode_pairs: int = 16  # teacher trajectories to write
    ode_pairs_per_shard: int = 8
    # Trajectories are stored as bfloat16: half of float32's bytes (a gpu_small pair of 31 MB in
    # pixels), and bf16's 3 significant digits are below what regression onto them can resolve.
    pair_dtype: str = "bfloat16"  # "bfloat16" | "float32"
    chunk_frames: int = 2
    student_steps: int = 4  # few-step schedule of the student
    regression_steps: int = 200
    straight_fraction: float = 0.75  # regression inputs on the noise-sample line instead of the path
    dmd_steps: int = 100
    # DMD2's two-time-scale rule (Self-Forcing: dfake_gen_update_ratio 5): the critic must track
    # the student's moving distribution, or the fake score lags and the generator gradient is stale.
    critic_updates_per_generator: int = 5
    # CausVid / Self-Forcing: once ODE regression has initialised the student, DMD alone trains it.
    dmd_weight: float = 1.0
    # An optional pull toward the teacher's own sample of the same noise. 0 by default: it pins the
    # student to the teacher's deterministic map, which DMD does not need and which fights the
    # distribution-matching gradient (the old default 1.0 against 0.05 DMD was mostly regression).
    dmd_regression_weight: float = 0.0
    # Rollouts keep the same generated context as ``stream.window_frames`` (references are the
    # sink in both): Self-Forcing trains on its own rolling-window rollouts, so what streaming
    # evicts is evicted in training too. 0: the whole clip.
    rollout_window_frames: int = 4
    lr: float = 5e-4
    critic_lr: float = 5e-4
    ema_decay: float = 0.98
    eval_steps: list[int] = field(default_factory=lambda: [1, 2, 4])  # few-step counts evaluated
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100


@dataclass
class StreamConfig:
    checkpoint: str = ""
    audio: str = ""  # driving wav (16 kHz mono); empty: the first sample of data.shards
    state: str = "speaking"  # speaking | listening | idle
    caption: str = ""
    reference: str = ""  # reference image; empty: the sample's references
    out: str = "runs/stream.mp4"
    chunks: int = 0  # 0: as many as the audio lasts
    window_frames: int = 4  # frames of generated context kept besides the reference sink
    steps: int = 4  # denoising steps per chunk
    fps: float = 25.0  # frame rate when driven by an audio file
    weights: str = "ema"  # "ema" | "model"
    seed: int = 0


@dataclass
class SampleConfig:
    checkpoint: str = ""  # empty: <train.out_dir>/checkpoint.pt
    out_dir: str = "runs/samples"
    count: int = 4  # fixed held-out samples rendered
    frames: int = 0  # frames per video (also for validation videos); 0: the largest training bucket
    weights: str = "ema"  # "ema" | "model"
    seed: int = 0


@dataclass
class ScoreConfig:
    samples: str = ""  # folder of mp4s (``lpm-train score --samples DIR``)
    timeout_s: float = 3600.0


@dataclass
class BenchConfig:
    loader_batches: int = 8
    model_steps: int = 5
    stream_chunks: int = 16
    context_chunks: int = 16  # context length at which KV cache and recomputation are compared
    repeats: int = 3


@dataclass
class LpmTrainConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ConfigError(ValueError):
    pass


def _coerce(value: Any, annotation: Any, path: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        (item_type,) = typing.get_args(annotation)
        return [_coerce(v, item_type, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true/false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, str):  # YAML 1.1 reads "3e-4" (no dot) as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if annotation is str:
        return "" if value is None else str(value)
    return value


def _merge_into(obj: Any, updates: dict[str, Any], path: str) -> None:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in updates.items():
        where = f"{path}.{key}" if path else key
        if key not in names:
            raise ConfigError(f"unknown config key {where!r} (known: {', '.join(sorted(names))})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a mapping")
            _merge_into(current, value, where)
        else:
            setattr(obj, key, _coerce(value, hints[key], where))


def parse_override(text: str) -> dict[str, Any]:
    """``"train.lr=3e-4"`` -> ``{"train": {"lr": 0.0003}}`` (the value is parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not key=value")
    dotted, raw = text.split("=", 1)
    value = yaml.safe_load(raw) if raw.strip() else ""
    if isinstance(value, str) and value.lower() in {"none", "null"}:
        value = None
    nested: dict[str, Any] = {}
    cursor = nested
    parts = dotted.strip().split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return nested


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> LpmTrainConfig:
    config = LpmTrainConfig()
    with open(DEFAULT_CONFIG_PATH, encoding="utf-8") as f:
        _merge_into(config, yaml.safe_load(f) or {}, "")
    if path:
        with open(path, encoding="utf-8") as f:
            _merge_into(config, yaml.safe_load(f) or {}, "")
    for text in overrides or []:
        _merge_into(config, parse_override(text), "")
    validate(config)
    return config


def config_from_dict(values: dict[str, Any]) -> LpmTrainConfig:
    config = LpmTrainConfig()
    _merge_into(config, values, "")
    validate(config)
    return config


def validate(config: LpmTrainConfig) -> None:
    m, d = config.model, config.data
    if m.hidden % m.heads or (m.hidden // m.heads) % 2:
        raise ConfigError("model.hidden must split into heads of even width")
    if len(m.patch) != 3 or d.size % m.patch[1] or d.size % m.patch[2]:
        raise ConfigError("model.patch must be [frames, h, w] dividing data.size")
    if any(b % m.patch[0] for b in d.frame_buckets):
        raise ConfigError("every data.frame_buckets entry must be a multiple of model.patch[0]")
    if config.distill.chunk_frames % m.patch[0]:
        raise ConfigError("distill.chunk_frames must be a multiple of model.patch[0]")
    if m.attention not in {"full", "factorised"}:
        raise ConfigError("model.attention must be 'full' or 'factorised'")
    if d.audio_encoder not in {"log_mel", "wav2vec2"}:
        raise ConfigError("data.audio_encoder must be 'log_mel' or 'wav2vec2'")
    if d.text_encoder not in {"hashed", "sentence"}:
        raise ConfigError("data.text_encoder must be 'hashed' or 'sentence'")
    if d.max_refs > m.max_refs:
        raise ConfigError("data.max_refs exceeds model.max_refs")
    if config.distill.rollout_window_frames % m.patch[0] or config.distill.rollout_window_frames < 0:
        raise ConfigError("distill.rollout_window_frames must be a non-negative multiple of model.patch[0]")
    if config.distill.pair_dtype not in {"bfloat16", "float32"}:
        raise ConfigError("distill.pair_dtype must be 'bfloat16' or 'float32'")
    if config.train.keep_checkpoints < 0:
        raise ConfigError("train.keep_checkpoints must be >= 0")


def save_resolved(config: LpmTrainConfig, path: Path) -> None:
    """The resolved config beside a run's outputs, so a run can be reproduced from its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    tmp.replace(path)
