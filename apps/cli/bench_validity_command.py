"""``lpm-curate bench validity``: genuine speech kept on the calibration corpus, per source and
held out by source, with Wilson 95% intervals."""

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def handle_validity(args: argparse.Namespace) -> int:
    from apps.bench.validity_bench import run_validity_bench

    report = run_validity_bench(Path(args.corpus), Path(args.workdir) if args.workdir else None,
                                args.overrides, args.limit, args.dubbed, args.seed)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    title = f"bench validity ({report['lip_sync_model']}, shipped threshold {report['shipped_threshold']:g})"
    table = Table("source", "voiced frames", "kept, shipped threshold", "kept, held-out threshold",
                  "held-out threshold", title=title)
    shipped = report["genuine_voiced_kept_speaking_shipped"]
    held = report["genuine_voiced_kept_speaking_held_out"]
    for source, row in held["per_source"].items():
        table.add_row(source, str(row["voiced"]), _with_interval(shipped["per_source"][source]), _with_interval(row),
                      _threshold(report["held_out_thresholds"][source]))
    table.add_row("pooled", str(held["pooled"]["voiced"]), _with_interval(shipped["pooled"]),
                  _with_interval(held["pooled"]), "")
    Console().print(table)
    print(f"talking heads rejected whole: shipped {len(shipped['rejected_whole'])},"
          f" held out {len(held['rejected_whole'])}; face_other frames labelled speaking:"
          f" {report['face_other_frames_speaking']['frames_speaking']}")
    for key in ("dubbed_segments_kept_speaking_shipped", "dubbed_segments_kept_speaking_held_out"):
        if key in report:
            print(f"{key}: {_with_interval(report[key])} of {report[key]['segments']} segments")
    return 0


def _threshold(value: float | None) -> str:
    return "none (nothing to fit)" if value is None else f"{value:.3f}"


def _with_interval(row: dict) -> str:
    if row["fraction"] is None:
        return "-"
    low, high = row["wilson95"]
    return f"{row['fraction']:.3f} [{low:.3f}, {high:.3f}]"
