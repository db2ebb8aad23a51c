"""Every catalog entry is pinned to exact bytes, and the pins are what a run records."""

import json
from pathlib import Path

import pytest

from apps.cli.main import main
from curation.models import model_store
from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_choice import ModelChoice, fallback_lines, model_records
from curation.models.model_provenance import provenance

SHA256_HEX = set("0123456789abcdef")


def _is_sha256(value: str | None) -> bool:
    return value is not None and len(value) == 64 and set(value) <= SHA256_HEX


@pytest.mark.parametrize("name", sorted(MODEL_CATALOG))
def test_each_entry_is_pinned_or_says_where_its_pin_comes_from(name: str) -> None:
    spec = MODEL_CATALOG[name]
    if spec.source == "hf_snapshot" and spec.files:
        assert len(spec.revision or "") == 40 and set(spec.revision) <= SHA256_HEX, spec.revision
        assert all(_is_sha256(sha) for sha in spec.files.values())
    elif spec.source == "package":
        assert _is_sha256(spec.sha256) and spec.package and spec.module
    elif not _is_sha256(spec.sha256):
        # nothing published to pin against offline: the first fetch records the checksum
        assert "models.lock.json" in spec.pin_source, name


@pytest.mark.parametrize("name", [n for n, s in sorted(MODEL_CATALOG.items()) if s.source == "package"])
def test_weights_inside_installed_packages_match_their_pins(name: str) -> None:
    check = model_store.verify(name)
    assert check.status == "ok", check.detail
    pinned = provenance(name)
    assert pinned.sha256 == model_store.sha256_of(model_store.resolve(name))
    assert pinned.version.startswith(MODEL_CATALOG[name].package + " ") and pinned.source.startswith("pip:")


def test_a_snapshot_is_verified_file_by_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot folder holding the pinned files passes; one changed byte names the file."""
    folder = tmp_path / MODEL_CATALOG["whisper"].path
    folder.mkdir()
    (folder / "config.json").write_bytes(b'{"a": 1}')
    (folder / "model.bin").write_bytes(b"weights")
    (folder / "README.md").write_bytes(b"not pinned, not checked")
    files = {name: model_store.sha256_of(folder / name) for name in ("config.json", "model.bin")}
    spec = MODEL_CATALOG["whisper"]
    monkeypatch.setitem(MODEL_CATALOG, "whisper", type(spec)(**{**spec.__dict__, "files": files}))
    assert model_store.verify("whisper", tmp_path).status == "ok"
    (folder / "model.bin").write_bytes(b"weightz")
    check = model_store.verify("whisper", tmp_path)
    assert check.status == "mismatch" and check.detail.startswith("model.bin sha256 ")


def test_fetch_all_names_the_gated_model_and_the_token_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    code = main(["models", "fetch", "--all", "diarization", "dlib_face_resnet"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith("diarization: SKIPPED: pyannote/speaker-diarization-community-1 is gated")
    assert "HF_TOKEN=... lpm-curate models fetch diarization" in out[0]
    assert out[1].endswith("dlib_face_recognition_resnet_model_v1.dat")  # inside its wheel: nothing to fetch
    assert list(tmp_path.iterdir()) == []


def test_records_carry_pins_and_fallbacks_carry_what_they_replace() -> None:
    choices = [
        ModelChoice.using("identity embedding", "identity", "dlib_face_resnet"),
        ModelChoice.instead("transcription", "speech", "no transcription", "whisper", "no transcripts"),
    ]
    used, fallback = model_records(choices)
    assert used["sha256"] == MODEL_CATALOG["dlib_face_resnet"].sha256
    assert used["source"] == "pip:face_recognition_models"
    assert fallback == {"capability": "transcription", "stage": "speech", "fallback": "no transcription",
                        "instead_of": "whisper", "effect": "no transcripts"}
    assert fallback_lines(choices) == [
        "speech: transcription falls back to no transcription (no transcripts); "
        "`lpm-curate models fetch whisper` for the model"
    ]
    json.dumps(used)  # run.json material
