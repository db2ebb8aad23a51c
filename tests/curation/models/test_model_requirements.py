"""Every model a workflow's choices load is checked before a run: one line per missing model with
the command that gets it; code-only fallbacks need nothing."""

from pathlib import Path

import pytest

from curation.config.workflow import load_workflow
from curation.models.model_choice import ModelChoice
from curation.models.model_requirements import MissingModelsError, check_models, missing_model_lines
from stages.workflow_stages import WORKFLOW_STAGES


def test_the_shipped_workflows_have_their_models_here(models_dir: Path) -> None:
    for name in ("default", "smoke", "ingest"):
        check_models(load_workflow(name, WORKFLOW_STAGES).model_choices())


def test_each_missing_model_is_one_line_naming_who_needs_it_and_the_fetch_command(tmp_path: Path) -> None:
    choices = [
        ModelChoice.using("face landmarks", "visual_analysis", "face_landmarker"),
        ModelChoice.using("identity embedding", "identity", "arcface"),
        ModelChoice.using("face grouping", "states", "arcface"),
        ModelChoice.using("voice activity", "speech", "silero_vad"),  # inside an installed wheel
        ModelChoice.instead("near-duplicate image embedding", "dedup", "perceptual hashes only", "openclip", "weak"),
    ]
    where = f"(models directory: {tmp_path}, set by LPM_MODELS_DIR)"
    assert missing_model_lines(choices, tmp_path) == [
        f"model face_landmarker (visual_analysis face landmarks) is missing: lpm-curate models fetch face_landmarker "
        f"{where}",
        f"model arcface (identity identity embedding, states face grouping) is missing: lpm-curate models fetch "
        f"arcface {where}",
    ]
    with pytest.raises(MissingModelsError) as missing:
        check_models(choices, tmp_path)
    assert len(missing.value.lines) == 2


def test_a_gated_model_says_it_needs_a_token(tmp_path: Path) -> None:
    [line] = missing_model_lines([ModelChoice.using("speaker turns", "speech", "diarization")], tmp_path)
    assert "lpm-curate models fetch diarization (needs HF_TOKEN with the model's terms accepted)" in line
