"""``lpm-curate bench``: analysis speed, pipeline accuracy, speaking, dubbing and scale benchmarks."""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from apps.cli.bench_scale_command import handle_scale, handle_store_reads
from apps.cli.bench_validity_command import handle_validity
from apps.cli.learned_sync_command import add_bench_parser
from apps.cli.numeric_options import non_negative_int, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: analysis speed against the decode and model floors")
    bsub = p.add_subparsers(dest="bench_command", required=True, metavar="BENCH")
    a = bsub.add_parser("analysis", help="analysis throughput vs ffmpeg decode and decode+landmarker floors")
    a.add_argument("--input", required=True, help="folder of videos (a MANIFEST.csv beside them enables --label)")
    a.add_argument("--workers", default="1", help="worker counts to measure, comma separated (e.g. 1,2)")
    a.add_argument(
        "--label", default=None, help="only files with these labels in MANIFEST.csv (e.g. talking_head,no_face)"
    )
    a.add_argument("--limit", type=positive_int, default=None, help="only the first N files")
    a.add_argument(
        "--repeat", type=positive_int, default=1,
        help="interleaved runs of floors and pipeline; each figure is its best run",
    )
    a.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE")
    a.add_argument(
        "--variant", dest="variants", action="append", default=[], metavar="NAME=[STAGE.PARAM=VALUE,...]",
        help="a named set of overrides (on top of --set), measured interleaved with the other variants in every"
        " round; the first is the reference (e.g. no_ocr=visual_analysis.text_overlay_fps=0, then now=)",
    )
    a.add_argument(
        "--cpu", action="store_true",
        help="CPU seconds of the analysis stages and of the identity embedding of the kept tracks, in this"
        " process (robust to other load), instead of wall time on Ray",
    )
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.set_defaults(handler=handle_analysis)
    p = bsub.add_parser("pipeline", help="accuracy against ground truth and speed of the whole pipeline")
    p.add_argument("--input", required=True, help="folder of videos (e.g. the videos/ of `lpm-curate synth`)")
    p.add_argument("--truth", default=None, help="folder of lpm-synth-truth/1 JSON files named like the videos")
    p.add_argument("--workflow", default="default", help="workflow name or YAML path")
    p.add_argument("--workers", type=positive_int, default=2, help="CPUs for the embedded Ray")
    p.add_argument("--out", default=None, help="run directory to keep (default: a temporary one)")
    p.add_argument("--report", default=None, help="write an HTML report with plots here")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=handle_pipeline)
    s = bsub.add_parser("speaking", help="speaking/listening/idle accuracy on spliced real clips; A/V offset recovery")
    s.add_argument("--media", default=None, help="labelled media folder (default: LPM_SHARED_MEDIA or ../shared/media)")
    s.add_argument("--n-videos", type=positive_int, default=6, help="spliced conversations to build (12-16 s each)")
    s.add_argument("--seed", type=non_negative_int, default=0, help="seed of the spliced set")
    s.add_argument("--workdir", default=None, help="folder for the spliced videos and truth (default: a temporary one)")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE")
    s.add_argument("--each-alone", action="store_true",
                   help="score each conversation as a run of its own (no identity or voice_identities across them)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(handler=handle_speaking)
    d = bsub.add_parser("dubbing", help="talking heads muxed with other people's voices: kept as speaking or not")
    d.add_argument("--media", default=None, help="labelled media folder (default: LPM_SHARED_MEDIA or ../shared/media)")
    d.add_argument("--workdir", default=None, help="folder for the dubbed files (default: a temporary one)")
    d.add_argument("--limit", type=positive_int, default=None, help="only the first N dubbed pairs")
    d.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE")
    d.add_argument("--refit", default=None, metavar="REPORT.json",
                   help="no run: the leave-one-source-out thresholds again from a saved --json report")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.set_defaults(handler=handle_dubbing)
    v = bsub.add_parser("validity", help="calibration corpus: every fitted rule refitted and scored leaving one"
                                         " source out, beside the shipped rule")
    v.add_argument("--corpus", default=None, help="folder written by `lpm-curate calibration fetch`, or your own"
                                                  " labelled clips with a MANIFEST.csv in its columns")
    v.add_argument("--workdir", default=None, help="folder for the analysis artefacts (default: a temporary one)")
    v.add_argument("--limit", type=positive_int, default=None, help="only the first N scored clips")
    v.add_argument("--dubbed", type=non_negative_int, default=None,
                   help="dub N seeded talking heads, each with another person's voice (default: every talking"
                        " head; 0: none, and the lip-sync verdict cannot be refitted)")
    v.add_argument("--seed", type=non_negative_int, default=0, help="which dubbed pairs")
    v.add_argument("--records-out", default=None, metavar="RECORDS.json",
                   help="also save what the run recorded, to refit from later")
    v.add_argument("--refit", default=None, metavar="RECORDS.json",
                   help="no run: the report again from a saved --records-out file")
    v.add_argument("--sync-features", default=None, metavar="FEATURES",
                   help="the feature cache the learned lip-sync networks were trained from (`bench learned-sync"
                        " --features`): train them again without each source (the shipped recipe, ~30 s a source),"
                        " so the verdict's held-out figures read scores of networks that never saw the clip's source")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="STAGE.PARAM=VALUE")
    v.add_argument("--write-workflow", default=None, metavar="WORKFLOW.yaml",
                   help="also write a workflow extending the default with every rule fitted on all the corpus's"
                        " sources, each rule's held-out figure beside it (`lpm-curate run --workflow`)")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(handler=handle_validity)
    add_bench_parser(bsub)
    r = bsub.add_parser("store-reads", help="a run-wide barrier's summary reads from S3 (local moto), latency added")
    r.add_argument("--videos", default="1000,5000", help="comma-separated N (default 1000,5000)")
    r.add_argument("--latency-ms", type=float, default=20.0, help="delay the proxy adds to every request (20)")
    r.add_argument("--serial-sample", type=int, default=200, help="videos read one by one for the serial floor")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=handle_store_reads)
    c = bsub.add_parser("scale", help="driver memory and run-wide stage time at N videos (replicated stored products)")
    c.add_argument("--source", required=True, help="a complete run directory to replicate (e.g. of the smoke workflow)")
    c.add_argument("--videos", default="1000,20000", help="video counts to measure, comma separated")
    c.add_argument("--tracks", type=positive_int, default=5, help="tracks per replicated video")
    c.add_argument("--segments", type=positive_int, default=10, help="segments (samples) per replicated video")
    c.add_argument("--workers", type=positive_int, default=2, help="CPUs for the embedded Ray")
    c.add_argument("--shard-bytes", type=positive_int, default=1_000_000_000,
                   help="shard size (default: the default's)")
    c.add_argument("--workdir", default=None, help="folder for the replicated stores (default: a temporary one)")
    c.add_argument("--keep", action="store_true",
                   help="keep the replicated stores (on S3, with --workdir: a later run with the same settings "
                        "drives them again instead of planting anew)")
    c.add_argument("--plant-only", action="store_true",
                   help="with --store s3-files, --keep and --workdir: plant the replicas for a later run, drive "
                        "nothing")
    c.add_argument("--store", choices=("local", "s3", "s3-files"), default="local",
                   help="where the run store is: a local folder, or moto's S3 server on 127.0.0.1 (shards planned, "
                        "not packed); s3-files: s3rver on 127.0.0.1, its objects in files (LPM_S3RVER: its script)")
    c.add_argument("--latency-ms", type=float, default=0.0,
                   help="with --store s3: delay added to every request by a proxy (e.g. 20)")
    c.add_argument("--plot", default=None, help="also draw each phase's growth with N into this PNG")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(handler=handle_scale)


def parse_variants(given: list[str]) -> dict[str, list[str]]:
    """``NAME=STAGE.PARAM=VALUE,...`` (the overrides may be empty) -> {NAME: [override, ...]}."""
    variants: dict[str, list[str]] = {}
    for text in given:
        name, sep, overrides = text.partition("=")
        if not sep or not name:
            raise SystemExit(f"--variant {text!r}: expected NAME=[STAGE.PARAM=VALUE,...]")
        if name in variants:
            raise SystemExit(f"--variant {name!r} given twice")
        variants[name] = [o for o in overrides.split(",") if o.strip()]
    return variants


def handle_analysis(args: argparse.Namespace) -> int:
    from apps.bench.analysis_bench import run_analysis_bench, select_files, summarise_runs
    from stages.workflow_stages import WORKFLOW_STAGES

    try:
        files = select_files(args.input, args.label, args.limit)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    variants = parse_variants(args.variants)
    if args.cpu:
        return _handle_analysis_cpu(args, files, variants or {"": []})
    counts = [int(w) for w in str(args.workers).split(",") if w.strip()]
    results = [
        r.as_dict()
        for r in run_analysis_bench(files, counts, WORKFLOW_STAGES, args.overrides, args.repeat, variants or None)
    ]
    summary = summarise_runs(results)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    table = Table(
        "workers",
        "files",
        "video s",
        "wall s",
        "decode floor s",
        "model floor s",
        "x decode floor",
        "x model floor",
        "ffmpeg floors s",
        "x ffmpeg model floor",
        "realtime/core",
        "landmarked",
        "peak RSS MB",
        title="bench analysis",
    )
    for r in results:
        table.add_row(
            str(r["workers"]),
            str(r["files"]),
            f"{r['video_seconds']:.1f}",
            f"{r['wall_seconds']:.1f}",
            f"{r['decode_floor_seconds']:.1f}",
            f"{r['model_floor_seconds']:.1f}",
            f"{r['ratio_to_floor']:.2f}",
            f"{r['ratio_to_model_floor']:.2f}",
            f"{r['ffmpeg_decode_floor_seconds']:.1f} / {r['ffmpeg_model_floor_seconds']:.1f}",
            f"{r['ratio_to_ffmpeg_model_floor']:.2f}",
            f"{r['realtime_per_core']:.2f}",
            f"{r['landmarked_frac']:.0%}",
            f"{r['peak_rss_mb']:.0f}",
        )
    Console().print(table)
    if len(variants) > 1:
        walls = Table("workers", "variant", "overrides", "wall s (best)", "runs", f"vs {next(iter(variants))}",
                      title="bench analysis: variants, interleaved")
        for r in results:
            reference = next(iter(r["variant_wall_seconds"].values()))
            for name, wall in r["variant_wall_seconds"].items():
                runs = ", ".join(f"{w:.1f}" for w in r["variant_all_wall_seconds"][name])
                walls.add_row(str(r["workers"]), name, " ".join(variants[name]) or "-", f"{wall:.1f}", runs,
                              f"{wall / reference - 1:+.1%}")
        Console().print(walls)
    if "scaling_speedup" in summary:
        Console().print(
            f"throughput with {counts[-1]} workers / {counts[0]}: {summary['scaling_speedup']:.2f}x"
            f" (the model floor: {summary['model_floor_scaling_speedup']:.2f}x)"
        )
    return 0


def _handle_analysis_cpu(args: argparse.Namespace, files: list[str], variants: dict[str, list[str]]) -> int:
    from apps.bench.analysis_cpu import cpu_summary, run_cpu_variants
    from stages.workflow_stages import WORKFLOW_STAGES

    summary = cpu_summary(run_cpu_variants(files, WORKFLOW_STAGES, args.overrides, variants, args.repeat))
    summary["files"] = len(files)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    reference = summary["reference"]
    table = Table(
        "variant", "overrides", "analysis CPU s", "of it text detection", "identity embedding (tracks)",
        "OCR + identity / rest", f"analysis + identity vs {reference}", "lip sync / analysis (model)", "landmarked",
        "usable track s",
        title=f"bench analysis --cpu: {len(files)} files, best of {args.repeat}, variants interleaved",
    )
    for row in summary["variants"]:
        table.add_row(
            row["variant"], " ".join(row["overrides"]) or "-", f"{row['analysis_cpu_s']:.2f}",
            f"{row['text_detection_cpu_s']:.2f} ({row['text_detection_own_frac']:.1%})",
            f"{row['identity_cpu_s']:.2f} ({row['identity_own_frac']:.1%}, {row['tracks_embedded']})",
            f"{row['added_own_frac']:.1%}", f"{row['added_frac']:+.1%}",
            f"{row['lip_sync_cpu_s']:.2f} ({_fraction(row['lip_sync_frac'])}, {row['lip_sync_model']})",
            f"{row['landmarked_frac']:.0%}",
            f"{row['usable_track_s']:.2f} ({row['usable_track_s_vs_reference']:.1%})",
        )
    Console(width=200).print(table)
    for row in summary["variants"]:
        by_reason = ", ".join(f"{reason} {seconds:.1f}" for reason, seconds in row["shot_s_by_reason"].items())
        Console(width=200).print(f"{row['variant']}: shot seconds by verdict: {by_reason}")
        for name, (before, after) in row["usable_track_s_differs"].items():
            Console(width=200).print(f"{row['variant']}: {name} usable track s {before:.2f} -> {after:.2f}")
    Console(width=160).print(
        "text detection and identity embedding as shares of the analysis without the text detection;"
        f" the last column: this variant's analysis minus {reference}'s, plus its identity embedding,"
        f" over {reference}'s analysis; lip sync: its model scoring every usable track as speech (an upper bound)"
    )
    return 0


def handle_pipeline(args: argparse.Namespace) -> int:
    from pathlib import Path

    from apps.bench.bench_report import write_report
    from apps.bench.pipeline_bench import run_pipeline_bench
    from curation.config.workflow import load_workflow
    from stages.workflow_stages import WORKFLOW_STAGES

    workflow = load_workflow(args.workflow, WORKFLOW_STAGES, args.overrides)
    report = run_pipeline_bench(args.input, args.truth, workflow, args.workers, args.out)
    if args.report:
        write_report(report, Path(args.report))
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    table = Table("figure", "value", title="bench pipeline")
    for key in ("shot_f1", "track_recall", "state_accuracy", "pair_precision", "identity_precision",
                "identity_recall", "reference_leaks", "text_overlay_recall", "text_overlay_false_rejections",
                "shot_precision", "shot_recall", "gradual_transition_recall", "realtime_per_core", "ratio_to_floor",
                "peak_rss_mb", "video_seconds", "wall_seconds", "decode_floor_seconds"):
        value = report.get(key)
        table.add_row(key, "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value)))
    for state, f1 in (report.get("state_f1") or {}).items():
        table.add_row(f"state_f1.{state}", "n/a" if f1 is None else f"{f1:.3f}")
    Console().print(table)
    if args.report:
        Console().print(f"report: {args.report}")
    return 0


def handle_speaking(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from apps.bench.speaking_bench import run_speaking_bench

    repo = Path(__file__).resolve().parents[2]
    media = Path(args.media or os.environ.get("LPM_SHARED_MEDIA") or repo.parent / "shared" / "media")
    workdir = Path(args.workdir) if args.workdir else None
    report = run_speaking_bench(media, workdir, args.n_videos, args.seed, args.overrides, one_run=not args.each_alone)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    console = Console()
    table = Table("figure", "value", "target", title="bench speaking")
    for key, target in report["targets"].items():
        verdict = f">= {target['target']:.2f}" + ("" if target["met"] else " (missed)")
        table.add_row(key, _fraction(target["measured"]), verdict)
    for key in ("coverage", "state_accuracy_all_frames", "offset_recovery_rate_relative"):
        table.add_row(key, _fraction(report[key]), "")
    for state in report["state_f1"]:
        precision, recall, f1 = (report[f"state_{m}"][state] for m in ("precision", "recall", "f1"))
        table.add_row(f"{state} P / R / F1", " / ".join(_fraction(v) for v in (precision, recall, f1)), "")
    frames = f"{report['n_frames']} / {report['talking_head_voiced_frames']}"
    table.add_row("frames (spliced / talking-head voiced)", frames, "")
    table.add_row("offset cases", str(report["offset_cases"]), "")
    table.add_row("wall seconds", f"{report['wall_seconds']:.0f}", "")
    console.print(table)
    confusion = Table("truth \\ predicted", *report["state_confusion"]["columns_predicted"], title="frames")
    for name, row in zip(report["state_confusion"]["rows_truth"], report["state_confusion"]["counts"], strict=True):
        confusion.add_row(name, *(str(c) for c in row))
    console.print(confusion)
    kinds = Table("part kind", "truth", "frames", "idle", "speaking", "listening", "none", title="by part kind")
    for kind, row in report["by_part_kind"].items():
        kinds.add_row(kind, row["truth"], *(str(row[k]) for k in ("frames", "idle", "speaking", "listening", "none")))
    console.print(kinds)
    offsets = Table("clip", "at shift 0", "recovered", "rate", "relative rate", title="offset recovery")
    for row in report["offset_by_clip"]:
        offsets.add_row(row["clip"], str(row["estimate_at_zero"]), f"{row['recovered']}/{row['cases']}",
                        _fraction(row["rate"]), _fraction(row["rate_relative"]))
    console.print(offsets)
    console.print(f"spliced videos, truth and speaking_report.json: {report['workdir']}")
    return 0


def _print_folds(folds: dict) -> None:
    table = Table("held-out source", "reject below", "accept from", "genuine kept", "genuine uncertain",
                  "dubbed rejected", "dubbed uncertain", "dubbed in sync",
                  title="lip-sync verdict, leave one source out")
    rows = [*folds["folds"], {"held_out_source": "pooled (held out)", **folds["pooled_held_out"]},
            {"held_out_source": "all sources (in sample)", **folds["fit_on_all_sources"],
             **folds["fit_on_all_sources"]["in_sample"]}]
    for fold in rows:
        if "error" in fold:
            table.add_row(fold["held_out_source"], fold["error"], "", "", "", "", "", "")
            continue
        cut = (f"{fold['reject_below']:.2f}", f"{fold['accept_from']:.2f}") if "reject_below" in fold else ("", "")
        table.add_row(fold["held_out_source"], *cut, _fraction(fold["genuine_frames_kept"]),
                      _fraction(fold["genuine_frames_uncertain"]), _fraction(fold["dubbed_frames_out_of_sync"]),
                      _fraction(fold["dubbed_frames_uncertain"]), _fraction(fold["dubbed_frames_in_sync"]))
    Console().print(table)


def handle_dubbing(args: argparse.Namespace) -> int:
    from apps.bench.dubbing_bench import refit_report, run_dubbing_bench

    if args.refit:
        report = refit_report(json.loads(Path(args.refit).read_text(encoding="utf-8")))
    else:
        report = run_dubbing_bench(_media_dir(args.media), Path(args.workdir) if args.workdir else None,
                                   args.overrides, args.limit)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    _print_folds(report["leave_one_source_out"])
    if args.refit:
        return 0
    table = Table("figure", "with verdict", "without verdict", "target",
                  title=f"bench dubbing ({report['lip_sync_model']}, threshold {report['lip_sync_threshold']:g})")
    for name in ("dubbed", "genuine"):
        key = f"{name}_voiced_kept_speaking"
        target = report["targets"].get(key)
        table.add_row(f"{name}: voiced frames kept as speaking", _fraction(report[key]),
                      _fraction(report[f"{key}_without_verdict"]), _target(target))
    key = "dubbed_segments_kept_speaking"
    table.add_row(f"dubbed: speaking segments kept ({report['dubbed_speaking_segments']})", _fraction(report[key]),
                  "1.000", _target(report["targets"][key]))
    for name in ("genuine", "dubbed"):
        table.add_row(f"{name}: voiced frames kept in_sync", _fraction(report[f"{name}_voiced_kept_in_sync"]), "", "")
        table.add_row(f"{name}: speech called uncertain (kept, flagged)", _fraction(report[f"{name}_speech_uncertain"]),
                      "", "")
    table.add_row("videos (genuine / dubbed)", f"{report['genuine_videos']} / {report['dubbed_videos']}", "", "")
    table.add_row("wall seconds", f"{report['wall_seconds']:.0f}", "", "")
    Console().print(table)
    return 0


def _target(target: dict | None) -> str:
    if target is None:
        return ""
    return f"{target['op']} {target['target']:.2f}" + ("" if target["met"] else " (missed)")


def _media_dir(given: str | None) -> Path:
    import os

    repo = Path(__file__).resolve().parents[2]
    return Path(given or os.environ.get("LPM_SHARED_MEDIA") or repo.parent / "shared" / "media")


def _fraction(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
