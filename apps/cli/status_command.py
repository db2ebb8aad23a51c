"""``lpm-curate status``: what a run directory holds and whether it is complete."""

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from apps.report.run_report import report_location
from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.review_verdicts import read_verdict_files
from curation.run.run_info import read_run_info
from curation.store.ledger import INGEST_DIR, OUTCOME_SUFFIX, VIDEOS_DIR
from curation.store.run_store import RunStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="what a run directory holds and whether it is complete")
    p.add_argument("out", help="run directory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--verify", action="store_true",
                   help="re-read every shard and index: sizes, SHA-256, and segments = samples")
    p.set_defaults(handler=handle)


def run_status(out: str) -> dict[str, Any]:
    store = RunStore(out)
    info = read_run_info(store)
    tables = manifest_names(store)
    rows: dict[str, int] = {}
    states: dict[str, int] = {}
    if tables:
        # closed before exit: a connection left to the interpreter's teardown can abort the process
        with open_catalog(store) as con:
            rows = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            if "videos" in tables:
                states = dict(con.execute("SELECT state, count(*) FROM videos GROUP BY 1 ORDER BY 1").fetchall())
    complete = bool(info and info.complete and "videos" in tables)
    verdicts = read_verdict_files(store)
    return {
        "out": out,
        "exists": info is not None,
        "complete": complete,
        "state": info.state if info else None,
        "workflow": info.workflow_name if info else None,
        "workflow_fingerprint": info.workflow_fingerprint if info else None,
        "inputs_identified": sum(1 for _ in store.list(INGEST_DIR, ".json")),
        "videos_finished": sum(1 for _ in store.list(VIDEOS_DIR, OUTCOME_SUFFIX)),
        "states": states,
        "tables": rows,
        "accounting": info.accounting if info else None,
        "report": report_location(store),
        "verdicts": len(verdicts.verdicts),
        # files under reviews/ every reader skips (hand-written, broken, links): listed so they can be fixed
        "bad_verdict_files": len(verdicts.bad),
        "bad_verdict_file_list": verdicts.bad[:50],
    }


def handle(args: argparse.Namespace) -> int:
    status = run_status(args.out)
    if args.verify:
        from curation.dataset.shard_reader import verify_shards

        report = verify_shards(RunStore(args.out))
        status["verify"] = {"ok": report.ok, "shards": report.shards, "samples": report.samples,
                            "bytes": report.bytes, "problems": report.problems[:50]}
        status["complete"] = status["complete"] and report.ok
    if args.json:
        print(json.dumps(status, indent=1))
        return 0 if status["complete"] else 1
    console = Console()
    if not status["exists"]:
        console.print(f"[red]{args.out}: not a run directory (no run.json)[/]")
        return 1
    incomplete = f"[yellow]{status['state']} (incomplete: re-run to resume)[/]"
    mark = "[green]complete[/]" if status["complete"] else incomplete
    console.print(f"{args.out}: workflow {status['workflow']} ({status['workflow_fingerprint']}) {mark}")
    console.print(f"  inputs identified {status['inputs_identified']}, videos finished {status['videos_finished']}")
    if status["states"]:
        console.print("  videos: " + ", ".join(f"{k} {v}" for k, v in status["states"].items()))
    for table, n in status["tables"].items():
        console.print(f"  manifest/{table}/: {n} rows")
    if status["verdicts"] or status["bad_verdict_files"]:
        console.print(f"  reviews/: {status['verdicts']} verdicts")
    if status["bad_verdict_files"]:
        console.print(f"  [yellow]bad verdict files: {status['bad_verdict_files']} (skipped by every reader)[/]")
        for line in status["bad_verdict_file_list"]:
            console.print(f"    {line}", markup=False, soft_wrap=True)
    if status["report"]:
        mark = "" if Path(status["report"]).exists() else " [yellow](no longer there)[/]"
        console.print(f"  report: {Path(status['report']).as_uri()}{mark}")
    elif status["tables"]:
        console.print(f"  report: none yet (lpm-curate report {args.out})", soft_wrap=True)
    if "verify" in status:
        v = status["verify"]
        mark = "[green]OK[/]" if v["ok"] else f"[red]{len(v['problems'])} problem(s)[/]"
        console.print(f"  verify: {v['shards']} shards, {v['samples']} samples, {v['bytes']} bytes {mark}")
        for problem in v["problems"]:
            console.print(f"    [red]{problem}[/]")
    return 0 if status["complete"] else 1
