import csv
import shutil
from pathlib import Path

import pytest

from annotators.speaking.sync_thresholds import ScoredSpeech, fit_sync_thresholds
from apps.bench.calibrated_workflow import write_calibrated_workflow
from apps.bench.dubbing_bench import dub
from apps.bench.learned_sync_training import TrainSettings
from apps.bench.validity_bench import refit_records, run_validity_bench
from curation.config.workflow import load_workflow
from stages.workflow_stages import WORKFLOW_STAGES
from tests.apps.bench.tiny_sync_features import write_tiny_features

# Two real talking heads of two people standing for two sources, and a face with no audio track.
CORPUS = [
    ("fantasy_end0.1.mp4", "talking_head", "source_a", "fantasy"),
    ("talkvid_tys_gt.mp4", "talking_head", "source_b", "tys"),
    ("liveportrait_d0.mp4", "face_other", "source_c", "liveportrait_driver"),
]


@pytest.mark.slow
def test_validity_scores_each_source_with_rules_fitted_on_the_others(shared_media: Path, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "MANIFEST.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label", "source_id", "person_id"])
        for name, label, source, person in CORPUS:
            shutil.copyfile(shared_media / name, corpus / name)
            writer.writerow([name, label, source, person])
        # A listener as the spliced conversations make one: a face's own talking shot under another person's voice.
        dub(shared_media / "talkvid_tys_gt.mp4", shared_media / "fantasy_end0.1.mp4", corpus / "listener.mp4", 4.0)
        writer.writerow(["listener.mp4", "listening", "source_d", "tys_listening"])
    records = tmp_path / "records.json"
    # The learned networks trained again without each source (a tiny cache and recipe: the wiring, not the figures).
    features = write_tiny_features(tmp_path / "features")
    report = run_validity_bench(corpus, tmp_path / "work", records_out=records, sync_features=features,
                                sync_settings=TrainSettings(steps=3, batch=4, members=1))  # fmt: skip
    assert report["lip_sync_model"] == "learned_av_face_voice_head" and report["lip_sync_scores"].startswith("held out")
    assert report["held_out_networks"]["sources"] == ["source_a", "source_b", "source_d"]
    clips = {row["clip"]: row for row in report["per_clip"]}
    genuine = {name for name, *_ in CORPUS}
    assert genuine < set(clips) and report["dubbed_copies"] == 2  # by default every talking head is dubbed once
    assert clips["liveportrait_d0.mp4"]["voiced_frames"] == 0  # no audio track: nothing voiced
    for name in ("fantasy_end0.1.mp4", "talkvid_tys_gt.mp4"):
        assert clips[name]["voiced_frames"] > 25 and clips[name]["segments"], name
    # Every speaking segment the shipped networks scored is scored by its source's held-out networks too.
    dubbed = [row for row in report["per_clip"] if row["label"] == "dubbed"]
    scored = [s for row in [*clips.values(), *dubbed] for s in row["segments"]]
    assert scored and all((s["score"] is None) == (s["held_out_score"] is None) for s in scored)
    assert any(s["score"] != s["held_out_score"] for s in scored if s["score"] is not None)
    assert "not_a_result" not in report["targets"]["dubbed_segments_kept_speaking"]
    # Each source's sync thresholds are fitted on rows whose picture and voice both come from the
    # other source (their held-out scores): its genuine segments and its dubbed copy that carries its own voice.
    sync = {f["held_out_source"]: f for f in report["rules"]["lip_sync_verdict"]["folds"]}
    for held, other in (("source_a", "source_b"), ("source_b", "source_a")):
        speech = [ScoredSpeech(float(s["held_out_score"]), s["weight"], row["label"] != "dubbed")
                  for row in [*clips.values(), *dubbed]
                  if row["source_id"] == other and row["voice_source"] == other for s in row["segments"]]
        if "error" in sync[held]:  # the other source has no dubbed copy with its own voice: nothing to fit
            with pytest.raises(ValueError):
                fit_sync_thresholds(speech)
            continue
        fitted = fit_sync_thresholds(speech)
        assert (sync[held]["reject_below"], sync[held]["accept_from"]) == (fitted.reject_below, fitted.accept_from)
    # The other rules have one fold per source, each beside the shipped rule on the same clips.
    for name in ("mouth_motion_threshold", "performer_filter", "cascade_skip_margin"):
        rule = report["rules"][name]
        assert {f["held_out_source"] for f in rule["folds"]} >= {"source_a", "source_b"}, name
        assert all("shipped" in f or "error" in f for f in rule["folds"]), name
    assert report["rules"]["performer_filter"]["shipped"]["pooled"]["talking_head_clips_kept"]["fraction"] == 1.0
    kept = report["genuine_voiced_kept_speaking"]
    assert kept["without_verdict"]["pooled"]["of"] == sum(clips[n]["voiced_frames"] for n, label, *_ in CORPUS
                                                          if label == "talking_head")
    low, high = kept["shipped"]["pooled"]["wilson95"]
    assert low <= kept["shipped"]["pooled"]["fraction"] <= high
    # The listener's voiced frames are counted as listening truth, never as a talking head's speech.
    listener = clips["listener.mp4"]
    assert listener["voiced_frames"] > 25 and 0 <= listener["listening_voiced"] <= listener["voiced_frames"]
    target = report["targets"]["listening_under_another_voice"]
    assert (target["clips"], target["frames"]) == (1, listener["voiced_frames"])
    assert target["measured"] == listener["listening_voiced"] / listener["voiced_frames"]
    assert "source_d" not in kept["shipped"]["per_source"]
    assert not list((tmp_path / "work").glob("*__voice_*.mp4"))  # the dubbed files are not left behind
    # The saved records give the same report without a run.
    again = refit_records(records)
    assert again["rules"] == report["rules"] and again["targets"] == report["targets"]
    # The rules fitted on these few clips, as a workflow a run loads (what --write-workflow writes).
    write_calibrated_workflow(report, str(corpus), tmp_path / "calibrated.yaml")
    states = load_workflow(str(tmp_path / "calibrated.yaml"), WORKFLOW_STAGES).stage("states")
    assert states.mouth_motion_threshold == report["rules"]["mouth_motion_threshold"]["fit_on_all_sources"][
        "mouth_motion_threshold"]
