"""``python -m apps.bench.coarse_floor``: a stripped coarse pass timed against the model floor."""

import json
from pathlib import Path

from apps.bench.coarse_floor import best_seconds, main


def test_best_seconds_warms_up_then_keeps_the_fastest_run() -> None:
    calls = []

    def run() -> int:
        calls.append(1)
        return 7

    seconds, frames = best_seconds(run, repeat=3)
    assert len(calls) == 4 and frames == 7 and seconds >= 0


def test_one_clip_reads_every_frame_on_both_sides(shared_media: Path, models_dir: Path, capsys) -> None:
    assert main([str(shared_media / "fantasy_end0.1.mp4")]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    report = json.loads(line)
    assert report["file"] == "fantasy_end0.1.mp4" and report["frames"] == 88  # 3.52 s at 25 fps
    assert min(report[k] for k in ("decode_s", "coarse_decode_s", "model_floor_s", "coarse_s")) > 0
    assert report["coarse_over_model_floor"] == report["coarse_s"] / report["model_floor_s"]
    assert report["coarse_frames"] == report["frames"]  # the coarse pass at the analysis rate by default


def test_a_low_rate_coarse_pass_reads_a_fifth_of_the_frames(shared_media: Path, models_dir: Path, capsys) -> None:
    assert main([str(shared_media / "fantasy_end0.1.mp4"), "--coarse-fps", "5"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[0])
    assert report["frames"] == 88 and report["coarse_fps"] == 5.0
    assert report["coarse_frames"] in (17, 18)  # 3.52 s at 5 fps, ffmpeg's fps filter rounding to nearest
