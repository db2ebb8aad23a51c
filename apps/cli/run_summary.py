"""The table printed at the end of a run."""

from rich.console import Console
from rich.table import Table

from curation.faults import fault_counts
from curation.run.pipeline import RunResult

# the faults the run survived (run.json "faults"), one row each, zeros shown too: a reader sees
# the run was watched for them
FAULT_LABELS = {
    fault_counts.STORE_RETRIES: "store requests retried",
    fault_counts.VIDEO_RESTARTS: "videos started over",
    fault_counts.WORKER_DEATHS: "workers lost under a video",
    fault_counts.NODE_FAULTS: "node faults (full disk, store down)",
    fault_counts.VIDEO_TIMEOUTS: "videos timed out (watchdog)",
    fault_counts.FAILED_RETRIED: "failed videos retried on resume",
    fault_counts.POOL_SETUP_DEATHS: "workers lost while starting",
}


def print_summary(console: Console, result: RunResult) -> None:
    acc = result.accounting
    table = Table(title=f"run summary: {result.out}", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("inputs", str(acc.inputs))
    table.add_row("[green]kept[/]", str(acc.kept))
    table.add_row("[yellow]rejected[/]", str(acc.rejected))
    for reason, n in sorted(acc.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {reason}", str(n))
    table.add_row("[red]failed[/]", str(acc.failed))
    for reason, n in sorted(acc.failed_by_reason.items()):
        table.add_row(f"  {reason}", str(n))
    table.add_row("distinct videos", str(result.n_videos))
    table.add_row("resumed (already done)", str(result.resumed_videos))
    table.add_row("hours of video in", f"{result.seconds_in / 3600:.4f}")
    table.add_row("hours of training material out", f"{result.seconds_out / 3600:.4f}")
    table.add_row("wall time", f"{result.wall_s:.1f} s")
    for name, label in FAULT_LABELS.items():
        table.add_row(label, str(result.faults.get(name, 0)))
    for name, rows in result.tables.items():
        table.add_row(f"manifest/{name} rows", str(rows))
    console.print(table)
    console.print(f"accounting: inputs {acc.inputs} = kept {acc.kept} + rejected {acc.rejected} "
                  f"+ failed {acc.failed} [green]OK[/]")
