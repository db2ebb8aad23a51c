"""The student's part of one distillation step, as a single module call that DDP can wrap.

DDP averages gradients only for a step whose forward went through the wrapper's ``forward``:
its autograd hooks stay idle otherwise, and each rank would silently keep its own gradient. The
DMD rollout calls ``forward_cached`` once per chunk and denoising step, and regression calls
``forward``; this module puts both behind one ``forward``, so ``DistributedDataParallel(
StudentObjective(student), find_unused_parameters=True)`` synchronises either stage (the rollout
leaves the reference embeddings unused: they build the attention sink under ``no_grad``).

The frozen teacher is never wrapped (it has no gradients to average), and the critic is wrapped
on its own, as the anchors train their fake score data-parallel like the generator.
"""

from __future__ import annotations

import torch
from torch import nn

from lpm_train.distill.dmd import student_rollout
from lpm_train.distill.ode_regression import regression_loss
from lpm_train.distill.pair_records import OdePairBatch
from lpm_train.models.dit import VideoDiT


class StudentObjective(nn.Module):
    def __init__(self, student: VideoDiT):
        super().__init__()
        self.student = student

    def forward(
        self,
        batch: OdePairBatch,
        stage: str,
        generator: torch.Generator,
        chunk_frames: int,
        straight_fraction: float = 0.0,
        steps: int = 0,
        shift: float = 1.0,
        exit_step: int = 0,
        window_frames: int = 0,
    ) -> torch.Tensor:
        """``stage="regression"``: the ODE-regression loss. ``stage="rollout"``: the student's
        streamed clip from the batch's noise (the DMD loss is taken outside, with the teacher)."""
        if stage == "regression":
            return regression_loss(self.student, batch, chunk_frames, generator, straight_fraction)
        if stage == "rollout":
            return student_rollout(
                self.student, batch.noise, batch.cond, chunk_frames, steps, shift, exit_step, window_frames
            )
        raise ValueError(f"unknown distillation stage {stage!r}")
