"""A workflow extends another instead of copying its stage list: ``extends``, ``until``, ``settings``."""

from pathlib import Path

import pytest

from curation.config.param_validation import WorkflowError
from curation.config.workflow import load_workflow
from stages.workflow_stages import WORKFLOW_STAGES


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_smoke_is_default_with_its_settings_changed():
    default = load_workflow("default", WORKFLOW_STAGES)
    smoke = load_workflow("smoke", WORKFLOW_STAGES)
    assert [s.name for s in smoke.stages] == [s.name for s in default.stages]
    changed = {
        s.name: {k: v for k, v in s.params().items() if v != d.params()[k]}
        for s, d in zip(smoke.stages, default.stages, strict=True)
    }
    assert {k: v for k, v in changed.items() if v} == {
        "visual_analysis": {"analysis_short_side": 360},
        "references": {"refs_per_segment": 2},
        "samples": {"clip_size": 128, "shard_target_bytes": 2_000_000},
    }


def test_until_cuts_the_base_list_and_a_chain_of_bases_resolves(tmp_path):
    _write(tmp_path, "mine", "name: mine\nextends: analysis\nsettings:\n  probe: {min_duration_s: 2.0}\n")
    mine = load_workflow(str(tmp_path / "mine.yaml"), WORKFLOW_STAGES)
    assert [s.name for s in mine.stages] == ["probe", "visual_analysis", "performer_filter", "audio_analysis"]
    assert mine.stage("probe").min_duration_s == 2.0
    assert mine.fingerprint() != load_workflow("analysis", WORKFLOW_STAGES).fingerprint()
    # a base named with its .yaml ending is a file beside the extending one, a chain of two here
    _write(tmp_path, "short", "name: short\nextends: mine.yaml\nuntil: visual_analysis\n")
    short = load_workflow(str(tmp_path / "short.yaml"), WORKFLOW_STAGES)
    assert [s.name for s in short.stages] == ["probe", "visual_analysis"]
    assert short.stage("probe").min_duration_s == 2.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("extends: default\nsettings:\n  nope: {x: 1}\n", r"settings.nope: the workflow has no stage 'nope'"),
        ("extends: default\nsettings:\n  probe: {min_duration_s: -1}\n",
         r"settings.probe.min_duration_s: -1.0 is outside the allowed range"),
        ("extends: default\nsettings:\n  probe: {colour: red}\n", r"settings.probe.colour: stage 'probe' has no"),
        ("extends: default\nuntil: pairs\nsettings:\n  samples: {clip_size: 64}\n",
         r"settings.samples: the workflow has no stage 'samples'"),
        ("extends: default\nuntil: nowhere\n", r"until: the base workflow has no stage 'nowhere'"),
        ("extends: default\nstages:\n  - stage: probe\n", r"stages: a workflow that extends another"),
        ("extends: missing_base\n", r"extends: no built-in workflow 'missing_base'"),
        ("extends: other.yaml\n", r"extends: no workflow file .*other.yaml"),
        ("stages:\n  - stage: probe\nsettings:\n  probe: {}\n", r"settings: only a workflow that extends"),
        ("extends: wf.yaml\n", r"extends: 'wf.yaml' extends itself"),
    ],
)
def test_bad_extensions_name_their_key(tmp_path, body, message):
    path = _write(tmp_path, "wf", body)
    with pytest.raises(WorkflowError, match=message):
        load_workflow(str(path), WORKFLOW_STAGES)


def test_a_cycle_through_two_files_is_refused(tmp_path):
    _write(tmp_path, "a", "extends: b.yaml\n")
    _write(tmp_path, "b", "extends: a.yaml\n")
    with pytest.raises(WorkflowError, match="extends itself"):
        load_workflow(str(tmp_path / "a.yaml"), WORKFLOW_STAGES)


def test_a_cycle_through_another_spelling_of_the_same_file_is_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", "a", "extends: ../sub/b.yaml\n")
    _write(tmp_path / "sub", "b", "extends: a.yaml\n")
    with pytest.raises(WorkflowError, match="extends itself"):
        load_workflow(str(tmp_path / "sub" / "a.yaml"), WORKFLOW_STAGES)
