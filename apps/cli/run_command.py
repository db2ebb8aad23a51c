"""``lpm-curate run``: run a workflow over inputs into a run directory, with a summary."""

import argparse
import contextlib
import errno
import hashlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.text import Text

from apps.cli.numeric_options import non_negative_int, positive_float, positive_int
from apps.cli.run_monitor import RunMonitor, warn
from apps.cli.run_preflight import RunRefusedError, check_before_writing, passed_over_warning
from apps.cli.run_summary import print_summary
from curation.config.param_validation import WorkflowError
from curation.config.workflow import load_workflow
from curation.execution.log_upload import LOGS, LogUpload, upload_driver_log, upload_node_logs
from curation.execution.ray_auth import RayAuthRefusedError, prepare_client
from curation.execution.ray_executor import start_ray
from curation.faults.store_retry import StoreUnavailableError
from curation.ingest.discovery import InputError
from curation.manifests.manifest_writer import read_rows
from curation.run.accounting import AccountingError
from curation.run.pipeline import RunRequest, RunResult, run_pipeline
from curation.run.run_info import WorkflowMismatchError
from curation.runtime.output_capture import captured_output, worker_log_env
from curation.store.ledger import LedgerFormatError
from curation.store.run_store import RunStore
from curation.telemetry import pool_metrics
from curation.telemetry.metrics_log import METRICS_LOG, MetricsLog
from curation.telemetry.ray_metrics import SNAPSHOT_FILE, RayMetricsSink, export_snapshot, metrics_endpoint
from curation.telemetry.run_metrics import RunMetrics
from curation.telemetry.user_warnings import fallback_warnings
from schemas.tables import ShardRow

WORKER_HOOK = "curation.runtime.output_capture.capture_worker_output"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a workflow over a folder, glob or list of videos")
    p.add_argument("--input", required=True, help="directory, glob, .txt/.csv/.parquet list; local or fsspec URI")
    p.add_argument("--out", required=True,
                   help="run directory (local or fsspec URI): absent, empty, or an earlier run to resume")
    p.add_argument("--workflow", default="default", help="built-in workflow name or YAML path (default: default)")
    p.add_argument("--ray-address", default=None, help="join this Ray cluster instead of starting a local one")
    p.add_argument("--executor", choices=("ray", "local"), default="ray", help="local: in-process, for debugging")
    p.add_argument("--workers", type=positive_int, default=None, help="CPUs for the embedded local Ray (default: all)")
    p.add_argument("--max-workers", type=positive_int, default=None,
                   help="on a cluster, actors a stage pool may grow to as nodes are added (default: what is there)")
    p.add_argument("--match-run", default=None, metavar="OUT",
                   help="continue an earlier run: its identities keep their ids, footage it kept is a duplicate "
                        "(sets identity.match_run and dedup.match_run)")
    p.add_argument("--limit", type=non_negative_int, default=None,
                   help="only the first N inputs (sorted); 0 records the run's workflow and models only")
    p.add_argument("--retry-failed", action="store_true",
                   help="on resume, run videos that failed for their content again too (infrastructure "
                        "failures, e.g. store errors or timeouts, always are)")
    p.add_argument("--video-timeout-s", type=positive_float, default=None, metavar="SECONDS",
                   help="stop a video still on its worker after this long: failed with 'timeout', its worker "
                        "replaced, tried again on resume (default: 30 min + 10x its duration, or 10 s per MB "
                        "before it is probed; see docs/faults.md)")
    p.add_argument("--node-cache-gb", type=positive_float, default=None, metavar="GB",
                   help="bound each node's cache of remote inputs (least recently used copies evicted, "
                        "copies in use kept; default: half the free disk where it lives; see docs/node_cache.md)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE",
                   help="override a workflow parameter (repeatable)")
    p.add_argument("--verbose", action="store_true",
                   help="show every log line of the workers and libraries too (always kept in OUT/logs/)")
    p.set_defaults(handler=handle)


def log_dir(store: RunStore) -> Path:
    """``OUT/logs`` for a local run directory; for an object store (where nothing can be appended
    line by line) a local temporary folder named after it, uploaded to ``OUT/logs/`` at the end."""
    if store.remote:
        return Path(tempfile.gettempdir()) / "lpm-curate-logs" / hashlib.sha1(store.uri.encode()).hexdigest()[:12]
    return Path(store.writable_path("logs"))


def execute(args: argparse.Namespace, console: Console) -> RunResult:
    """Run the workflow with third-party output captured into ``OUT/logs/`` (shown too with ``--verbose``)."""
    from stages.workflow_stages import WORKFLOW_STAGES

    if args.executor == "ray" and (address := args.ray_address or os.environ.get("RAY_ADDRESS")):
        # A cluster that would refuse this driver's token is said before anything is written.
        prepare_client(address)
    overrides = list(args.overrides)
    if args.match_run:
        present = {stage.name for stage in load_workflow(args.workflow, WORKFLOW_STAGES, overrides).stages}
        overrides += [f"{name}.match_run={args.match_run}" for name in ("identity", "dedup") if name in present]
    workflow = load_workflow(args.workflow, WORKFLOW_STAGES, overrides)
    passed_over: Counter[str] = Counter()
    inputs = check_before_writing(args.out, args.input, args.limit, workflow, passed_over)
    verbose = bool(getattr(args, "verbose", False))
    console.print(f"[bold]lpm-curate run[/] workflow [cyan]{workflow.name}[/] "
                  f"({workflow.fingerprint()}) -> {args.out}")
    for choice in workflow.model_choices():
        if choice.model is not None:
            pinned = choice.record()
            console.print(f"  {choice.stage} {choice.capability}: {choice.model} {pinned.version} "
                          f"(sha256 {(pinned.sha256 or 'unpinned')[:12]})", soft_wrap=True)
    for message in fallback_warnings(workflow):
        warn(console, message)
    if (message := passed_over_warning(args.input, passed_over)) is not None:
        warn(console, message)
    request = RunRequest(
        input=args.input, out=args.out, workflow=workflow, executor=args.executor,
        ray_address=args.ray_address, workers=args.workers, limit=args.limit, max_workers=args.max_workers,
        inputs=inputs,
        retry_failed=bool(getattr(args, "retry_failed", False)),
        video_timeout_s=getattr(args, "video_timeout_s", None),
        node_cache_gb=getattr(args, "node_cache_gb", None),
    )
    store = RunStore(args.out)
    logs = log_dir(store)
    upload = LogUpload() if store.remote else None
    try:
        with console_above_capture(console, logs, "driver", verbose):
            try:
                return _run(request, store, logs, verbose, console)
            except (StoreUnavailableError, KeyboardInterrupt):
                # the store does not answer, or the user stops the run: the logs stay on the nodes' disks
                upload = None
                raise
            finally:
                if upload is not None and request.executor == "ray" and _ray_started():
                    upload_node_logs(store, logs, upload)
    finally:
        if upload is not None:
            upload_driver_log(store, logs, upload)
            _say_upload(console, store, logs, upload)


def _ray_started() -> bool:
    import ray

    return ray.is_initialized()


def _say_upload(console: Console, store: RunStore, logs: Path, upload: LogUpload) -> None:
    nodes = len(upload.files) - ("driver" in upload.files)
    whose = f"workers of {nodes} node{'s' * (nodes != 1)}" + (" and the driver" if "driver" in upload.files else "")
    console.print(f"logs: {upload.uploaded} files uploaded to {store.uri}/{LOGS}/" + (f" ({whose})" if nodes else ""),
                  soft_wrap=True)
    for problem in upload.problems:
        warn(console, f"logs not uploaded from {problem}; they stay in {logs} on that machine")


@contextlib.contextmanager
def console_above_capture(console: Console, logs: Path, name: str, verbose: bool) -> Iterator[None]:
    """Third-party output into ``logs/NAME.log`` while ``console`` keeps writing to the screen."""
    shown = console.file
    with captured_output(logs, name, echo=verbose) as capture, capture.console_stream() as stream:
        console.file = stream
        try:
            yield
        finally:
            console.file = shown


def _run(request: RunRequest, store: RunStore, logs: Path, verbose: bool, console: Console) -> RunResult:
    metrics = RunMetrics()
    cores = 1
    if request.executor == "ray":
        import ray

        runtime_env = {"worker_process_setup_hook": WORKER_HOOK, "env_vars": worker_log_env(logs, verbose)}
        dashboard = start_ray(request.ray_address, request.workers, runtime_env, log_to_driver=verbose)
        cores = max(1, int(ray.cluster_resources().get("CPU", 1)))
        metrics.sinks.append(RayMetricsSink())
        if dashboard:
            console.print(f"Ray dashboard: http://{dashboard.removeprefix('http://')}", soft_wrap=True)
        if endpoint := metrics_endpoint():
            console.print(f"Prometheus metrics: {endpoint}", soft_wrap=True)
    console.print(f"logs: {logs}{' (uploaded to OUT/logs/ at the end)' if store.remote else ''} "
                  f"({'also shown here' if verbose else '--verbose shows them here'}); "
                  f"metrics: {store.path(METRICS_LOG)}", soft_wrap=True)
    monitor = RunMonitor(console, metrics, MetricsLog(store, metrics), cores,
                         None if store.remote else Path(store.root))
    with monitor, pool_metrics.recording(metrics):
        result = run_pipeline(request, monitor.progress, monitor.on_video)
    phases = {dict(labels)["phase"] for name, labels in metrics.counters if name == "lpm_videos_done_total"}
    if phases - {"identify"}:
        # the shards were (re)packed in this session only if a video went through the stages in it
        shard_rows = read_rows(store, ShardRow) if "shards" in result.tables else []
        metrics.inc("lpm_bytes_written_total", sum(row.bytes or 0 for row in shard_rows), kind="shards")
    monitor.finish({"accounting": result.accounting.__dict__})
    if metrics.sinks and not export_snapshot(store, metrics):
        warn(console, f"the Prometheus endpoint did not show every recorded value in time; {SNAPSHOT_FILE} "
                      "may be short of the last ones (metrics.jsonl has them all)")
    if speed := monitor.speed_line():
        console.print(speed, soft_wrap=True)
    return result


def handle(args: argparse.Namespace) -> int:
    console = Console(stderr=False)
    try:
        result = execute(args, console)
    except (WorkflowError, InputError, WorkflowMismatchError, LedgerFormatError) as err:
        console.print(f"[red]error:[/] {err}")
        return 2
    except RayAuthRefusedError as err:
        console.print("[red]error:[/]", Text(str(err)), soft_wrap=True)
        return 2
    except RunRefusedError as err:
        for line in err.lines:
            console.print("[red]error:[/]", Text(line), soft_wrap=True)
        return 2
    except StoreUnavailableError as err:
        console.print(f"[red]error:[/] {err}. Everything finished so far is saved; run the same command again "
                      "to resume once the store answers.")
        return 5
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
    store = RunStore(args.out)
    logs = f"{store.uri}/{LOGS}" if store.remote else log_dir(store)
    console.print(f"logs {logs}/ ; metrics {store.path(METRICS_LOG)} ; "
                  f"report: lpm-curate report {args.out}", soft_wrap=True)
    sys.stdout.flush()
    return 0
