"""Resuming with a workflow that would give other results is refused; outputs never mix."""

import json
import shutil
from pathlib import Path

import pytest
from pipeline_runs import SMALL_CLIPS, cli_env, ingest_workflow, manifest, run_cli, run_ingest

from curation.run.pipeline import RunRequest, run_pipeline
from curation.run.run_info import WorkflowMismatchError
from stages.probe import ProbeStage


@pytest.fixture(scope="module")
def clips(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    for name in SMALL_CLIPS:
        (folder / name).symlink_to(shared_media / name)
    return folder


@pytest.fixture(scope="module")
def finished_run(clips: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished run shared by the tests; they must leave it as it is (one test checks)."""
    out = tmp_path_factory.mktemp("finished") / "run"
    run_ingest(clips, out)
    return out


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_changed_parameter_is_refused_and_nothing_is_touched(clips: Path, finished_run: Path) -> None:
    before = _snapshot(finished_run)
    with pytest.raises(WorkflowMismatchError, match="use a new --out"):
        run_ingest(clips, finished_run, overrides=("probe.min_duration_s=4",))
    assert _snapshot(finished_run) == before


def test_changed_stage_version_is_refused(clips: Path, finished_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A code change that alters results bumps the stage's version; that alone must block mixing.
    monkeypatch.setattr(ProbeStage, "version", ProbeStage.version + 1)
    with pytest.raises(WorkflowMismatchError):
        run_ingest(clips, finished_run)


def test_same_workflow_resumes_and_a_new_out_takes_the_new_one(clips: Path, finished_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished_run, copy)
    again = run_pipeline(RunRequest(str(clips), str(copy), ingest_workflow(), executor="local"))
    assert again.resumed_videos == again.n_videos == 6
    assert json.loads((copy / "run.json").read_text())["resumed"] == 1
    strict = run_ingest(clips, tmp_path / "strict", overrides=("probe.min_duration_s=3.3",))
    assert strict.accounting.rejected == 3  # three of the six clips last less than 3.3 s
    assert {r["reason"] for r in manifest(tmp_path / "strict") if r["state"] == "rejected"} == {"too_short"}


def test_cli_refuses_with_a_clear_message(clips: Path, finished_run: Path) -> None:
    result = run_cli(
        "run",
        "--input",
        str(clips),
        "--out",
        str(finished_run),
        "--workflow",
        "ingest",
        "--executor",
        "local",
        "--set",
        "probe.min_frames=10",
    )
    assert result.returncode == 2
    assert "holds a run of workflow 'ingest'" in result.stdout and "use a new --out" in result.stdout


def test_resuming_after_a_model_changes_is_refused(clips: Path, tmp_path: Path, models_dir: Path) -> None:
    """A run made with dlib's face embedding, resumed once ArcFace is fetched, would cluster two
    kinds of vectors: refused, naming the capability and both models."""
    before, after = tmp_path / "models-before", tmp_path / "models-after"
    for folder in (before, after):
        folder.mkdir()
        (folder / "face_landmarker.task").symlink_to(models_dir / "face_landmarker.task")
    (after / "w600k_r50.onnx").write_bytes(b"an ArcFace model appears")  # chosen by presence; bytes unread here
    out = tmp_path / "run"
    first = run_cli("run", "--input", str(clips), "--out", str(out), "--workflow", "default", "--executor", "local",
                    "--limit", "0", env=cli_env(LPM_MODELS_DIR=str(before)))
    recorded = json.loads((out / "run.json").read_text())["models"]
    identity = next(m for m in recorded if m["stage"] == "identity")
    assert (identity["model"], identity["version"]) == ("dlib_face_resnet", "face_recognition_models 0.3.0")
    assert len(identity["sha256"]) == 64, first.stdout
    resumed = run_cli("run", "--input", str(clips), "--out", str(out), "--workflow", "default", "--executor", "local",
                      "--limit", "0", env=cli_env(LPM_MODELS_DIR=str(after)))
    said = " ".join(resumed.stdout.split())  # the console wraps long lines
    assert resumed.returncode == 2
    assert "The models differ (states face grouping: dlib_face_resnet" in said
    assert "identity identity embedding: dlib_face_resnet face_recognition_models 0.3.0" in said
    assert "-> arcface buffalo_l v0.7" in said and "use a new --out" in said
