"""Everything a video is generated from, batched: driving audio, caption, references, states.

Each condition carries a validity mask. Classifier-free-guidance dropout and absent inputs
(no references, idle frames without driving audio) are the same thing to the model: masked
keys, so one code path serves training, dropout and guided sampling.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from schemas.performer_states import PerformerState


@dataclass
class Conditions:
    audio_speak: torch.Tensor  # [B, T, A] features of the audio that drives speech
    audio_listen: torch.Tensor  # [B, T, A] features of the audio the performer listens to
    speak_valid: torch.Tensor  # [B, T] bool: frame is speaking and its audio is kept
    listen_valid: torch.Tensor  # [B, T] bool: frame is listening and its audio is kept
    text: torch.Tensor  # [B, L] token ids, or [B, L, E] sentence-encoder embeddings
    text_valid: torch.Tensor  # [B, L] bool
    refs: torch.Tensor  # [B, R, C, H, W] identity references in [-1, 1] (R may be 0)
    ref_valid: torch.Tensor  # [B, R] bool
    state: torch.Tensor  # [B, T] long PerformerState codes

    @property
    def batch_size(self) -> int:
        return int(self.state.shape[0])

    def to(self, device: torch.device | str) -> Conditions:
        return dataclasses.replace(self, **{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)})

    def index(self, rows: torch.Tensor | slice) -> Conditions:
        return dataclasses.replace(self, **{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)})

    def drop(
        self,
        audio: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
        refs: torch.Tensor | None = None,
    ) -> Conditions:
        """Mask the given conditions for the rows where the [B] bool masks are True."""
        out = self
        if audio is not None:
            keep = ~audio.view(-1, 1)
            out = dataclasses.replace(out, speak_valid=out.speak_valid & keep, listen_valid=out.listen_valid & keep)
        if text is not None:
            out = dataclasses.replace(out, text_valid=out.text_valid & ~text.view(-1, 1))
        if refs is not None:
            out = dataclasses.replace(out, ref_valid=out.ref_valid & ~refs.view(-1, 1))
        return out

    def drop_all(self, audio: bool = False, text: bool = False, refs: bool = False) -> Conditions:
        rows = torch.ones(self.batch_size, dtype=torch.bool, device=self.state.device)
        return self.drop(rows if audio else None, rows if text else None, rows if refs else None)


def state_masks(state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Which frames the speak stream and the listen stream drive."""
    return state == int(PerformerState.SPEAKING), state == int(PerformerState.LISTENING)


def stack_conditions(items: list[Conditions]) -> Conditions:
    return Conditions(
        **{f.name: torch.cat([getattr(c, f.name) for c in items]) for f in dataclasses.fields(Conditions)}
    )
