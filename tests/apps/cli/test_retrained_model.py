from dataclasses import replace
from pathlib import Path

import pytest

from apps.cli.main import main
from apps.cli.retrained_model import against_shipped
from curation.models.model_catalog import MODEL_CATALOG
from tests.apps.bench.tiny_sync_features import write_tiny_features

SHIPPED = MODEL_CATALOG["learned_sync"]


def test_the_shipped_bytes_are_named_as_such() -> None:
    assert against_shipped(SHIPPED.sha256 or "", SHIPPED, "1 segments of 1 clips") == "the shipped learned_sync"


def test_other_bytes_from_a_cache_of_the_same_size_blame_the_feature_values() -> None:
    said = against_shipped("0" * 64, SHIPPED, SHIPPED.trained_on)
    assert f"differs from the shipped {SHIPPED.sha256}" in said
    assert "other feature values" in said and "other footage" not in said


def test_other_bytes_from_other_segments_name_the_cache_it_read() -> None:
    said = against_shipped("0" * 64, SHIPPED, "157 segments of 105 clips")
    assert "this cache holds 157 segments of 105 clips" in said and f"trained on {SHIPPED.trained_on}" in said


def test_a_model_without_a_recorded_training_input_says_so() -> None:
    said = against_shipped("0" * 64, replace(SHIPPED, trained_on=""), "3 people")
    assert "an unrecorded cache" in said and "this cache holds 3 people" in said


def test_every_model_trained_here_records_what_it_was_trained_on() -> None:
    trained_here = [spec for spec in MODEL_CATALOG.values() if "by this project" in spec.license]
    assert {spec.name for spec in trained_here} == {"learned_sync", "face_voice_map"}
    assert all(spec.trained_on for spec in trained_here)


def test_train_face_voice_gives_the_same_bytes_twice_and_says_what_it_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tiny_features(tmp_path / "features", clips=6)
    outs = [tmp_path / "one.npz", tmp_path / "two.npz"]
    for out in outs:
        assert main(["models", "train-face-voice", "--features", str(folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert "differs from the shipped" in printed and "this cache holds 6 people" in printed
