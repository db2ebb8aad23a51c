"""``lpm-curate review-report``: precision per state and per rejection reason from review verdicts."""

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from apps.review.precision_report import build_report
from curation.manifests.review_verdicts import read_verdicts
from curation.store.run_store import RunStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review-report", help="precision (95%% Wilson) per state and rejection reason; agreement")
    p.add_argument("out", help="run directory")
    p.add_argument("--html", default=None, help="also write an HTML page with plots here")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    report = build_report(read_verdicts(RunStore(args.out)))
    if args.html:
        from apps.review.report_page import render_report

        page = Path(args.html)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_report(report, f"lpm-curate review-report: {args.out}"), encoding="utf-8")
    if args.json:
        print(json.dumps(report.as_json(), indent=1))
        return 0
    table = Table("kind", "state / reason", "reviewed", "accepted", "precision", "95% Wilson", "verdicts",
                  title=f"review of {args.out}: {report.verdicts} verdicts, {len(report.reviewers)} reviewer(s)")
    for r in report.strata:
        table.add_row(r.kind, r.stratum, str(r.reviewed), str(r.accepted), f"{r.precision:.3f}",
                      f"{r.ci95[0]:.3f}-{r.ci95[1]:.3f}", str(r.verdicts))
    console = Console()
    console.print(table)
    a = report.agreement
    if a.pairs:
        kappa = "undefined" if a.kappa is None else f"{a.kappa:.3f}"
        console.print(f"agreement: {a.items} items reviewed twice or more, {a.agreeing_pairs}/{a.pairs} "
                      f"reviewer pairs agree ({a.observed:.3f}), kappa {kappa}")
    else:
        console.print("agreement: no item was reviewed twice")
    if args.html:
        console.print(f"page: {args.html}")
    return 0
