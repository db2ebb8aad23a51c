"""``lpm-curate demo``: a synthetic corpus, a full run on the embedded Ray, queries, an audit page."""

import argparse
from pathlib import Path

from rich.console import Console

from apps.cli.numeric_options import positive_float, positive_int

EXAMPLE_QUERIES = (
    (
        "training material by state",
        "SELECT state, count(*) AS segments, round(sum(t_end - t_start), 1) AS seconds FROM segments "
        "GROUP BY state ORDER BY seconds DESC",
    ),
    (
        "why things were dropped",
        "SELECT entity, stage, reason, count(*) AS n FROM rejections GROUP BY ALL ORDER BY n DESC LIMIT 12",
    ),
    (
        "who listens to whom",
        "SELECT p.relation, s.identity_id AS speaker, l.identity_id AS listener, "
        "round(l.t_end - l.t_start, 1) AS listen_s, l.caption AS listener_caption FROM pairs p "
        "JOIN segments s ON s.segment_id = p.speaking_segment_id "
        "JOIN segments l ON l.segment_id = p.listening_segment_id ORDER BY p.pair_id LIMIT 8",
    ),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="make synthetic conversations, run the default workflow, query and audit it")
    p.add_argument("--out", default="runs/demo", help="demo folder (corpus/, run/, audit.html)")
    p.add_argument("--n-videos", type=positive_int, default=6, help="synthetic videos to make")
    p.add_argument("--duration", type=positive_float, default=16.0, help="seconds per synthetic video")
    p.add_argument("--workers", type=positive_int, default=None, help="CPUs for the embedded Ray (default: all)")
    p.add_argument("--workflow", default="default")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from apps.audit.gallery import render_html, sample_items
    from apps.cli import query_command, run_command, run_summary
    from apps.report.run_report import write_report
    from apps.synth import generate_corpus

    console = Console()
    root = Path(args.out)
    corpus = root / "corpus"
    if not (corpus / "corpus.json").exists():
        console.rule("1/4 synthetic corpus")
        console.print(f"generating {args.n_videos} labelled conversation videos in {corpus} ...")
        with run_command.console_above_capture(console, root / "logs", "synth", verbose=False):
            generate_corpus(corpus, n_videos=args.n_videos, seed=0, duration_s=args.duration)
    console.rule("2/4 curation run (embedded Ray)")
    # Through the run command's own parser: every option has its default, as on the command line.
    parser = argparse.ArgumentParser(prog="lpm-curate")
    run_command.add_parser(parser.add_subparsers())
    run_args = parser.parse_args([
        "run", "--input", str(corpus / "videos"), "--out", str(root / "run"), "--workflow", args.workflow,
        *(["--workers", str(args.workers)] if args.workers else []),
    ])
    result = run_command.execute(run_args, console)
    run_summary.print_summary(console, result)
    console.rule("3/4 three queries (lpm-curate query)")
    for title, sql in EXAMPLE_QUERIES:
        console.print(f'[bold]{title}[/]\n  lpm-curate query {run_args.out} "{sql}"')
        query_command.handle(argparse.Namespace(out=run_args.out, sql=sql, format="table"))
    console.rule("4/4 audit gallery and run report")
    page = root / "audit.html"
    items = sample_items(run_args.out, None, 4, 0)
    page.write_text(render_html(items, f"lpm-curate demo audit: {run_args.out}"), encoding="utf-8")
    report = root / "report.html"
    write_report(run_args.out, report)
    console.print(f"""
[bold green]done.[/] Where everything is:
  synthetic videos + ground truth  {corpus}/videos, {corpus}/truth
  run directory                    {run_args.out}  (manifest/<table>/part-*.parquet, shards/*.tar, run.json)
  audit gallery                    {page}  (open it in a browser; works offline)
  run report                       {report}  (numbers, rejections, time per stage, throughput)
  logs and metrics                 {run_args.out}/logs/, {run_args.out}/metrics.jsonl
  check it                         lpm-curate status {run_args.out} --verify
  your own videos                  lpm-curate run --input /path/to/videos --out runs/mine
""")
    return 0
