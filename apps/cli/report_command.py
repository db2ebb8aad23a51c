"""``lpm-curate report``: an offline HTML page with a run's numbers and plots."""

import argparse
import sys
from pathlib import Path

from curation.manifests.duckdb_views import manifest_names
from curation.store.run_store import RunStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write an offline HTML report of a run: numbers, rejections, time, throughput")
    p.add_argument("out", help="run directory")
    p.add_argument("--html", default=None, help="where to write the page (default: OUT/report.html)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from apps.report.run_report import write_report

    store = RunStore(args.out)
    if not manifest_names(store):
        print(f"error: {args.out} has no manifests (is it a finished run directory?)", file=sys.stderr)
        return 2
    if args.html is None and store.remote:
        print("error: the run directory is remote; give --html PATH for the page", file=sys.stderr)
        return 2
    page = Path(args.html) if args.html else store.local_path("report.html")
    plots = write_report(args.out, page)
    print(f"wrote {page} ({plots} plots; open it in a browser, it works offline)")
    return 0
