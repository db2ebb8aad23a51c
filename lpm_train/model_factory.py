"""Builds models from a config, and rebuilds them from the config stored in a checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from lpm_train.checkpoint import load_checkpoint
from lpm_train.config import DataConfig, LpmTrainConfig, config_from_dict
from lpm_train.data.audio_features import build_audio_encoder
from lpm_train.data.text_tokenizer import build_caption_encoder
from lpm_train.latent.autoencoder import model_space
from lpm_train.models.dit import ConditionDims, VideoDiT


def condition_dims(data: DataConfig) -> ConditionDims:
    if data.audio_encoder == "log_mel":
        audio = data.n_mels * data.mel_per_frame
    else:
        audio = build_audio_encoder(data.audio_encoder, data.n_mels, data.mel_per_frame, data.wav2vec2_checkpoint).dim
    if data.text_encoder == "hashed":
        vocab, text_dim = data.text_vocab, 0
    else:
        encoder = build_caption_encoder(
            data.text_encoder, data.text_vocab, data.text_max_tokens, data.sentence_encoder_path
        )
        vocab, text_dim = 0, encoder.dim
    return ConditionDims(audio, vocab, text_dim, data.text_max_tokens, data.size)


def build_model(config: LpmTrainConfig, chunk_frames: int = 0) -> VideoDiT:
    """In the model's space: an autoencoder's latents (``model.autoencoder``) or pixels."""
    model_config, size = model_space(config.model, config.data.size)
    return VideoDiT(model_config, dataclasses.replace(condition_dims(config.data), size=size), chunk_frames)


def model_from_checkpoint(
    path: Path, weights: str = "ema", chunk_frames: int | None = None
) -> tuple[VideoDiT, LpmTrainConfig, dict]:
    """The model a checkpoint holds (EMA weights by default), built with the config it was
    trained with, so a distillation or stream run cannot silently mismatch its teacher."""
    blob = load_checkpoint(path)
    config = config_from_dict(blob["config"])
    chunk = blob.get("chunk_frames", 0) if chunk_frames is None else chunk_frames
    model = build_model(config, chunk)
    state = blob[weights] if weights in blob else blob["model"]
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("_ema")})
    return model.eval(), config, blob


def copy_weights(source: VideoDiT, target: VideoDiT) -> None:
    with torch.no_grad():
        target.load_state_dict(source.state_dict())
