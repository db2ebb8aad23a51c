"""``lpm-curate bench validity``: every fitted rule on the calibration corpus, refitted and scored
leaving one source out, beside the shipped rule, with Wilson 95% intervals."""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from apps.bench.validity_figures import RULE_FIGURES, figure_at, share_text

# Per rule: its fitted numbers shown per fold (its figure: ``RULE_FIGURES``).
RULE_NUMBERS = {
    "lip_sync_verdict": ("reject_below", "accept_from"),
    "mouth_motion_threshold": ("mouth_motion_threshold",),
    "performer_filter": ("min_face_px", "min_frontal_frac", "max_noise"),
    "cascade_skip_margin": ("cascade_skip_margin",),
}


def handle_validity(args: argparse.Namespace) -> int:
    from apps.bench.validity_bench import refit_records, run_validity_bench

    if args.refit:
        report = refit_records(Path(args.refit))
    elif args.corpus:
        report = run_validity_bench(Path(args.corpus), Path(args.workdir) if args.workdir else None,
                                    args.overrides, args.limit, args.dubbed, args.seed,
                                    Path(args.records_out) if args.records_out else None,
                                    Path(args.sync_features) if args.sync_features else None)
    else:
        raise SystemExit("bench validity: give --corpus (a run) or --refit RECORDS.json (no run)")
    if args.write_workflow:
        from apps.bench.calibrated_workflow import write_calibrated_workflow

        write_calibrated_workflow(report, args.corpus or args.refit, Path(args.write_workflow))
        print(f"calibrated workflow: {args.write_workflow} (lpm-curate run --workflow {args.write_workflow})",
              file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    console = Console()
    console.print(f"lip-sync model {report['lip_sync_model']}, its scores: {report.get('lip_sync_scores', 'shipped')}")
    for name, numbers in RULE_NUMBERS.items():
        rule, figure = report["rules"][name], RULE_FIGURES[name]
        table = Table("held-out source", *numbers, "held out", "shipped, same clips",
                      title=f"{name}: {' '.join(figure)}, refitted without the source")
        for fold in rule["folds"]:
            if "error" in fold:
                table.add_row(fold["held_out_source"], *["-"] * len(numbers), fold["error"], "")
                continue
            table.add_row(fold["held_out_source"], *[f"{fold[n]:.4g}" for n in numbers],
                          share_text(figure_at(fold, figure)), share_text(figure_at(fold["shipped"], figure)))
        table.add_row("pooled", *[""] * len(numbers), share_text(figure_at(rule["pooled_held_out"], figure)),
                      share_text(figure_at(rule["shipped"]["pooled"], figure)))
        console.print(table)
    targets = Table("target", "measured (held out)", "met", title="issue 40 targets")
    for name, t in report["targets"].items():
        measured = t["measured"]
        targets.add_row(f"{name} {t['op']} {t['target']}", "not measured" if measured is None else f"{measured:.3f}",
                        {True: "met", False: "not met", None: "-"}[t["met"]])
    console.print(targets)
    genuine = report["genuine_voiced_kept_speaking"]["held_out_in_sync"]["pooled"]
    dubbed = report["dubbed_segments_kept_speaking"]["held_out_in_sync"]
    console.print("trained on confirmed sync alone (lpm-train data.sync_verdicts=\\[in_sync]), held out: genuine voiced"
                  f" frames {share_text(genuine)}, dubbed segments {share_text(dubbed)}")
    causes = report["genuine_voiced_kept_speaking"]["held_out"].get("rejected_whole_by_cause", {})
    if causes:
        console.print("talking heads rejected whole, by cause: "
                      + ", ".join(f"{cause} {n}" for cause, n in causes.items()))
    lost = report["genuine_voiced_kept_speaking"]["held_out"].get("lost_by_cause", {})
    if lost:
        table = Table("cause", "voiced frames", "of all genuine voiced", title="genuine voiced frames lost, held out")
        for cause, row in lost.items():
            table.add_row(cause, str(row["frames"]), f"{row['of_voiced']:.4f}")
        console.print(table)
    return 0

