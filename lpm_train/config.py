"""Trainer configuration: typed sections loaded from YAML, with ``key=value`` overrides.

Every command starts from ``configs/default.yaml`` (tiny, trains on a CPU), overlays the user's
``--config`` file, then the ``--set section.key=value`` overrides. Types, choices, ranges and
unknown keys are checked by the loader the curation workflows use too (``schemas.typed_settings``),
so a typo cannot silently fall back to a default and every error names its dotted path; ``validate``
adds the checks that relate two settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lpm_train.config_sections import (
    BenchConfig,
    DataConfig,
    DistillConfig,
    LiveConfig,
    ModelConfig,
    SampleConfig,
    SamplerConfig,
    ScoreConfig,
    StreamConfig,
    TrainConfig,
)
from schemas.sample_record import SYNC_VERDICTS
from schemas.typed_settings import SettingsError, merge_settings

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "default.yaml"


@dataclass
class LpmTrainConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ConfigError(SettingsError):
    """A trainer setting is invalid; the message names its dotted path."""


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
        merge_settings(config, yaml.safe_load(f) or {}, "", ConfigError)
    if path:
        with open(path, encoding="utf-8") as f:
            merge_settings(config, yaml.safe_load(f) or {}, "", ConfigError)
    for text in overrides or []:
        merge_settings(config, parse_override(text), "", ConfigError)
    validate(config)
    return config


def config_from_dict(values: dict[str, Any]) -> LpmTrainConfig:
    config = LpmTrainConfig()
    merge_settings(config, values, "", ConfigError)
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
    unknown = sorted(set(d.sync_verdicts) - set(SYNC_VERDICTS))
    if unknown:
        raise ConfigError(f"data.sync_verdicts: {unknown} are not verdicts (choose from {list(SYNC_VERDICTS)})")
    if d.max_refs > m.max_refs:
        raise ConfigError("data.max_refs exceeds model.max_refs")
    if config.distill.rollout_window_frames % m.patch[0]:
        raise ConfigError("distill.rollout_window_frames must be a multiple of model.patch[0]")


def save_resolved(config: LpmTrainConfig, path: Path) -> None:
    """The resolved config beside a run's outputs, so a run can be reproduced from its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    tmp.replace(path)
