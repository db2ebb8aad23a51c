"""``lpm-train distill``: teacher -> causal few-step streaming student ("Online LPM" in miniature).

The student is the teacher's architecture with block-causal attention over chunks, initialised
from the teacher's EMA weights. Steps ``[0, regression_steps)`` regress onto the stored ODE
pairs; steps ``[regression_steps, regression_steps + dmd_steps)`` run DMD on self-rollouts
streamed with the sink and rolling window (``dmd_regression_weight`` adds an optional pull
toward the teacher's samples; the anchors' default is none). The few-step error against the
teacher is evaluated before, between and after the stages, and written to
``<out_dir>/eval.json``. Checkpoints resume exactly, like base training. ``DistillTrainer`` holds
one run; ``restore``, ``step``, ``evaluate``, ``save`` and ``validate`` are its methods.

Under ``torchrun``: the student (through ``StudentObjective``) and the critic are each wrapped
in DDP, the frozen teacher is not; each rank reads its own ODE-pair shards with its own seeds; a
batch unreadable on any rank is skipped by all; evaluation and every file write happen on rank 0.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as nnf

from lpm_train.config import LpmTrainConfig, save_resolved
from lpm_train.distill.dmd import critic_loss, dmd_generator_loss
from lpm_train.distill.few_step_eval import few_step_errors
from lpm_train.distill.pair_records import OdePairBatch, pair_batches
from lpm_train.distill.student_objective import StudentObjective
from lpm_train.ema import ModelEma
from lpm_train.latent.autoencoder import load_codec
from lpm_train.metrics_log import MetricsLog
from lpm_train.model_factory import build_model, copy_weights, model_from_checkpoint
from lpm_train.runtime import data_parallel, rank_seed, setup_runtime
from lpm_train.sample_videos import student_generator, validation_sources, write_videos
from lpm_train.trainer import Trainer, seed_everything

log = logging.getLogger(__name__)


@dataclass
class DistillResult:
    run_dir: Path
    step: int
    losses: list[dict] = field(default_factory=list)  # steps run by this call, means over ranks
    evaluations: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped_batches: int = 0


def _pair_pattern(config: LpmTrainConfig, split: str) -> list[str]:
    return [str(Path(config.distill.ode_pairs_dir) / f"{split}-*.tar")]


def student_config(config: LpmTrainConfig, teacher_config: LpmTrainConfig) -> LpmTrainConfig:
    """The teacher's model and decoding settings (the student must match them) with this run's
    shards and distillation settings."""
    data = dataclasses.replace(
        teacher_config.data, shards=config.data.shards, heldout_shards=config.data.heldout_shards
    )
    return dataclasses.replace(config, model=teacher_config.model, data=data)


class DistillTrainer(Trainer):
    def __init__(self, config: LpmTrainConfig) -> None:
        dc = config.distill
        if not dc.teacher_checkpoint:
            raise ValueError("distill.teacher_checkpoint is empty: point it at the base run's checkpoint.pt")
        runtime = setup_runtime(config.train.precision, config.train.threads)
        super().__init__(config, runtime, Path(dc.out_dir), dc.seed)
        seed_everything(dc.seed)
        teacher, self.teacher_config, _ = model_from_checkpoint(Path(dc.teacher_checkpoint), "ema", 0)
        self.teacher = teacher.to(runtime.device).requires_grad_(False)
        self.saved_config = student_config(config, self.teacher_config)
        self.student = build_model(self.teacher_config, dc.chunk_frames).to(runtime.device)
        self.critic = build_model(self.teacher_config, 0).to(runtime.device)
        copy_weights(self.teacher, self.student)
        copy_weights(self.teacher, self.critic)
        seed_everything(rank_seed(dc.seed, runtime.rank))
        self.ema = ModelEma(self.student, dc.ema_decay)
        self.opt_student = torch.optim.AdamW(self.student.parameters(), lr=dc.lr)
        self.opt_critic = torch.optim.AdamW(self.critic.parameters(), lr=dc.critic_lr)
        self.evaluations: dict[str, dict[str, float]] = {}
        # what ``step`` calls: the student's objective and the critic, DDP-wrapped by ``run`` after restore
        self.objective: torch.nn.Module = StudentObjective(self.student)
        self.trained_critic: torch.nn.Module = self.critic
        self.eval_split = "heldout" if list(Path(dc.ode_pairs_dir).glob("heldout-*.tar")) else "train"
        self.eval_batches: list = []

    @property
    def total_steps(self) -> int:
        return self.config.distill.regression_steps + self.config.distill.dmd_steps

    def state(self) -> dict:
        return {
            "model": self.student.state_dict(),
            "ema": self.ema.state_dict(),
            "critic": self.critic.state_dict(),
            "optimizer": self.opt_student.state_dict(),
            "critic_optimizer": self.opt_critic.state_dict(),
            "evaluations": json.dumps(self.evaluations),
            "config": self.saved_config.to_dict(),
            "chunk_frames": self.config.distill.chunk_frames,
        }

    def load_state(self, blob: dict) -> None:
        self.student.load_state_dict(blob["model"])
        self.ema.load_state_dict(blob["ema"])
        self.critic.load_state_dict(blob["critic"])
        self.opt_student.load_state_dict(blob["optimizer"])
        self.opt_critic.load_state_dict(blob["critic_optimizer"])
        self.evaluations = json.loads(blob["evaluations"])

    def load_eval_pairs(self) -> None:
        if self.runtime.is_main:
            eval_pairs = pair_batches(_pair_pattern(self.config, self.eval_split), 8, False, 0, split_by_rank=False)
            self.eval_batches = [b.to(self.runtime.device) for b in eval_pairs if b is not None]

    def evaluate(self, name: str) -> None:
        """The EMA student's few-step error against the teacher, recorded under ``name`` (rank 0:
        the EMA is identical on every rank)."""
        if not self.runtime.is_main:
            return
        dc = self.config.distill
        self.evaluations[name] = few_step_errors(
            self.ema.model, self.eval_batches, dc.chunk_frames, tuple(dc.eval_steps), self.config.sampler.shift
        )
        log.info("few-step error vs teacher (%s pairs), %s: %s", self.eval_split, name, self.evaluations[name])

    def step(self, batch: OdePairBatch) -> dict[str, float]:
        """One student step (regression or DMD by the step number), then the critic's updates during
        DMD; the losses averaged over ranks."""
        config, dc, runtime = self.config, self.config.distill, self.runtime
        record: dict = {}
        with runtime.autocast():
            if self.step_count < dc.regression_steps:
                loss = self.objective(batch, "regression", self.generator, dc.chunk_frames, dc.straight_fraction)
                record["regression_loss"] = loss.item()
            else:
                exit_step = int(torch.randint(0, dc.student_steps, (1,), generator=self.generator))
                sample = self.objective(
                    batch, "rollout", self.generator, dc.chunk_frames, steps=dc.student_steps,
                    shift=config.sampler.shift, exit_step=exit_step, window_frames=dc.rollout_window_frames,
                )
                dmd = dmd_generator_loss(
                    sample, batch.cond, self.teacher, self.critic, self.generator,
                    config.sampler.guidance_text, config.sampler.guidance_audio,
                )
                anchor = nnf.mse_loss(sample.float(), batch.clean.float())
                loss = dc.dmd_weight * dmd + (dc.dmd_regression_weight * anchor if dc.dmd_regression_weight else 0.0)
                record |= {"dmd_loss": dmd.item(), "anchor_loss": anchor.item()}
        self.opt_student.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.student.parameters(), config.train.grad_clip)
        self.opt_student.step()
        self.ema.update(self.student)
        if self.step_count >= dc.regression_steps:
            for _ in range(dc.critic_updates_per_generator):
                with runtime.autocast():
                    c_loss = critic_loss(self.trained_critic, sample.detach(), batch.cond, config.train, self.generator)
                self.opt_critic.zero_grad(set_to_none=True)
                c_loss.backward()
                self.opt_critic.step()
            record["critic_loss"] = c_loss.item()
        self.step_count += 1
        names = sorted(record)
        means = runtime.mean_over_ranks([record[n] for n in names])
        return dict(zip(names, means, strict=True))

    def validate(self, sources: list, codec: object) -> None:
        config, dc = self.config, self.config.distill
        generate = student_generator(
            self.ema.model, dc.chunk_frames, config.stream.window_frames, dc.student_steps, config.sampler.shift,
            config.sample.seed, self.runtime.device, codec,
        )
        with self.runtime.autocast():
            write_videos(sources, generate, self.run_dir / "samples" / f"step-{self.step_count:08d}")

    def run(self) -> DistillResult:
        config, dc, runtime = self.config, self.config.distill, self.runtime
        self.restore()
        result = DistillResult(self.run_dir, self.step_count)
        # clips without references leave parameters unused
        self.objective = data_parallel(StudentObjective(self.student), runtime, find_unused_parameters=True)
        self.trained_critic = data_parallel(self.critic, runtime, find_unused_parameters=True)
        self.load_eval_pairs()
        if "undistilled" not in self.evaluations:
            self.evaluate("undistilled")
        if runtime.is_main:
            save_resolved(self.saved_config, self.run_dir / "config.yaml")
        metrics = MetricsLog(self.run_dir / "log.jsonl", runtime.is_main)
        sources = validation_sources(self.saved_config, runtime.is_main)
        codec = load_codec(self.teacher_config.model, runtime.device) if sources else None  # decodes videos
        pairs = pair_batches(_pair_pattern(config, "train"), config.data.batch_size, True, dc.seed, skip=self.consumed)
        total = self.total_steps
        self.student.train()
        while self.step_count < total:
            batch = next(pairs)
            if not self.accept_batch(batch is not None):
                continue
            losses = self.step(batch.to(runtime.device))
            record = {"step": self.step_count, **losses}
            result.losses.append(record)
            if self.step_count % dc.log_every == 0 or self.step_count == total:
                metrics.write({**record, "skipped_batches": self.skipped_batches})
            if self.step_count == dc.regression_steps:
                self.evaluate("after_regression")
            if self.step_count == total and dc.dmd_steps:
                self.evaluate("after_dmd")
            if self.step_count % dc.checkpoint_every == 0 or self.step_count == total:
                self.save()
            if sources and self.step_count % config.train.validate_every == 0:
                self.validate(sources, codec)

        if runtime.is_main:
            (self.run_dir / "eval.json").write_text(json.dumps(self.evaluations, indent=1), encoding="utf-8")
        metrics.close()
        result.step, result.skipped_batches = self.step_count, self.skipped_batches
        result.evaluations = self.evaluations
        return result


def train_distill(config: LpmTrainConfig) -> DistillResult:
    return DistillTrainer(config).run()
