"""``lpm-curate bench store-reads`` and ``bench scale``: the run-wide steps at cluster scale (the
barrier's store reads at a latency, the driver and the decisions at N videos)."""

import argparse
import json

from rich.console import Console
from rich.table import Table


def handle_store_reads(args: argparse.Namespace) -> int:
    from apps.bench.store_reads_bench import run_store_reads_bench

    counts = [int(n) for n in str(args.videos).split(",") if n.strip()]
    if not counts or min(counts) < 1 or args.latency_ms < 0 or args.serial_sample < 1:
        print("lpm-curate bench store-reads: --videos must be positive counts, --latency-ms >= 0, --serial-sample >= 1")
        return 2
    report = run_store_reads_bench(counts, args.latency_ms, args.serial_sample)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    table = Table("videos", "barrier read s", "serial estimate s", "speedup", "requests/video",
                  title=f"bench store-reads at {report['latency_ms']:.0f} ms, {report['readers']} readers")
    for n, row in report["per_n"].items():
        table.add_row(n, f"{row['barrier_read_seconds']:.1f}", f"{row['serial_read_seconds_estimate']:.1f}",
                      f"{row['speedup']:.1f}x", f"{row['requests_per_video']:.2f}")
    Console().print(table)
    return 0


def handle_scale(args: argparse.Namespace) -> int:
    from apps.bench.scale_bench import run_scale_bench

    counts = [int(n) for n in str(args.videos).split(",") if n.strip()]
    if args.latency_ms < 0 or (args.latency_ms > 0 and not args.store.startswith("s3")):
        print("lpm-curate bench scale: --latency-ms must be >= 0 and needs --store s3 or s3-files")
        return 2
    if args.plant_only and not (args.store == "s3-files" and args.keep and args.workdir):
        print("lpm-curate bench scale: --plant-only needs --store s3-files, --keep and --workdir")
        return 2
    report = run_scale_bench(args.source, counts, args.workdir, args.workers, args.tracks, args.segments, args.keep,
                             args.shard_bytes, args.store, args.latency_ms, args.plant_only)
    if args.plant_only:
        print(json.dumps(report, indent=1) if args.json else
              "planted: " + ", ".join(f"N={n} ({row['plant_seconds']:.0f} s)" for n, row in report["per_n"].items()))
        return 0
    if args.plot:
        from apps.bench.scale_plot import write_scale_plot

        write_scale_plot(report, args.plot)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    phases = sorted({p for row in report["per_n"].values() for p in row["phase_seconds"]})
    table = Table("videos", "driver peak RSS MB", *[f"{p} s" for p in phases], "bytes written", title="bench scale")
    for n, row in report["per_n"].items():
        table.add_row(n, f"{row['driver_peak_rss_mb']:.0f}", *[f"{row['phase_seconds'].get(p, 0):.1f}" for p in phases],
                      f"{sum(row['bytes_written'].values()):,}")
    console = Console()
    console.print(table)
    console.print(f"driver RSS growth {report['driver_rss_growth_mb']:.0f} MB; identity + dedup at the largest N "
                  f"{report['identity_dedup_seconds_at_max']:.1f} s; longest run-wide barrier there "
                  f"{report['barrier_seconds_max_at_max']:.1f} s")
    if report["store"].startswith("s3"):
        console.print(f"on S3 at {report['latency_ms']:.0f} ms a request: requests per video "
                      + ", ".join(f"{n}: {row['requests_per_video']}" for n, row in report["per_n"].items()))
    return 0
