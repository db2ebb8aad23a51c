"""The latent path: a frozen image autoencoder (diffusers ``AutoencoderKL``) applied frame by frame.

With ``model.autoencoder`` set to a folder in diffusers' own format (``config.json`` +
``diffusion_pytorch_model.safetensors``, e.g. ``stabilityai/sd-vae-ft-mse`` fetched with
``lpm-curate models fetch sd_vae_ft_mse``), clips and references are encoded on the training
device, batch by batch, and the DiT works on latents: ``channels`` = the autoencoder's latent
channels, side = ``data.size`` / its downsampling factor. Generated latents are decoded back to
pixels only to write videos. With ``model.autoencoder`` empty the model works on pixels (the CPU
tests' path).

Encoding takes the posterior's mode, not a sample: the same clip always gives the same latent, so
resumed runs and ODE pairs stay reproducible (the posterior's spread is tiny for these VAEs).
Latents are ``(mode - shift_factor) * scaling_factor``, the autoencoder's published scaling, so
they have roughly unit variance as rectified flow's noise does.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from torch import nn

from lpm_train.config import ModelConfig
from lpm_train.data.video_batch import VideoBatch
from lpm_train.models.conditions import Conditions

ENCODE_BATCH = 32  # frames per autoencoder call: bounds activation memory at any clip length


def autoencoder_geometry(path: str | Path) -> tuple[int, int]:
    """``(latent channels, spatial downsampling factor)`` from the folder's ``config.json``,
    without loading weights (model shapes are decided before the autoencoder is needed)."""
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"model.autoencoder: no diffusers config.json in {path}")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    return int(config.get("latent_channels", 4)), 2 ** (len(config.get("block_out_channels", [64])) - 1)


def model_space(model: ModelConfig, size: int) -> tuple[ModelConfig, int]:
    """The model config and frame side the DiT actually sees (latent or pixel)."""
    if not model.autoencoder:
        return model, size
    channels, factor = autoencoder_geometry(model.autoencoder)
    if size % factor:
        raise ValueError(f"data.size {size} is not a multiple of the autoencoder's factor {factor}")
    return dataclasses.replace(model, channels=channels), size // factor


class FrozenAutoencoder(nn.Module):
    def __init__(self, path: str | Path):
        super().__init__()
        try:
            from diffusers import AutoencoderKL
        except ImportError as err:
            raise ImportError("the latent path needs diffusers: pip install 'lpm-curation[train]'") from err
        self.vae = AutoencoderKL.from_pretrained(str(path)).eval().requires_grad_(False)
        config = self.vae.config
        self.scaling = float(config.scaling_factor)
        self.shift = float(config.shift_factor or 0.0)
        self.channels, self.factor = int(config.latent_channels), 2 ** (len(config.block_out_channels) - 1)

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """``[..., 3, H, W]`` in [-1, 1] -> ``[..., c, H/f, W/f]`` latents (float32)."""
        if frames.numel() == 0:  # no references: an empty tensor of the latent shape
            h, w = frames.shape[-2] // self.factor, frames.shape[-1] // self.factor
            return frames.new_zeros(*frames.shape[:-3], self.channels, h, w)
        flat = frames.reshape(-1, *frames.shape[-3:]).float()
        parts = [self.vae.encode(x).latent_dist.mode() for x in flat.split(ENCODE_BATCH)]
        latents = (torch.cat(parts) - self.shift) * self.scaling
        return latents.reshape(*frames.shape[:-3], *latents.shape[1:])

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """``[..., c, h, w]`` latents -> ``[..., 3, h·f, w·f]`` pixels in [-1, 1]."""
        flat = latents.reshape(-1, *latents.shape[-3:]).float() / self.scaling + self.shift
        frames = torch.cat([self.vae.decode(z).sample for z in flat.split(ENCODE_BATCH)]).clamp(-1, 1)
        return frames.reshape(*latents.shape[:-3], *frames.shape[1:])


def encoded_batch(batch: VideoBatch, codec: FrozenAutoencoder | None) -> VideoBatch:
    """The batch in the model's space: clips and references encoded (unchanged without a codec)."""
    if codec is None or not len(batch):
        return batch
    return dataclasses.replace(batch, video=codec.encode(batch.video), cond=encoded_conditions(batch.cond, codec))


def encoded_conditions(cond: Conditions, codec: FrozenAutoencoder | None) -> Conditions:
    """References in the model's space (the only pixel input among the conditions)."""
    return cond if codec is None else dataclasses.replace(cond, refs=codec.encode(cond.refs))


def load_codec(model: ModelConfig, device: torch.device) -> FrozenAutoencoder | None:
    return FrozenAutoencoder(model.autoencoder).to(device) if model.autoencoder else None
