import json

import pytest

from apps.bench.dubbing_bench import refit_report
from apps.bench.fold_rows import ScoredSegment
from apps.bench.sync_folds import leave_one_source_out
from apps.cli.main import main


def row(picture: str, voice: str, score: float | None, weight: int = 10) -> ScoredSegment:
    return ScoredSegment(picture=f"{picture}.mp4", voice=f"{voice}.mp4", picture_source=picture, voice_source=voice,
                         genuine=picture == voice, score=score, weight=weight)


def test_each_source_is_scored_by_thresholds_fitted_without_its_pictures_or_voices():
    rows = [
        row("A", "A", 3.0), row("B", "B", 2.8), row("C", "C", 1.2),  # C's own voice scores low
        row("A", "B", 0.5), row("B", "A", 0.4), row("A", "C", 0.6), row("C", "A", 0.3), row("B", "C", 0.7),
        row("C", "B", 0.2, weight=30),
    ]
    report = leave_one_source_out(rows)
    by_source = {f["held_out_source"]: f for f in report["folds"]}
    # Without C: genuine A, B (2.8 lowest kept) and dubbed A<->B (0.5 highest): both cuts at 1.65.
    c = by_source["C"]
    assert (c["reject_below"], c["accept_from"]) == (pytest.approx(1.65), pytest.approx(1.65))
    assert c["fitted_rows"] == 4
    # C's genuine speech falls below: rejected; its dubbed copies (with A's and B's voices) too.
    assert c["genuine_frames_kept"] == 0.0 and c["genuine_segments_out_of_sync"] == 1
    assert c["dubbed_frames_out_of_sync"] == 1.0 and c["dubbed_frames"] == 40
    pooled = report["pooled_held_out"]
    assert pooled["genuine_segments"] == 3 and pooled["dubbed_segments"] == 6
    assert pooled["genuine_frames_kept"] == pytest.approx(2 / 3)
    assert report["fit_on_all_sources"]["reject_below"] == pytest.approx((0.7 + 1.2) / 2)


def test_a_fold_without_both_classes_says_so():
    rows = [row("A", "A", 3.0), row("B", "B", 2.8), row("A", "B", 0.5)]
    report = leave_one_source_out(rows)
    errors = {f["held_out_source"]: f.get("error") for f in report["folds"]}
    assert errors["A"] and errors["B"]


def test_a_saved_report_is_refitted_without_a_run():
    rows = [row("A", "A", 3.0), row("B", "B", 2.8), row("A", "B", 0.5), row("B", "A", 0.4)]
    refit = refit_report({"workdir": "/tmp/x", "lip_sync_model": "av_sync",
                          "speaking_segments": [r.as_json() for r in rows]})
    assert refit["leave_one_source_out"] == leave_one_source_out(rows)
    assert refit["leave_one_source_out"]["fit_on_all_sources"]["reject_below"] == 1.65


def test_bench_dubbing_refit_prints_the_folds_from_a_saved_report(tmp_path, capsys):
    rows = [row("A", "A", 3.0), row("B", "B", 2.8), row("A", "B", 0.5), row("B", "A", 0.4)]
    saved = tmp_path / "dubbing.json"
    saved.write_text(json.dumps({"workdir": "w", "lip_sync_model": "av_sync",
                                 "speaking_segments": [r.as_json() for r in rows]}))
    assert main(["bench", "dubbing", "--refit", str(saved), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["leave_one_source_out"]["fit_on_all_sources"]["reject_below"] == 1.65
    assert main(["bench", "dubbing", "--refit", str(saved)]) == 0
    assert "leave one source out" in capsys.readouterr().out
