"""A batch of same-shape decoded samples: clean video plus its conditions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from lpm_train.data.sample_decoder import DecodedSample
from lpm_train.models.conditions import Conditions, state_masks


@dataclass
class VideoBatch:
    keys: list[str]
    video: torch.Tensor  # [B, T, C, H, W] in [-1, 1]
    cond: Conditions
    # How many raw samples of the batch were skipped as undecodable (logged by the loader).
    skipped: int = 0
    extra: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def to(self, device: torch.device | str) -> VideoBatch:
        return dataclasses.replace(
            self,
            video=self.video.to(device),
            cond=self.cond.to(device),
            extra={k: v.to(device) for k, v in self.extra.items()},
        )


def collate_samples(samples: list[DecodedSample], skipped: int = 0) -> VideoBatch:
    state = torch.stack([s.state for s in samples])
    speak, listen = state_masks(state)
    refs = torch.stack([s.refs for s in samples])
    cond = Conditions(
        audio_speak=torch.stack([s.audio_speak for s in samples]),
        audio_listen=torch.stack([s.audio_listen for s in samples]),
        speak_valid=speak,
        listen_valid=listen,
        text=torch.stack([s.text for s in samples]),
        text_valid=torch.stack([s.text_valid for s in samples]),
        refs=refs,
        ref_valid=torch.ones(refs.shape[:2], dtype=torch.bool),
        state=state,
    )
    return VideoBatch([s.key for s in samples], torch.stack([s.video for s in samples]), cond, skipped)


def empty_batch(skipped: int) -> VideoBatch:
    """Stands for a batch whose every sample failed: keeps batch counting (and resume) exact."""
    empty = torch.zeros(0)
    cond = Conditions(*(empty for _ in dataclasses.fields(Conditions)))
    return VideoBatch([], empty, cond, skipped)
