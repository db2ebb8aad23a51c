"""``lpm-curate export``: the segments a query selects, as a new self-contained dataset."""

import argparse
import sys

from apps.cli.numeric_options import positive_int
from curation.export.dataset_export import ExportError, ExportRequest, export_dataset
from curation.manifests.where_filter import FilterError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="copy the segments a query selects into a new dataset (shards + manifests)")
    p.add_argument("out", help="source run directory")
    p.add_argument("--where", required=True, help="SQL predicate on segments, e.g. \"state = 'listening'\"")
    p.add_argument("--to", required=True, dest="to", help="new dataset folder or fsspec URI (empty or a re-run)")
    p.add_argument("--shard-bytes", type=positive_int, default=1_000_000_000,
                   help="close a shard once it reaches this size")
    p.add_argument("--exclude-rejected-by-review", action="store_true",
                   help="leave out segments whose review verdict is reject (majority of reviewers, tie = reject)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    request = ExportRequest(args.out, args.to, args.where, args.shard_bytes, args.exclude_rejected_by_review)
    try:
        result = export_dataset(request)
    except (FilterError, ExportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"exported {result.exported} of {result.selected} selected segments "
          f"({result.excluded_by_review} excluded by review) into {result.shards} shard(s): {result.dest}")
    return 0
