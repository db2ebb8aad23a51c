import csv
import math
import shutil
from pathlib import Path

import pytest

from apps.bench.held_out_sync_threshold import ScoredSegment, fit_threshold
from apps.bench.validity_bench import run_validity_bench

# Two real talking heads of two people standing for two sources, and a face with no audio track.
CORPUS = [
    ("fantasy_end0.1.mp4", "talking_head", "source_a", "fantasy"),
    ("talkvid_tys_gt.mp4", "talking_head", "source_b", "tys"),
    ("liveportrait_d0.mp4", "face_other", "source_c", "liveportrait_driver"),
]


@pytest.mark.slow
def test_validity_scores_each_source_with_a_threshold_fitted_on_the_others(shared_media: Path, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "MANIFEST.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label", "source_id", "person_id"])
        for name, label, source, person in CORPUS:
            shutil.copyfile(shared_media / name, corpus / name)
            writer.writerow([name, label, source, person])
    report = run_validity_bench(corpus, tmp_path / "work", dubbed=2)
    clips = {row["clip"]: row for row in report["per_clip"]}
    assert set(clips) == {name for name, *_ in CORPUS}
    assert clips["liveportrait_d0.mp4"]["voiced_frames"] == 0  # no audio track: nothing voiced
    for name in ("fantasy_end0.1.mp4", "talkvid_tys_gt.mp4"):
        assert clips[name]["voiced_frames"] > 25 and clips[name]["segments"], name
    # The threshold that scores source_a is the one fitted on source_b's segments alone, and back.
    for held, other in (("source_a", "talkvid_tys_gt.mp4"), ("source_b", "fantasy_end0.1.mp4")):
        row = clips[other]
        fitted = fit_threshold([ScoredSegment("x", other, s["score"], s["genuine_frames"]) for s in row["segments"]])
        got = report["held_out_thresholds"][held]
        assert (got is None and fitted == -math.inf) or math.isclose(got, fitted), held
    held_out = report["genuine_voiced_kept_speaking_held_out"]
    without = report["genuine_voiced_kept_speaking_without_verdict"]
    assert set(held_out["per_source"]) == {"source_a", "source_b"}
    assert held_out["pooled"]["voiced"] == sum(clips[n]["voiced_frames"] for n, label, *_ in CORPUS
                                               if label == "talking_head")
    assert held_out["pooled"]["kept"] <= without["pooled"]["kept"] <= without["pooled"]["voiced"]
    low, high = held_out["pooled"]["wilson95"]
    assert low <= held_out["pooled"]["fraction"] <= high
    # Both dubbed copies (each face with the other's voice) are scored with their picture's fold.
    dubbed = report["dubbed_segments_kept_speaking_held_out"]
    assert dubbed["clips"] == 2
    assert dubbed["segments"] == sum(len(row["segments"]) for row in report["dubbed_per_clip"])
    assert {row["source_id"] for row in report["dubbed_per_clip"]} == {"source_a", "source_b"}
    assert not list((tmp_path / "work").glob("*__voice_*.mp4"))  # the dubbed files are not left behind
