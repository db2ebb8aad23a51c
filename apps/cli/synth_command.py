"""``lpm-curate synth``: labelled synthetic conversation videos with per-frame ground truth, the
command-line face of ``generate_corpus``."""

import argparse
import sys
import time
from pathlib import Path

from apps.cli.numeric_options import non_negative_int, positive_float, positive_int
from apps.synth.corpus import generate_corpus
from apps.synth.video_kinds import VIDEO_KINDS
from curation.models.model_store import ModelMissingError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="generate labelled conversation videos (no network) with ground truth")
    add_synth_arguments(p)
    p.set_defaults(handler=run_synth)


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output folder (videos/, truth/, corpus.json)")
    parser.add_argument("--n-videos", type=positive_int, default=len(VIDEO_KINDS),
                        help=f"number of videos (default {len(VIDEO_KINDS)}: every kind once)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="same seed, same corpus (default 0)")
    parser.add_argument(
        "--faces", type=Path, nargs="+", metavar="DIR_OR_FILES",
        help="face photos to use instead of the sample photos shipped in installed packages",
    )
    parser.add_argument("--duration", type=positive_float, default=20.0, help="seconds per video (default 20)")
    parser.add_argument("--width", type=positive_int, default=640, help="frame width in pixels (default 640)")
    parser.add_argument("--height", type=positive_int, default=360, help="frame height in pixels (default 360)")
    parser.add_argument("--workers", type=positive_int, default=None, help="parallel videos (default: up to 2)")
    parser.add_argument("--backchannels", type=float, default=0.0, metavar="P",
                        help="chance that a listener says a short word over an utterance (overlapping speech, "
                             "with truth); default 0")


def run_synth(args: argparse.Namespace) -> int:
    if not 0.0 <= getattr(args, "backchannels", 0.0) <= 1.0:
        print("synth: --backchannels is a probability between 0 and 1", file=sys.stderr)
        return 2
    if args.n_videos < 1 or args.duration < 5:
        print("synth: need --n-videos >= 1 and --duration >= 5 s (shots last at least 2 s)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        videos = _generate(args)
    except ModelMissingError as err:  # the faces are landmarked with the FaceLandmarker
        print(f"synth: {err}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f"synth: {len(videos)} videos in {args.out} ({elapsed:.1f} s); index: {args.out / 'corpus.json'}")
    return 0


def _generate(args: argparse.Namespace) -> list[Path]:
    return generate_corpus(
        args.out, n_videos=args.n_videos, seed=args.seed, face_images=args.faces, duration_s=args.duration,
        width=args.width, height=args.height, workers=args.workers, backchannels=getattr(args, "backchannels", 0.0),
    )
