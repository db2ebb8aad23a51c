"""``lpm-curate run``: run a workflow over inputs into a run directory, with a summary."""

import argparse
import errno
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from curation.cli.run_summary import print_summary
from curation.config.param_validation import WorkflowError
from curation.config.workflow import load_workflow
from curation.ingest.discovery import InputError
from curation.run.accounting import AccountingError
from curation.run.ledger import LedgerFormatError
from curation.run.pipeline import RunRequest, RunResult, run_pipeline
from curation.run.run_info import WorkflowMismatchError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a workflow over a folder, glob or list of videos")
    p.add_argument("--input", required=True, help="directory, glob, .txt/.csv/.parquet list; local or fsspec URI")
    p.add_argument("--out", required=True, help="run directory (local or fsspec URI); re-run to resume")
    p.add_argument("--workflow", default="default", help="built-in workflow name or YAML path (default: default)")
    p.add_argument("--ray-address", default=None, help="join this Ray cluster instead of starting a local one")
    p.add_argument("--executor", choices=("ray", "local"), default="ray", help="local: in-process, for debugging")
    p.add_argument("--workers", type=int, default=None, help="CPUs for the embedded local Ray (default: all)")
    p.add_argument("--max-workers", type=int, default=None,
                   help="on a cluster, actors a stage pool may grow to as nodes are added (default: what is there)")
    p.add_argument("--match-run", default=None, metavar="OUT",
                   help="continue an earlier run's identities (same as --set identity.match_run=OUT)")
    p.add_argument("--limit", type=int, default=None, help="only the first N inputs (sorted)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE",
                   help="override a workflow parameter (repeatable)")
    p.set_defaults(handler=handle)


def execute(args: argparse.Namespace, console: Console) -> RunResult:
    from stages.registry import STAGE_REGISTRY

    overrides = list(args.overrides)
    if args.match_run:
        overrides.append(f"identity.match_run={args.match_run}")
    workflow = load_workflow(args.workflow, STAGE_REGISTRY, overrides)
    console.print(f"[bold]lpm-curate run[/] workflow [cyan]{workflow.name}[/] "
                  f"({workflow.fingerprint()}) -> {args.out}")
    request = RunRequest(
        input=args.input, out=args.out, workflow=workflow, executor=args.executor,
        ray_address=args.ray_address, workers=args.workers, limit=args.limit, max_workers=args.max_workers,
    )
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        return run_pipeline(request, progress)


def handle(args: argparse.Namespace) -> int:
    console = Console(stderr=False)
    try:
        result = execute(args, console)
    except (WorkflowError, InputError, WorkflowMismatchError, LedgerFormatError) as err:
        console.print(f"[red]error:[/] {err}")
        return 2
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        console.print(f"[red]error:[/] no space left on the device holding {err.filename or args.out}. "
                      "Everything finished so far is saved; free some space and run the same command "
                      "again to resume.")
        return 4
    except AccountingError as err:
        console.print(f"[red bold]ACCOUNTING FAILED:[/] {err}")
        return 3
    print_summary(console, result)
    sys.stdout.flush()
    return 0
