"""The trainers' methods on their own: ``restore`` continues exactly where ``save`` stopped,
``step`` trains what it should, ``evaluate`` measures without training (tiny models, real shards)."""

import dataclasses

import pytest
import torch
from conftest import tiny_config

from lpm_train.data.shard_loader import make_loader
from lpm_train.diffusion.rectified_flow import heldout_loss
from lpm_train.distill.distill_trainer import DistillTrainer
from lpm_train.distill.pair_records import pair_batches
from lpm_train.train_loop import BaseTrainer, load_heldout


def _batches(config, n):
    loader = iter(make_loader(config.data, config.data.shards, resampled=True, split_by_rank=False))
    return [b for b in (next(loader) for _ in range(n + 3)) if len(b)][:n]


def _weights(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_restore_continues_where_save_stopped(media_shards, tmp_path):
    config = tiny_config(tmp_path, media_shards, "train.warmup_steps=2")
    batches = _batches(config, 3)
    first = BaseTrainer(config)
    assert first.restore() is False  # an empty run folder
    losses = [first.step(b) for b in batches[:2]]
    assert first.step_count == 2 and all(loss > 0 for loss in losses)
    first.consumed = 2
    first.save()

    second = BaseTrainer(config)
    assert second.restore() is True
    assert (second.step_count, second.consumed) == (2, 2)
    assert all(torch.equal(v, second.model.state_dict()[k]) for k, v in first.model.state_dict().items())
    assert torch.equal(first.generator.get_state(), second.generator.get_state())
    # the next step is the same step in both: same noise, same optimiser state, same loss exactly
    assert second.step(batches[2]) == first.step(batches[2])


def test_step_moves_the_weights_and_the_ema_behind_them(media_shards, tmp_path):
    trainer = BaseTrainer(tiny_config(tmp_path, media_shards))
    before = _weights(trainer.model)
    trainer.step(_batches(trainer.config, 1)[0])
    after = trainer.model.state_dict()
    ema = trainer.ema.model.state_dict()
    moved = [k for k in before if before[k].is_floating_point() and not torch.equal(before[k], after[k])]
    assert moved
    # the EMA moved less than the weights (decay 0.99 of the old value)
    k = moved[0]
    assert (ema[k] - before[k]).abs().sum() < (after[k] - before[k]).abs().sum()


def test_evaluate_measures_the_heldout_loss_without_training(media_shards, tmp_path):
    trainer = BaseTrainer(tiny_config(tmp_path, media_shards))
    assert trainer.evaluate() is None  # nothing held out loaded yet
    trainer.heldout = load_heldout(trainer.config, trainer.runtime, None)
    assert trainer.heldout
    before = _weights(trainer.model)
    first = trainer.evaluate()
    assert first == trainer.evaluate() == heldout_loss(trainer.model, trainer.heldout, trainer.config.train)
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in before.items())
    assert trainer.model.training  # evaluation leaves the training mode as it found it


def test_a_base_run_without_shards_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"data\.shards is empty"):
        BaseTrainer(tiny_config(tmp_path))


@pytest.mark.slow
def test_distill_steps_regress_then_run_dmd_with_critic_updates(distilled_student, tmp_path):
    config = distilled_student["config"]
    config = dataclasses.replace(config, distill=dataclasses.replace(
        config.distill, out_dir=str(tmp_path / "d"), regression_steps=1, dmd_steps=1, critic_updates_per_generator=1,
    ))
    trainer = DistillTrainer(config)
    pairs = pair_batches([f"{config.distill.ode_pairs_dir}/train-*.tar"], 2, True, 0, split_by_rank=False)
    batch = next(b for b in pairs if b is not None)
    student, critic = _weights(trainer.student), _weights(trainer.critic)

    regression = trainer.step(batch)
    assert set(regression) == {"regression_loss"} and trainer.step_count == 1
    assert any(not torch.equal(v, trainer.student.state_dict()[k]) for k, v in student.items())
    assert all(torch.equal(v, trainer.critic.state_dict()[k]) for k, v in critic.items())  # no critic yet

    dmd = trainer.step(batch)
    assert set(dmd) == {"dmd_loss", "anchor_loss", "critic_loss"} and trainer.step_count == 2
    assert any(not torch.equal(v, trainer.critic.state_dict()[k]) for k, v in critic.items())

    trainer.load_eval_pairs()
    trainer.evaluate("after_two_steps")
    errors = trainer.evaluations["after_two_steps"]
    assert set(errors) == {f"{n}_step" for n in config.distill.eval_steps}
    assert all(error > 0 for error in errors.values())
