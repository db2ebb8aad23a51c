"""``lpm-curate models train-sync`` and ``lpm-curate bench learned-sync``: the learned lip-sync model's
seeded training and its leave-one-source-out comparison with ``av_sync``."""

import argparse
import json
from pathlib import Path
from typing import Any

from apps.cli.numeric_options import non_negative_int, positive_int


def add_train_parser(msub: argparse._SubParsersAction) -> None:
    t = msub.add_parser("train-sync", help="train the learned lip-sync model (seeded) from cached corpus features")
    _feature_options(t)
    t.add_argument("--out", default="learned_sync.npz", help="weight file to write (default: ./learned_sync.npz)")
    t.set_defaults(handler=handle_train)


def add_bench_parser(bsub: argparse._SubParsersAction) -> None:
    b = bsub.add_parser("learned-sync", help="learned lip-sync model against av_sync, held out by source (JSON)")
    _feature_options(b)
    b.add_argument("--voices", type=positive_int, default=6, help="foreign voices dubbed under each segment")
    b.set_defaults(handler=handle_bench)


def _feature_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--features", required=True, help="feature cache (apps.bench.sync_corpus_features); filled if "
                   "--corpus/--media are given and clips are missing")
    p.add_argument("--corpus", default=None, help="a `calibration fetch` folder: its talking heads")
    p.add_argument("--media", default=None, help="a labelled media folder: its talking_head clips")
    p.add_argument("--workdir", default=None, help="analysis artefacts while extracting (default: a temporary one)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--steps", type=positive_int, default=None, help="training steps (default: the shipped model's)")
    p.add_argument("--hidden", type=positive_int, default=None, help="hidden channels (default: the shipped model's)")
    p.add_argument("--embed", type=positive_int, default=None, help="embedding size (default: the shipped model's)")
    p.add_argument("--members", type=positive_int, default=None,
                   help="networks from consecutive seeds, scores averaged (default: the shipped model's)")


def _features(args: argparse.Namespace) -> Any:
    import tempfile

    from apps.bench.learned_sync_training import load_features
    from apps.bench.sync_corpus_features import corpus_clips, extract, shared_clips

    folder = Path(args.features)
    if args.corpus or args.media:
        clips = (corpus_clips(Path(args.corpus)) if args.corpus else []) + (
            shared_clips(Path(args.media)) if args.media else [])
        extract(clips, folder, Path(args.workdir or tempfile.mkdtemp(prefix="lpm-sync-features-")))
    return load_features(folder)


def _settings(args: argparse.Namespace) -> Any:
    from apps.bench.learned_sync_training import TrainSettings

    given = {k: getattr(args, k) for k in ("steps", "hidden", "embed", "members") if getattr(args, k) is not None}
    return TrainSettings(seed=args.seed, **given)


def handle_train(args: argparse.Namespace) -> int:
    from annotators.models.learned_sync_network import save_weights
    from apps.bench.learned_sync_training import train_members
    from apps.cli.retrained_model import against_shipped
    from curation.models.model_catalog import MODEL_CATALOG
    from curation.models.model_store import sha256_of

    features = _features(args)
    network = train_members(features, _settings(args), log=True)
    out = Path(args.out)
    save_weights(network, out)
    digest = sha256_of(out)
    trained_on = f"{len(features.segments)} segments of {len(features.audio)} clips"
    verdict = against_shipped(digest, MODEL_CATALOG["learned_sync"], trained_on)
    print(f"{out}: sha256 {digest} ({trained_on}); {verdict}")
    return 0


def handle_bench(args: argparse.Namespace) -> int:
    from apps.bench.learned_sync_folds import run_folds

    report = run_folds(_features(args), _settings(args), args.voices, args.seed, log=True)
    print(json.dumps(report, indent=1, default=str))
    return 0
