"""``apps.bench.calibrated_workflow``: a workflow with the rules ``bench validity`` fitted on a user's footage."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from apps.bench.calibrated_workflow import calibrated_settings, write_calibrated_workflow
from curation.config.param_validation import WorkflowError
from curation.config.workflow import load_workflow
from stages.workflow_stages import WORKFLOW_STAGES


def share(n: int, of: int) -> dict[str, Any]:
    return {"n": n, "of": of, "fraction": n / of, "wilson95": [n / of - 0.01, min(1.0, n / of + 0.01)]}


def report(lip_sync_fit: dict[str, Any]) -> dict[str, Any]:
    """The parts of a ``bench validity`` report the workflow reads: each rule's fit on all sources
    (numpy scalars, as the fits give them) and its pooled held-out figure."""
    return {
        "overrides": ["states.min_segment_s=1.5"],
        "lip_sync_model": "learned_av_face_voice_head",
        "clips": 12,
        "sources": ["a", "b", "c"],
        "rules": {
            "lip_sync_verdict": {"fit_on_all_sources": lip_sync_fit,
                                 "pooled_held_out": {"frames": {"recall": share(980, 1000)}}},
            "mouth_motion_threshold": {"fit_on_all_sources": {"mouth_motion_threshold": np.float64(0.0037),
                                                              "in_sample": {}},
                                       "pooled_held_out": {"recall": share(95, 100)}},
            "performer_filter": {"fit_on_all_sources": {"min_face_px": 48.0, "min_frontal_frac": np.float64(0.4),
                                                        "in_sample": {}},
                                 "pooled_held_out": {"talking_head_clips_kept": share(9, 10)}},
            "cascade_skip_margin": {"fit_on_all_sources": {"cascade_skip_margin": 0.05, "in_sample": {}},
                                    "pooled_held_out": {"recall": {"n": 0, "of": 0, "fraction": None,
                                                                   "wilson95": None}}},
        },
    }  # fmt: skip


def test_every_fitted_rule_lands_on_its_stage_and_the_workflow_runs_with_them(tmp_path: Path) -> None:
    fitted = report({"reject_below": np.float64(1.2), "accept_from": 2.4, "in_sample": {}})
    path = tmp_path / "calibrated.yaml"
    write_calibrated_workflow(fitted, "MINE", path)
    assert [p.name for p in tmp_path.iterdir()] == ["calibrated.yaml"]  # written whole, no partial left
    text = path.read_text()
    assert "lip_sync_verdict: frames recall 0.980" in text and "performer_filter: talking_head_clips_kept 0.900" in text
    assert "cascade_skip_margin: recall not measured" in text
    workflow = load_workflow(str(path), WORKFLOW_STAGES)
    default = load_workflow("default", WORKFLOW_STAGES)
    assert [s.name for s in workflow.stages] == [s.name for s in default.stages]
    states = workflow.stage("states")
    assert (states.lip_sync_model, states.lip_sync_threshold, states.lip_sync_accept_threshold) == (
        "learned_av_face_voice_head", 1.2, 2.4)
    assert states.mouth_motion_threshold == 0.0037 and states.min_segment_s == 1.5  # the run's own --set kept
    performer = workflow.stage("performer_filter")
    assert (performer.min_face_px, performer.min_frontal_frac) == (48.0, 0.4)
    assert performer.max_noise == default.stage("performer_filter").max_noise  # not fitted: the default
    assert workflow.stage("visual_analysis").cascade_skip_margin == 0.05


def test_a_rule_the_footage_could_not_fit_keeps_its_default_and_says_why(tmp_path: Path) -> None:
    unfitted = report({"error": "no dubbed speech to fit on"})
    settings, skipped = calibrated_settings(unfitted)
    assert skipped == {"lip_sync_verdict": "no dubbed speech to fit on"}
    assert not {"lip_sync_threshold", "lip_sync_accept_threshold", "lip_sync_model"} & set(settings["states"])
    path = tmp_path / "calibrated.yaml"
    write_calibrated_workflow(unfitted, "MINE", path)
    assert "lip_sync_verdict: not fitted, default kept: no dubbed speech to fit on" in path.read_text()
    states = load_workflow(str(path), WORKFLOW_STAGES).stage("states")
    default = load_workflow("default", WORKFLOW_STAGES).stage("states")
    assert (states.lip_sync_model, states.lip_sync_threshold) == (default.lip_sync_model, default.lip_sync_threshold)


def test_a_setting_no_stage_takes_is_refused_by_name_when_the_workflow_is_loaded(tmp_path: Path) -> None:
    """The file is an ordinary workflow, checked as any other when a run loads it."""
    broken = report({"reject_below": 1.2, "accept_from": 2.4}) | {"overrides": ["states.no_such_parameter=1"]}
    path = tmp_path / "calibrated.yaml"
    write_calibrated_workflow(broken, "MINE", path)
    with pytest.raises(WorkflowError, match="no_such_parameter"):
        load_workflow(str(path), WORKFLOW_STAGES)
