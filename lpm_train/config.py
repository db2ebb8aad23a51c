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

from lpm_train.config_sections import (
    BenchConfig,
    DataConfig,
    DistillConfig,
    ModelConfig,
    SampleConfig,
    SamplerConfig,
    ScoreConfig,
    StreamConfig,
    TrainConfig,
)

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "default.yaml"


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
