"""``lpm-curate bench analysis --variant ... --cpu``: variants of overrides, in CPU seconds."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.bench.analysis_cpu import ThreadCpuMeter, VariantCpu, cpu_summary
from apps.cli.bench_command import parse_variants

LPM_CURATE = Path(sys.executable).with_name("lpm-curate")


def test_variants_are_named_override_lists_and_may_be_empty():
    given = ["no_ocr=visual_analysis.text_overlay_fps=0", "both=a.x=1,b.y=2", "now="]
    assert parse_variants(given) == {
        "no_ocr": ["visual_analysis.text_overlay_fps=0"], "both": ["a.x=1", "b.y=2"], "now": [],
    }
    with pytest.raises(SystemExit, match="expected NAME"):
        parse_variants(["visual_analysis"])
    with pytest.raises(SystemExit, match="given twice"):
        parse_variants(["a=", "a=x.y=1"])


def test_summary_shares_are_of_the_analysis_without_the_text_detector():
    reference = VariantCpu("no_ocr", [], {"visual_analysis": 10.0, "probe": 2.0}, identity_cpu_s=0.6,
                           text_detection_cpu_s=0.0)
    ocr = VariantCpu("now", [], {"visual_analysis": 10.9, "probe": 2.1}, identity_cpu_s=0.6, text_detection_cpu_s=0.5)
    rows = {r["variant"]: r for r in cpu_summary([reference, ocr])["variants"]}
    assert rows["no_ocr"]["added_own_frac"] == pytest.approx(0.05)  # 0.6 / 12
    assert rows["now"]["text_detection_own_frac"] == pytest.approx(0.5 / 12.5)
    assert rows["now"]["added_own_frac"] == pytest.approx(1.1 / 12.5)
    assert rows["now"]["analysis_added_frac"] == pytest.approx(1.0 / 12.0)  # the difference to the reference
    assert rows["now"]["added_frac"] == pytest.approx(1.6 / 12.0)


def test_summary_lists_the_files_whose_usable_track_seconds_differ_from_the_reference():
    reference = VariantCpu("every_frame", [], {"visual_analysis": 10.0}, usable_track_s={"a.mp4": 4.0, "b.mp4": 2.0},
                           landmarked_frac=1.0)
    cascade = VariantCpu("cascade", [], {"visual_analysis": 6.0}, usable_track_s={"a.mp4": 4.0, "b.mp4": 1.5},
                         landmarked_frac=0.4)
    rows = {r["variant"]: r for r in cpu_summary([reference, cascade])["variants"]}
    assert rows["every_frame"]["usable_track_s_differs"] == {}
    assert rows["cascade"]["usable_track_s"] == 5.5
    assert rows["cascade"]["usable_track_s_vs_reference"] == pytest.approx(5.5 / 6.0)
    assert rows["cascade"]["usable_track_s_differs"] == {"b.mp4": [2.0, 1.5]}
    assert rows["cascade"]["landmarked_frac"] == 0.4


def test_thread_cpu_meter_counts_the_calls_cpu_and_passes_results_through():
    meter = ThreadCpuMeter(lambda n: sum(i * i for i in range(n)))
    assert meter(200_000) == sum(i * i for i in range(200_000))
    busy = meter.seconds
    assert busy > 0
    meter(0)
    assert meter.seconds == pytest.approx(busy, abs=0.005)


@pytest.mark.slow
def test_cpu_variants_on_one_clip(shared_media: Path, tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "fantasy_end0.1.mp4").symlink_to(shared_media / "fantasy_end0.1.mp4")
    ran = subprocess.run(
        [str(LPM_CURATE), "bench", "analysis", "--input", str(folder), "--repeat", "2", "--cpu", "--json",
         "--variant", "no_ocr=visual_analysis.text_overlay_fps=0", "--variant", "now="],
        capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads(ran.stdout)
    assert report["reference"] == "no_ocr" and report["files"] == 1
    no_ocr, now = report["variants"]
    assert no_ocr["text_detection_cpu_s"] == 0.0 and now["text_detection_cpu_s"] > 0
    for row in (no_ocr, now):
        assert len(row["rounds"]) == 2 and row["tracks_embedded"] == 1  # one talking head, one track
        assert row["identity_cpu_s"] > 0 and row["stage_cpu_s"]["visual_analysis"] > 0
        assert row["analysis_cpu_s"] == pytest.approx(sum(row["stage_cpu_s"].values()))
        assert row["landmarked_frac"] == 1.0 and row["usable_track_s"] == pytest.approx(3.52)
        # the shipped lip-sync model scored the whole usable track, its cost a share of the analysis
        assert row["lip_sync_model"] == "learned_av_face_voice_head"
        assert row["lip_sync_scored_s"] == pytest.approx(3.52, abs=0.05)
        assert row["lip_sync_cpu_s"] > 0 and row["lip_sync_frac"] == row["lip_sync_cpu_s"] / row["analysis_cpu_s"]
        assert row["usable_track_s_differs"] == {}
        assert row["shot_s_by_reason"] == {"kept": pytest.approx(3.52)}
