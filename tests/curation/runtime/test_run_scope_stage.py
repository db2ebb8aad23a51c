"""Run-scope stages: only ``summarize`` loads models and asks for the stage's GPUs; ``decide`` and
``apply`` load none and ask for CPUs only, so an apply step joins the next block's CPU pool.

The Ray test declares a GPU as a resource on a Ray node (no real GPU needed) and runs the pipeline's
blocks on it, in a subprocess: the test process holds the shared CPU-only Ray."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_runs import cli_env

import annotators.models.clip_embedder
import stages.identity
from curation.config.workflow import load_workflow
from curation.execution.ray_executor import group_resources, stage_groups
from curation.run.run_scope_steps import ApplyStep, SummarizeStep, split_blocks
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from stages.workflow_stages import WORKFLOW_STAGES

DRIVER = Path(__file__).with_name("run_scope_placement_driver.py")


class _CountedModel:
    loads = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        type(self).loads += 1

    def setup(self) -> None:
        pass


@pytest.fixture
def counted_models(monkeypatch: pytest.MonkeyPatch) -> type[_CountedModel]:
    """ArcFace (through the identity stage's embedder choice) and OpenCLIP replaced by a counter."""
    _CountedModel.loads = 0
    monkeypatch.setattr(stages.identity, "face_embedder", _CountedModel)
    monkeypatch.setattr(annotators.models.clip_embedder, "ClipImageEmbedder", _CountedModel)
    return _CountedModel


def _gpu_run_stages() -> list[RunScopeStage]:
    workflow = load_workflow("gpu", WORKFLOW_STAGES, ["dedup.clip='on'"])  # quoted: a bare on reads as true
    return [s for s in workflow.stages if isinstance(s, RunScopeStage)]


def test_the_gpu_workflows_apply_steps_ask_for_no_gpu_and_load_no_model(counted_models) -> None:
    by_name = {s.name: s for s in _gpu_run_stages()}
    assert by_name["identity"].worker_resources().gpus == by_name["dedup"].worker_resources().gpus == 0.25
    for stage in by_name.values():
        apply = ApplyStep(target=stage, load_decision=dict)
        assert apply.worker_resources().gpus == 0 and stage.decide_resources().gpus == 0, stage.name
        assert apply.worker_resources().cpus <= stage.worker_resources().cpus
        apply.setup()
    assert counted_models.loads == 0
    SummarizeStep(target=by_name["identity"]).setup()
    SummarizeStep(target=by_name["dedup"]).setup()
    assert counted_models.loads == 2  # summarize still loads ArcFace and OpenCLIP


def test_an_apply_step_joins_the_cpu_pool_of_its_block() -> None:
    workflow = load_workflow("gpu", WORKFLOW_STAGES)
    blocks = split_blocks(workflow.stages)
    before, identity = blocks[0]
    after, _next = blocks[1]
    # as the pipeline builds block 1: identity's apply step, then the block's own stages and summary
    block1 = [ApplyStep(target=identity), *after, SummarizeStep(target=_next)]
    assert len(stage_groups(block1)) == 1 and group_resources(stage_groups(block1)[0]).gpus == 0
    block0 = [*before, SummarizeStep(target=identity)]
    assert [group_resources(g).gpus for g in stage_groups(block0)][-1] == 0.25  # summarize: on the GPU
    assert RunScopeStage.apply_resources == Resources(cpus=0.25)


@pytest.mark.timeout(300)
def test_on_ray_apply_and_decide_get_no_gpu_and_load_no_model(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(tmp_path)],
        capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL, env=cli_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    summarized, applied = report["summarized"], report["applied"]
    assert sorted(summarized) == sorted(applied) == [f"v{i}" for i in range(4)]
    assert all(row["gpu_ids"] == ["0"] and row["model_loaded"] for row in summarized.values())
    assert all(row["gpu_ids"] == [] and not row["model_loaded"] for row in applied.values())
    assert report["decide"] == {"gpu_ids": [], "model_loaded": False, "n_videos": 4}
    # one load per summarize actor (every one that ran a video, and any that came up after the last
    # video was taken), none by an apply actor or the decide task
    loaders = report["loads"]
    assert len(loaders) == len(set(loaders)) and {row["pid"] for row in summarized.values()} <= set(loaders)
    assert not set(loaders) & {row["pid"] for row in applied.values()}
    assert report["states"] == dict.fromkeys(applied, "kept")
