"""``lpm-curate``: the command-line entry point."""

import argparse
import logging
import os
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


# Commands that end by reading manifests through DuckDB and Arrow. Both keep native thread pools,
# and their teardown by the interpreter can abort a process that has already answered in full
# (seen as exit -6, "terminate called without an active exception", after `status --verify`'s
# complete JSON on S3, once in a dozen runs). These commands write nothing after they return, so
# once their output is flushed they leave without that teardown.
EXIT_WITHOUT_TEARDOWN = frozenset({"status", "query", "export", "audit", "report", "review-report"})


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


def console_main() -> None:
    """The ``lpm-curate`` script: ``main``, then the exit (see ``EXIT_WITHOUT_TEARDOWN``)."""
    argv = sys.argv[1:]
    code = main(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in EXIT_WITHOUT_TEARDOWN:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console_main()
