"""``lpm-curate bench analysis`` on one real talking-head clip: floors and pipeline, best of repeats.

The benchmark starts and stops its own Ray, so it runs as the installed command in a child
process, never inside the test session's Ray.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.bench.analysis_bench import (
    RoundFigures,
    best_of_rounds,
    confined_to_cpus,
    round_order,
    select_files,
    summarise_runs,
)
from curation.media.probe import probe_media

LPM_CURATE = Path(sys.executable).with_name("lpm-curate")
REPORT_KEYS = (
    "video_seconds", "wall_seconds", "decode_floor_seconds", "model_floor_seconds", "ratio_to_floor",
    "ratio_to_model_floor", "realtime_per_core", "peak_rss_mb", "ffmpeg_decode_floor_seconds",
    "ffmpeg_model_floor_seconds", "ratio_to_ffmpeg_floor", "ratio_to_ffmpeg_model_floor",
)


def test_select_files_by_label_reads_the_manifest(shared_media: Path, tmp_path: Path) -> None:
    talking = select_files(str(shared_media), "talking_head", None)
    assert len(talking) == 8
    assert all(Path(f).name.startswith(("fantasy", "talkvid", "infinitetalk", "latentsync")) for f in talking)
    assert len(select_files(str(shared_media), "talking_head", 2)) == 2
    mix = select_files(str(shared_media), "talking_head, multi_face", None)
    assert len(mix) == 9 and set(talking) < set(mix)
    with pytest.raises(ValueError, match=r"has label\(s\) \['talking_heads'\]"):
        select_files(str(shared_media), "talking_heads,no_face", None)
    (tmp_path / "clip.mp4").symlink_to(shared_media / "fantasy_end0.1.mp4")
    with pytest.raises(FileNotFoundError, match="--label needs"):
        select_files(str(tmp_path), "talking_head", None)


def test_an_unknown_label_is_a_clear_error_before_anything_runs(shared_media: Path, capsys) -> None:
    from apps.cli.main import main

    assert main(["bench", "analysis", "--input", str(shared_media), "--label", "talking_heads"]) == 2
    assert "error: --label: no file of" in capsys.readouterr().err


@pytest.mark.slow
def test_one_round_on_one_clip(shared_media: Path, tmp_path: Path) -> None:
    # One worker count and one round: how rounds are combined is test_best_of_rounds_..., and how
    # two counts are compared test_summary_compares_..., below.
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "fantasy_end0.1.mp4").symlink_to(shared_media / "fantasy_end0.1.mp4")
    ran = subprocess.run(
        [str(LPM_CURATE), "bench", "analysis", "--input", str(folder), "--workers", "1", "--repeat", "1", "--json"],
        capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads(ran.stdout)
    assert report["workers"] == 1 and "scaling_speedup" not in report
    for key in REPORT_KEYS:
        assert report[key] > 0, key
    assert report["files"] == 1 and report["repeat"] == 1
    assert report["frames"] == 88  # 3.52 s at 25 fps
    assert report["all_wall_seconds"] == [report["wall_seconds"]]
    assert report["all_model_floor_seconds"] == [report["model_floor_seconds"]]
    # The model floor is the decode plus the landmarker on all 88 frames (about 1.5 s more here).
    # The pipeline's wall is not compared with it: beating the floor is what the cascade is for.
    assert report["decode_floor_seconds"] < report["model_floor_seconds"]
    # the same two floors decoded by ffmpeg's pipe, in the same round
    assert report["ffmpeg_decode_floor_seconds"] < report["ffmpeg_model_floor_seconds"]
    assert report["all_ffmpeg_model_floor_seconds"] == [report["ffmpeg_model_floor_seconds"]]
    assert report["ratio_to_ffmpeg_model_floor"] == pytest.approx(
        report["wall_seconds"] / report["ffmpeg_model_floor_seconds"]
    )
    assert report["ratio_to_model_floor"] == pytest.approx(report["wall_seconds"] / report["model_floor_seconds"])
    assert report["realtime_per_core"] == pytest.approx(3.52 / report["wall_seconds"], rel=0.01)
    assert report["landmarked_frac"] == 1.0  # a talking head from its first frame to its last


def test_best_of_rounds_takes_each_fastest_time_and_the_largest_memory(shared_media: Path) -> None:
    clip = str(shared_media / "fantasy_end0.1.mp4")
    rounds = [
        RoundFigures(2.0, 9.0, 3.0, 12.0, 30.0, 500.0, 900.0),
        RoundFigures(1.5, 11.0, 2.5, 10.0, 25.0, 700.0, 800.0),
        RoundFigures(1.8, 8.0, 2.8, 13.0, 40.0, 600.0, 1000.0),
    ]
    result = best_of_rounds(1, rounds, [clip], {clip: probe_media(clip)}, 88)
    assert (result.decode_floor_seconds, result.model_floor_seconds, result.wall_seconds) == (1.5, 8.0, 25.0)
    assert (result.ffmpeg_decode_floor_seconds, result.ffmpeg_model_floor_seconds) == (2.5, 10.0)
    assert (result.peak_rss_mb, result.peak_total_rss_mb) == (700.0, 1000.0)
    assert result.repeat == 3 and result.all_wall_seconds == (30.0, 25.0, 40.0)
    assert result.all_model_floor_seconds == (9.0, 11.0, 8.0)
    assert result.all_ffmpeg_model_floor_seconds == (12.0, 10.0, 13.0)
    assert result.video_seconds == pytest.approx(3.52, abs=0.01) and result.frames == 88


def test_every_variant_takes_its_turn_first() -> None:
    names = ["no_ocr", "before", "now"]
    orders = [round_order(names, r) for r in range(4)]
    assert orders[:3] == [["no_ocr", "before", "now"], ["before", "now", "no_ocr"], ["now", "no_ocr", "before"]]
    assert orders[3] == orders[0] and round_order(["only"], 5) == ["only"]


def test_confined_to_cpus_holds_for_child_processes_and_is_undone() -> None:
    before = os.sched_getaffinity(0)
    with confined_to_cpus(1) as chosen:
        assert len(chosen) == 1 and os.sched_getaffinity(0) == chosen
        child = subprocess.run([sys.executable, "-c", "import os; print(len(os.sched_getaffinity(0)))"],
                               capture_output=True, text=True, check=True)
        assert child.stdout.strip() == "1"
    assert os.sched_getaffinity(0) == before


def test_summary_compares_the_first_and_last_worker_counts_for_pipeline_and_model_floor() -> None:
    one = {"workers": 1, "wall_seconds": 54.0, "model_floor_seconds": 37.0, "ffmpeg_model_floor_seconds": 60.0}
    two = {"workers": 2, "wall_seconds": 30.0, "model_floor_seconds": 20.0, "ffmpeg_model_floor_seconds": 40.0}
    summary = summarise_runs([one, two])
    assert summary["workers"] == 2 and summary["by_workers"] == [one, two]
    assert summary["scaling_speedup"] == pytest.approx(1.8)
    assert summary["model_floor_scaling_speedup"] == pytest.approx(1.85)
    assert summary["ffmpeg_model_floor_scaling_speedup"] == pytest.approx(1.5)
    alone = summarise_runs([one])
    assert "scaling_speedup" not in alone and alone["wall_seconds"] == 54.0
