"""``lpm-curate audit``: a static HTML gallery of a stratified sample of kept and rejected items."""

import argparse
import sys
from pathlib import Path

from apps.audit.gallery import render_html, sample_items
from apps.cli.numeric_options import non_negative_int, positive_int
from curation.manifests.where_filter import FilterError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="write an offline HTML gallery sampling kept segments and rejections")
    p.add_argument("out", help="run directory")
    p.add_argument("--html", required=True, help="where to write the page")
    p.add_argument("--where", default=None, help="SQL predicate on segments, e.g. \"state = 'listening'\"")
    p.add_argument("--per-reason", type=positive_int, default=6, help="items per state and per rejection reason")
    p.add_argument("--seed", type=non_negative_int, default=0, help="sampling seed (same seed, same page)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        items = sample_items(args.out, args.where, args.per_reason, args.seed)
    except FilterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    page = Path(args.html)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render_html(items, f"lpm-curate audit: {args.out}"), encoding="utf-8")
    print(f"wrote {page} ({len(items)} items)")
    return 0
