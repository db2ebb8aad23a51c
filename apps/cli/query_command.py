"""``lpm-curate query``: SQL over a run's manifests (videos, shots, tracks, rejections, ...)."""

import argparse
import json
import sys

import duckdb

from apps.cli.query_output import print_rows
from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.store.run_store import RunStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("query", help="run DuckDB SQL over a run's manifests (tables are views by name)")
    p.add_argument("out", help="run directory")
    p.add_argument("sql", help='e.g. "SELECT reason, count(*) FROM rejections GROUP BY 1"')
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="table: a table on a terminal, tab-separated lines when piped (default)")
    p.set_defaults(handler=handle)


def run_query(out: str, sql: str) -> tuple[list[str], list[tuple]]:
    with open_catalog(RunStore(out)) as con:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        return columns, cursor.fetchall()


def handle(args: argparse.Namespace) -> int:
    store = RunStore(args.out)
    if not manifest_names(store):
        print(f"error: {args.out} has no manifests (is it a run directory?)", file=sys.stderr)
        return 2
    try:
        columns, rows = run_query(args.out, args.sql)
    except duckdb.Error as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=1))
    elif args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        print_rows(columns, rows, sys.stdout)
    return 0
