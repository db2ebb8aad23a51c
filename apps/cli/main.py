"""``lpm-curate``: the command-line entry point."""

import argparse
import sys

from apps.cli import (
    audit_command,
    bench_command,
    calibration_command,
    demo_command,
    export_command,
    models_command,
    query_command,
    report_command,
    review_command,
    review_report_command,
    run_command,
    status_command,
    synth_command,
)

COMMANDS = {
    "run": run_command,
    "status": status_command,
    "query": query_command,
    "models": models_command,
    "bench": bench_command,
    "calibration": calibration_command,
    "audit": audit_command,
    "review": review_command,
    "review-report": review_report_command,
    "export": export_command,
    "report": report_command,
    "demo": demo_command,
    "synth": synth_command,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lpm-curate",
        description="Curate speaking/listening character-performance video datasets.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
