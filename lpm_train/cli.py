"""``lpm-train``: base training, ODE pairs, distillation, streaming, sampling, scoring, benchmark.

Every command reads ``configs/default.yaml``, then ``--config FILE``, then ``--set key=value``
overrides (values parsed as YAML: ``--set data.shards='[a.tar, b.tar]'``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable

from lpm_train.config import ConfigError, LpmTrainConfig, load_config

COMMANDS: dict[str, str] = {
    "base": "train the audio/text/reference-conditioned video DiT on curated shards",
    "make-ode-pairs": "integrate the teacher's ODE on shard samples and store the trajectories as shards",
    "distill": "distil the teacher into a block-causal few-step student (ODE regression, then DMD)",
    "stream": "generate video chunk by chunk with the student's KV cache; write an mp4 with the audio",
    "live": "drive the student live: a local page (microphone = partner, a reply = own voice) or two wavs -> mp4",
    "sample": "render fixed held-out samples with the teacher (Euler + guidance) as mp4s with their audio",
    "score": "lip-sync and identity metrics of the mp4s in --samples DIR (the curation toolkit's measures)",
    "bench": "measure loader, training and streaming throughput (and KV cache vs recomputation)",
}


def _run_base(config: LpmTrainConfig) -> dict:
    from lpm_train.train_loop import train_base

    result = train_base(config)
    return {
        "run_dir": str(result.run_dir),
        "step": result.step,
        "loss_first": result.losses[0][1] if result.losses else None,
        "loss_last": result.losses[-1][1] if result.losses else None,
        "heldout_start": result.heldout_start,
        "heldout_end": result.heldout_end,
        "samples_per_s": result.samples_per_s,
        "skipped_samples": result.skipped_samples,
    }


def _run_ode_pairs(config: LpmTrainConfig) -> dict:
    from lpm_train.distill.ode_pairs import make_ode_pairs

    return {"ode_pairs_dir": config.distill.ode_pairs_dir, "written": make_ode_pairs(config)}


def _run_distill(config: LpmTrainConfig) -> dict:
    from lpm_train.distill.distill_trainer import train_distill

    result = train_distill(config)
    return {"run_dir": str(result.run_dir), "step": result.step, "few_step_error_vs_teacher": result.evaluations}


def _run_stream(config: LpmTrainConfig) -> dict:
    from lpm_train.stream.stream_command import run_stream

    return run_stream(config)


def _run_live(config: LpmTrainConfig) -> dict:
    from lpm_train.stream.live_command import run_live

    return run_live(config)


def _run_sample(config: LpmTrainConfig) -> dict:
    from lpm_train.sample_videos import run_sample

    return run_sample(config)


def _run_score(config: LpmTrainConfig) -> dict:
    from lpm_train.score_command import run_score

    return run_score(config)


def _run_bench(config: LpmTrainConfig) -> dict:
    from lpm_train.bench import run_bench

    return run_bench(config)


RUNNERS: dict[str, Callable[[LpmTrainConfig], dict]] = {
    "base": _run_base,
    "make-ode-pairs": _run_ode_pairs,
    "distill": _run_distill,
    "stream": _run_stream,
    "live": _run_live,
    "sample": _run_sample,
    "score": _run_score,
    "bench": _run_bench,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lpm-train", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", metavar="YAML", help="config file overlaid on configs/default.yaml")
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. --set train.steps=500 (repeatable)",
        )
        p.add_argument("--json", action="store_true", help="print the result as one JSON object")
        if name == "score":
            p.add_argument("--samples", metavar="DIR", required=True, help="folder of mp4 files to score")
        p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level), stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        overrides = list(args.overrides)
        if getattr(args, "samples", None):
            overrides.append(f"score.samples={json.dumps(args.samples)}")
        config = load_config(args.config, overrides)
    except (ConfigError, OSError) as err:
        print(f"lpm-train: config error: {err}", file=sys.stderr)
        return 2
    try:
        result = RUNNERS[args.command](config)
    except (FileNotFoundError, ValueError) as err:
        print(f"lpm-train {args.command}: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
