"""``lpm-train distill``: teacher -> causal few-step streaming student ("Online LPM" in miniature).

The student is the teacher's architecture with block-causal attention over chunks, initialised
from the teacher's EMA weights. Steps ``[0, regression_steps)`` regress onto the stored ODE
pairs; steps ``[regression_steps, regression_steps + dmd_steps)`` run DMD on self-rollouts
streamed with the sink and rolling window (``dmd_regression_weight`` adds an optional pull
toward the teacher's samples; the anchors' default is none). The few-step error against the
teacher is evaluated before, between and after the stages, and written to
``<out_dir>/eval.json``. Checkpoints resume exactly, like base training.

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

from lpm_train.checkpoint import capture_rng, latest_checkpoint, load_checkpoint, restore_rank_rng, save_checkpoint
from lpm_train.config import LpmTrainConfig, save_resolved
from lpm_train.distill.dmd import critic_loss, dmd_generator_loss
from lpm_train.distill.few_step_eval import few_step_errors
from lpm_train.distill.pair_records import pair_batches
from lpm_train.distill.student_objective import StudentObjective
from lpm_train.ema import ModelEma
from lpm_train.latent.autoencoder import load_codec
from lpm_train.metrics_log import MetricsLog
from lpm_train.model_factory import build_model, copy_weights, model_from_checkpoint
from lpm_train.runtime import data_parallel, rank_seed, setup_runtime
from lpm_train.sample_videos import student_generator, validation_sources, write_videos
from lpm_train.train_loop import seed_everything

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


def train_distill(config: LpmTrainConfig) -> DistillResult:
    dc = config.distill
    if not dc.teacher_checkpoint:
        raise ValueError("distill.teacher_checkpoint is empty: point it at the base run's checkpoint.pt")
    runtime = setup_runtime(config.train.precision, config.train.threads)
    seed_everything(dc.seed)
    teacher, teacher_config, _ = model_from_checkpoint(Path(dc.teacher_checkpoint), "ema", 0)
    teacher = teacher.to(runtime.device).requires_grad_(False)
    saved_config = student_config(config, teacher_config)
    student = build_model(teacher_config, dc.chunk_frames).to(runtime.device)
    critic = build_model(teacher_config, 0).to(runtime.device)
    copy_weights(teacher, student)
    copy_weights(teacher, critic)
    seed_everything(rank_seed(dc.seed, runtime.rank))
    ema = ModelEma(student, dc.ema_decay)
    opt_student = torch.optim.AdamW(student.parameters(), lr=dc.lr)
    opt_critic = torch.optim.AdamW(critic.parameters(), lr=dc.critic_lr)
    generator = torch.Generator().manual_seed(rank_seed(dc.seed, runtime.rank))
    run_dir = Path(dc.out_dir)
    result, consumed = DistillResult(run_dir, 0), 0

    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is not None:
        blob = load_checkpoint(checkpoint, runtime.device)
        student.load_state_dict(blob["model"])
        ema.load_state_dict(blob["ema"])
        critic.load_state_dict(blob["critic"])
        opt_student.load_state_dict(blob["optimizer"])
        opt_critic.load_state_dict(blob["critic_optimizer"])
        result.step, consumed = blob["step"], blob["batches_consumed"]
        result.evaluations = json.loads(blob["evaluations"])
        if not restore_rank_rng(blob, runtime.rank, runtime.world, generator):
            generator.manual_seed(rank_seed(dc.seed + result.step, runtime.rank))

    objective = data_parallel(StudentObjective(student), runtime, find_unused_parameters=True)
    trained_critic = data_parallel(critic, runtime, find_unused_parameters=True)  # clips without references
    eval_split = "heldout" if list(Path(dc.ode_pairs_dir).glob("heldout-*.tar")) else "train"
    eval_batches = []
    if runtime.is_main:
        eval_pairs = pair_batches(_pair_pattern(config, eval_split), 8, False, 0, split_by_rank=False)
        eval_batches = [b.to(runtime.device) for b in eval_pairs if b is not None]
    steps = tuple(dc.eval_steps)

    def evaluate(name: str) -> None:
        if not runtime.is_main:  # the EMA is identical on every rank; rank 0 measures it
            return
        result.evaluations[name] = few_step_errors(
            ema.model, eval_batches, dc.chunk_frames, steps, config.sampler.shift
        )
        log.info("few-step error vs teacher (%s pairs), %s: %s", eval_split, name, result.evaluations[name])

    if "undistilled" not in result.evaluations:
        evaluate("undistilled")
    if runtime.is_main:
        save_resolved(saved_config, run_dir / "config.yaml")
    metrics = MetricsLog(run_dir / "log.jsonl", runtime.is_main)
    sources = validation_sources(saved_config, runtime.is_main)
    codec = load_codec(teacher_config.model, runtime.device) if sources else None  # decodes validation videos
    pairs = pair_batches(_pair_pattern(config, "train"), config.data.batch_size, True, dc.seed, skip=consumed)

    def save() -> None:
        rng_ranks = runtime.gather_objects(capture_rng(generator))  # collective: every rank calls it
        if not runtime.is_main:
            return
        state = {
            "model": student.state_dict(),
            "ema": ema.state_dict(),
            "critic": critic.state_dict(),
            "optimizer": opt_student.state_dict(),
            "critic_optimizer": opt_critic.state_dict(),
            "batches_consumed": consumed,
            "evaluations": json.dumps(result.evaluations),
            "config": saved_config.to_dict(),
            "chunk_frames": dc.chunk_frames,
        }
        save_checkpoint(
            run_dir / "checkpoint.pt",
            step=result.step,
            state=state,
            generator=generator,
            rng_ranks=rng_ranks if runtime.world > 1 else None,
            keep=config.train.keep_checkpoints,
        )

    total = dc.regression_steps + dc.dmd_steps
    student.train()
    while result.step < total:
        batch = next(pairs)
        consumed += 1
        if not runtime.all_ranks_have(batch is not None):
            result.skipped_batches += 1
            continue
        batch = batch.to(runtime.device)
        record: dict = {}
        with runtime.autocast():
            if result.step < dc.regression_steps:
                loss = objective(batch, "regression", generator, dc.chunk_frames, dc.straight_fraction)
                record["regression_loss"] = loss.item()
            else:
                exit_step = int(torch.randint(0, dc.student_steps, (1,), generator=generator))
                sample = objective(
                    batch,
                    "rollout",
                    generator,
                    dc.chunk_frames,
                    steps=dc.student_steps,
                    shift=config.sampler.shift,
                    exit_step=exit_step,
                    window_frames=dc.rollout_window_frames,
                )
                dmd = dmd_generator_loss(
                    sample,
                    batch.cond,
                    teacher,
                    critic,
                    generator,
                    config.sampler.guidance_text,
                    config.sampler.guidance_audio,
                )
                anchor = nnf.mse_loss(sample.float(), batch.clean.float())
                loss = dc.dmd_weight * dmd + (dc.dmd_regression_weight * anchor if dc.dmd_regression_weight else 0.0)
                record |= {"dmd_loss": dmd.item(), "anchor_loss": anchor.item()}
        opt_student.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), config.train.grad_clip)
        opt_student.step()
        ema.update(student)
        if result.step >= dc.regression_steps:
            for _ in range(dc.critic_updates_per_generator):
                with runtime.autocast():
                    c_loss = critic_loss(trained_critic, sample.detach(), batch.cond, config.train, generator)
                opt_critic.zero_grad(set_to_none=True)
                c_loss.backward()
                opt_critic.step()
            record["critic_loss"] = c_loss.item()
        result.step += 1
        names = sorted(record)
        means = runtime.mean_over_ranks([record[n] for n in names])
        record = {"step": result.step, **dict(zip(names, means, strict=True))}
        result.losses.append(record)
        if result.step % dc.log_every == 0 or result.step == total:
            metrics.write({**record, "skipped_batches": result.skipped_batches})
        if result.step == dc.regression_steps:
            evaluate("after_regression")
        if result.step == total and dc.dmd_steps:
            evaluate("after_dmd")
        if result.step % dc.checkpoint_every == 0 or result.step == total:
            save()
        if sources and result.step % config.train.validate_every == 0:
            window = config.stream.window_frames
            generate = student_generator(
                ema.model,
                dc.chunk_frames,
                window,
                dc.student_steps,
                config.sampler.shift,
                config.sample.seed,
                runtime.device,
                codec,
            )
            with runtime.autocast():
                write_videos(sources, generate, run_dir / "samples" / f"step-{result.step:08d}")

    if runtime.is_main:
        (run_dir / "eval.json").write_text(json.dumps(result.evaluations, indent=1), encoding="utf-8")
    metrics.close()
    return result
