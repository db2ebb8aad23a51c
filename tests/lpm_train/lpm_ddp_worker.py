"""One rank of a multi-process trainer run, launched by ``torchrun`` from the distributed tests.

    torchrun --nproc-per-node 2 tests/lpm_train/lpm_ddp_worker.py RESULT_DIR COMMAND \
        [--inject-rank R --inject-batch K] --set key=value ...

Runs ``base``, ``make-ode-pairs`` or ``distill`` through the trainer's own functions and writes
``RESULT_DIR/rank<r>.json`` with what the test checks: the losses, what this rank drew first
(noise, or the regression's per-chunk times), the keys of the first batches of each batch
stream it opened (in order: base opens the held-out stream, then the training stream), every
checkpoint file it wrote, and a checksum of its final weights. ``--inject-rank/--inject-batch`` corrupts
every member of the K-th batch (counted from 0, skipped batches included, so it is the same
batch after a resume) on rank R only, so that batch really fails to decode on that rank alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import lpm_train.checkpoint as checkpoint_module  # noqa: E402 - after the path fix
import lpm_train.data.shard_loader as shard_loader  # noqa: E402
import lpm_train.distill.ode_pairs as ode_pairs  # noqa: E402
import lpm_train.distill.ode_regression as ode_regression  # noqa: E402
import lpm_train.distill.pair_records as pair_records  # noqa: E402
import lpm_train.train_loop as train_loop  # noqa: E402
from lpm_train.config import load_config  # noqa: E402

RANK = int(os.environ.get("RANK", 0))
seen: dict = {"rank": RANK, "writes": [], "first_draw": None, "streams": []}
built: list[torch.nn.Module] = []  # the models a run builds, in order (base: model; distill: student, critic)


def corrupting(batches_by_shape, member: str, rank: int, index: int):
    def wrapped(*args, **kwargs):
        keys = []
        seen["streams"].append(keys)
        for i, (shape, members) in enumerate(batches_by_shape(*args, **kwargs)):
            if len(keys) < 4:
                keys.append([m.key for m in members])
            if rank == RANK and i == index:
                for m in members:
                    m.members[member] = b"\x00 not a valid " + member.encode()
            yield shape, members

    return wrapped


def record_writes(original):
    def wrapped(payload, path):
        seen["writes"].append(str(path))
        return original(payload, path)

    return wrapped


def record_first(original, pick):
    def wrapped(*args, **kwargs):
        out = original(*args, **kwargs)
        if seen["first_draw"] is None:
            seen["first_draw"] = pick(out).flatten()[:16].tolist()
        return out

    return wrapped


def record_built(original):
    def wrapped(*args, **kwargs):
        model = original(*args, **kwargs)
        built.append(model)
        return model

    return wrapped


def checksum(model: torch.nn.Module) -> float:
    """Sum of |w| in float64 over this rank's live weights: equal on every rank only if the
    gradients were averaged (each rank trains on different data)."""
    return float(sum(p.detach().double().abs().sum() for p in model.parameters()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("result_dir", type=Path)
    parser.add_argument("command", choices=["base", "make-ode-pairs", "distill"])
    parser.add_argument("--inject-rank", type=int, default=-1)
    parser.add_argument("--inject-batch", type=int, default=-1)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_config(None, args.overrides)
    checkpoint_module.atomic_save = record_writes(checkpoint_module.atomic_save)
    inject = args.inject_rank, args.inject_batch
    shard_loader.batches_by_shape = corrupting(shard_loader.batches_by_shape, "mp4", *inject)
    pair_records.batches_by_shape = corrupting(pair_records.batches_by_shape, "ode.npz", *inject)
    train_loop.draw = record_first(train_loop.draw, lambda d: d.noise)
    ode_regression.chunk_inputs = record_first(ode_regression.chunk_inputs, lambda out: out[1])

    if args.command == "base":
        train_loop.build_model = record_built(train_loop.build_model)
        result = train_loop.train_base(config)
        seen.update(losses=result.losses, step=result.step, skipped_batches=result.skipped_batches)
        seen["weights"] = [checksum(m) for m in built]
    elif args.command == "make-ode-pairs":
        seen["counts"] = ode_pairs.make_ode_pairs(config)
    else:
        import lpm_train.distill.distill_trainer as trainer

        trainer.build_model = record_built(trainer.build_model)
        result = trainer.train_distill(config)
        seen.update(losses=result.losses, step=result.step, skipped_batches=result.skipped_batches)
        seen.update(evaluations=result.evaluations, weights=[checksum(m) for m in built])
    args.result_dir.mkdir(parents=True, exist_ok=True)
    (args.result_dir / f"rank{RANK}.json").write_text(json.dumps(seen))


if __name__ == "__main__":
    main()
