"""``lpm-curate calibration fetch``: rebuild the calibration corpus from public repositories into a cache."""

import argparse
import json
import sys
from pathlib import Path

from apps.calibration.clip_sources import RAW_GITHUB, ClipSource, GitMirrorSource, RawGitHubSource
from apps.calibration.corpus_fetch import CACHE_MANIFEST, materialise
from apps.calibration.corpus_manifest import LABELS, load_corpus_manifest

# Exit status when some clips could not be materialised: the cache is usable but incomplete,
# which a script driving a benchmark has to notice.
EXIT_INCOMPLETE = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibration", help="the calibration corpus of real footage (docs/calibration_corpus.md)")
    csub = p.add_subparsers(dest="calibration_command", required=True, metavar="ACTION")
    f = csub.add_parser("fetch", help="materialise the corpus into a cache folder, every file checked by SHA-256")
    f.add_argument("--out", required=True, help="cache folder; the clips and a MANIFEST.csv of them go here")
    f.add_argument(
        "--from-mirror", default=None, metavar="DIR",
        help="read from git repositories fetched beforehand (DIR/owner+name[/repo] or DIR/owner/name)"
        " instead of the network",
    )
    f.add_argument("--base-url", default=RAW_GITHUB, help="where raw files are served by repo/commit/path")
    f.add_argument("--manifest", default=None, help="a manifest CSV other than the one shipped in the package")
    f.add_argument("--label", default=None, help=f"only these labels, comma separated ({', '.join(LABELS)})")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    f.set_defaults(handler=handle_fetch)


def handle_fetch(args: argparse.Namespace) -> int:
    clips = load_corpus_manifest(Path(args.manifest) if args.manifest else None)
    if args.label:
        wanted = set(args.label.split(","))
        unknown = wanted - set(LABELS)
        if unknown:
            print(f"unknown label(s): {', '.join(sorted(unknown))}; known: {', '.join(LABELS)}", file=sys.stderr)
            return 2
        clips = [c for c in clips if c.label in wanted]
    source: ClipSource = GitMirrorSource(Path(args.from_mirror)) if args.from_mirror else RawGitHubSource(args.base_url)
    report = materialise(clips, Path(args.out), source)
    if args.json:
        print(json.dumps({"out": args.out, "listed": len(clips), **report.as_dict()}, indent=1))
    else:
        print(f"{len(report.available)} of {len(clips)} clips in {args.out} ({len(report.fetched)} fetched,"
              f" {len(report.already_present)} already there); {CACHE_MANIFEST} written")
        for name, why in report.corrupted.items():
            print(f"corrupted, skipped: {name}: {why}", file=sys.stderr)
        for name, why in report.missing.items():
            print(f"missing, skipped: {name}: {why}", file=sys.stderr)
        if report.skipped:
            print(f"{report.skipped} clip(s) skipped ({len(report.corrupted)} corrupted,"
                  f" {len(report.missing)} missing)", file=sys.stderr)
    return EXIT_INCOMPLETE if report.skipped else 0
