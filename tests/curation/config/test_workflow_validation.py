"""Workflow loading checks every value and names the YAML path of a bad one."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import pytest

from curation.config.param_validation import WorkflowError
from curation.config.product_names import unknown_part
from curation.config.workflow import Workflow, builtin_workflows, load_workflow
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from stages.probe import ProbeStage
from stages.workflow_stages import WORKFLOW_STAGES


@dataclass
class ToyStage(Stage):
    """Every parameter type the validator supports."""

    name: ClassVar[str] = "toy"

    ratio: float = field(default=0.5, metadata={"range": (0, 1)})
    count: int = field(default=3, metadata={"range": (1, None)})
    label: str = "x"
    enabled: bool = True
    mode: Literal["fast", "exact"] = "fast"
    sizes: list[int] = field(default_factory=lambda: [1, 2])
    limit: float | None = None

    def process(self, work: VideoWork) -> VideoWork:
        return work


REGISTRY = {"toy": ToyStage, "probe": ProbeStage}


def _load(tmp_path: Path, text: str, *overrides: str) -> Workflow:
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    return load_workflow(str(path), REGISTRY, list(overrides))


def test_values_are_coerced_and_defaults_kept(tmp_path: Path) -> None:
    workflow = _load(tmp_path, "name: t\nstages:\n  - stage: toy\n    ratio: 1\n    sizes: [4]\n  - stage: probe\n")
    toy = workflow.stages[0]
    assert isinstance(toy, ToyStage)
    assert (toy.ratio, type(toy.ratio), toy.count, toy.sizes, toy.limit) == (1.0, float, 3, [4], None)
    resolved = workflow.resolved()["stages"][1]
    assert resolved["stage"] == "probe" and resolved["min_duration_s"] == 1.0 and resolved["version"] == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - stage: toyy\n", r"stages\[0\]\.stage: unknown stage 'toyy'; known: probe, toy"),
        ("  - stage: toy\n  - stage: [a]\n", r"stages\[1\]\.stage: unknown stage \['a'\]"),
        (
            "  - stage: probe\n  - stage: toy\n    colour: red\n",
            r"stages\[1\]\.colour: stage 'toy' has no setting 'colour'",
        ),
        ("  - stage: toy\n    ratio: lots\n", r"stages\[0\]\.ratio: expected a number, got 'lots'"),
        ("  - stage: toy\n    ratio: .nan\n", r"stages\[0\]\.ratio: expected a number, got NaN"),
        ("  - stage: toy\n    count: 2.5\n", r"stages\[0\]\.count: expected an integer, got 2\.5"),
        ("  - stage: toy\n    count: true\n", r"stages\[0\]\.count: expected an integer, got True"),
        ("  - stage: toy\n    enabled: 1\n", r"stages\[0\]\.enabled: expected true or false, got 1"),
        ("  - stage: toy\n    label: 7\n", r"stages\[0\]\.label: expected text, got 7"),
        ("  - stage: toy\n    mode: slow\n", r"stages\[0\]\.mode: 'slow' is not one of 'fast', 'exact'"),
        ("  - stage: toy\n    sizes: [1, two]\n", r"stages\[0\]\.sizes\[1\]: expected an integer, got 'two'"),
        ("  - stage: toy\n    ratio: 1.5\n", r"stages\[0\]\.ratio: 1\.5 is outside the allowed range \[0, 1\]"),
        ("  - stage: toy\n    count: 0\n", r"stages\[0\]\.count: 0 is outside the allowed range \[1, None\]"),
        (
            "  - stage: probe\n    timeout_s: 0\n",
            r"stages\[0\]\.timeout_s: 0\.0 is outside the allowed range \[1, 3600\]",
        ),
        ("  - stage: toy\n  - stage: toy\n", r"each stage may appear once; repeated: toy"),
        ("  - toy\n", r"stages\[0\]: expected a mapping with a 'stage' key"),
    ],
)
def test_bad_value_names_its_yaml_path(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        _load(tmp_path, "name: t\nstages:\n" + body)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: t\nstage:\n  - stage: toy\n", r"stage: unknown top-level key"),
        ("name: t\nstages: []\n", r"stages: expected a non-empty list"),
        ("- stage: toy\n", r"a workflow is a mapping"),
        ("name: t\nstages: [\n", r"not valid YAML"),
    ],
)
def test_malformed_documents_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        _load(tmp_path, text)


def test_set_overrides_a_value_and_changes_the_fingerprint(tmp_path: Path) -> None:
    text = "name: t\nstages:\n  - stage: toy\n"
    plain = _load(tmp_path, text)
    changed = _load(tmp_path, text, "toy.sizes=[8, 9]", "toy.mode=exact", "toy.limit=2")
    assert (changed.stages[0].sizes, changed.stages[0].mode, changed.stages[0].limit) == ([8, 9], "exact", 2.0)
    assert plain.fingerprint() != changed.fingerprint()
    assert plain.fingerprint() == _load(tmp_path, text, "toy.ratio=0.5").fingerprint()  # same value, same run


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("toy.ratio", r"--set 'toy\.ratio': expected STAGE\.PARAM=VALUE"),
        ("ratio=1", r"--set 'ratio=1': expected STAGE\.PARAM=VALUE"),
        ("tow.ratio=1", r"--set 'tow\.ratio=1': the workflow has no stage 'tow'"),
        ("toy.ratio=[1", r"--set 'toy\.ratio=\[1': value is not valid YAML"),
        (
            "toy.ratio=7",
            r"stages\[0\]\.ratio: 7\.0 is outside the allowed range \[0, 1\] \(from --set 'toy\.ratio=7'\)",
        ),
        ("toy.rate=1", r"stages\[0\]\.rate: stage 'toy' has no setting 'rate'.*\(from --set 'toy\.rate=1'\)"),
    ],
)
def test_bad_set_is_refused_with_its_text(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        _load(tmp_path, "name: t\nstages:\n  - stage: toy\n", override)


def test_unknown_workflow_name_lists_the_builtin_ones() -> None:
    with pytest.raises(WorkflowError, match=r"no workflow file 'nosuch'.*built-in: .*ingest"):
        load_workflow("nosuch", WORKFLOW_STAGES)


def test_every_builtin_workflow_loads_with_the_real_registry() -> None:
    workflows = builtin_workflows()
    assert "ingest" in workflows
    for name in workflows:
        workflow = load_workflow(name, WORKFLOW_STAGES)
        assert workflow.stages and workflow.name
        assert len(workflow.fingerprint()) == 16


def test_a_stage_needing_a_product_no_earlier_stage_adds_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    stages = ("probe", "speech", "visual_analysis", "audio_analysis")
    path.write_text("stages:\n" + "".join(f"  - stage: {name}\n" for name in stages))
    with pytest.raises(WorkflowError, match=r"stages\[1\] \(speech\) needs 'audio', but only the later stage "
                                            r"'audio_analysis' adds it"):
        load_workflow(str(path), WORKFLOW_STAGES)
    path.write_text("stages:\n  - stage: probe\n  - stage: states\n")
    with pytest.raises(WorkflowError, match=r"stages\[1\] \(states\) needs 'speech', but no stage of the workflow"):
        load_workflow(str(path), WORKFLOW_STAGES)


def _load_after_probe(tmp_path: Path, needs: tuple[str, ...] = (), adds: tuple[str, ...] = ()) -> None:
    """Load a workflow of the probe and a stage named ``misspelt`` that declares these products."""

    @dataclass
    class Misspelt(Stage):
        name: ClassVar[str] = "misspelt"

        def process(self, work: VideoWork) -> VideoWork:
            return work

    Misspelt.needs, Misspelt.adds = needs, adds
    path = tmp_path / "wf.yaml"
    path.write_text("stages:\n  - stage: probe\n  - stage: misspelt\n")
    load_workflow(str(path), {"probe": ProbeStage, "misspelt": Misspelt})


def test_a_declared_product_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match=r"stages\[1\] \(misspelt\): 'key_frame_hash' names no product"):
        _load_after_probe(tmp_path, needs=("key_frame_hash",))  # the product is key_frame_hashes


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("track_features.stat", r"'track_features.stat' names no part of 'track_features'; its parts: .*state"),
        ("segments.captoin", r"'segments.captoin' names no part of 'segments'; its parts: .*caption"),
        ("voice_faces.scoped", r"'voice_faces.scoped' names no part of 'voice_faces'; its parts: .*scope"),
        ("pairs.relation.kind", r"'pairs.relation.kind' names no part of 'pairs'"),
        ("timings.total", r"'timings.total' names no part of 'timings'; its parts: none: it is a plain value"),
    ],
)
def test_a_misspelt_part_after_the_dot_is_refused(tmp_path: Path, declared: str, message: str) -> None:
    with pytest.raises(WorkflowError, match=rf"stages\[1\] \(misspelt\): {message}"):
        _load_after_probe(tmp_path, adds=(declared,))
    _load_after_probe(tmp_path, adds=(declared.partition(".")[0],))  # the product alone is known


def test_every_registered_stage_declares_parts_that_exist() -> None:
    for name, cls in WORKFLOW_STAGES.items():
        for declared in (*cls.needs, *cls.adds):
            assert unknown_part(declared) is None, (name, unknown_part(declared))
    assert unknown_part("identity_vectors.vector") is None  # dict values: a field of TrackIdentityVector
    assert unknown_part("segment_references.track_id") is None  # dict of lists: SegmentReference's field


def test_on_and_off_are_words_not_booleans_in_files_and_in_set(tmp_path: Path) -> None:
    # YAML 1.1 reads on/off/yes/no as booleans: dedup's clip choice ("auto" | "on" | "off") was refused
    flag = tmp_path / "dedup_on.yaml"
    flag.write_text("name: d\nextends: default\nsettings:\n  dedup: {clip: off}\n")
    from_file = load_workflow(str(flag), WORKFLOW_STAGES)
    assert next(s for s in from_file.stages if s.name == "dedup").clip == "off"
    from_set = load_workflow("default", WORKFLOW_STAGES, ["dedup.clip=on"])
    assert next(s for s in from_set.stages if s.name == "dedup").clip == "on"
    assert _load(tmp_path, "name: t\nstages:\n  - stage: toy\n", "toy.sizes=[1, 2]").stages[0].sizes == [1, 2]


def test_a_shard_bucket_that_names_no_segment_column_is_refused_before_any_video() -> None:
    bucketed = load_workflow("default", WORKFLOW_STAGES, ["samples.shard_bucket_by=[state, audio_source]"])
    assert bucketed.stage("samples").shard_bucket_by == ["state", "audio_source"]
    with pytest.raises(WorkflowError, match=r"shard_bucket_by: \['stat'\] name no column of the segments table"):
        load_workflow("default", WORKFLOW_STAGES, ["samples.shard_bucket_by=[stat]"])
