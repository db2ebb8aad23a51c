"""``lpm-curate models list|verify|fetch`` against a real models folder and a broken copy."""

import json
import shutil
import socket
from pathlib import Path

import pytest

from apps.cli.main import main
from curation.models import model_store
from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_spec import ModelSpec

LANDMARKER_SHA = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)


def test_list_shows_where_each_model_is_and_whether_present(
    models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows = _json(capsys, "models", "list", "--json")
    by_name = {r["name"]: r for r in rows}
    assert code == 0 and set(by_name) == set(MODEL_CATALOG)
    assert by_name["face_landmarker"]["present"] is True
    assert by_name["face_landmarker"]["path"] == str(models_dir / "face_landmarker.task")
    assert by_name["silero_vad"]["present"] is True  # shipped inside the silero-vad wheel
    assert by_name["whisper"]["present"] is False


def test_verify_passes_the_shared_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = _json(capsys, "models", "verify", "face_landmarker", "--json")
    assert code == 0 and rows == [{"name": "face_landmarker", "status": "ok", "detail": f"sha256 {LANDMARKER_SHA}"}]


def test_verify_detects_a_corrupted_copy(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "models"
    broken.mkdir()
    copy = broken / "face_landmarker.task"
    shutil.copyfile(models_dir / "face_landmarker.task", copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    copy.write_bytes(bytes(data))
    monkeypatch.setenv("LPM_MODELS_DIR", str(broken))
    code, rows = _json(capsys, "models", "verify", "--json")
    statuses = {r["name"]: r for r in rows}
    assert code == 1
    assert statuses["face_landmarker"]["status"] == "mismatch"
    assert statuses["face_landmarker"]["detail"].endswith(f"!= expected {LANDMARKER_SHA}")
    assert statuses["whisper"]["status"] == "missing"
    assert "lpm-curate models fetch whisper" in statuses["whisper"]["detail"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the with-block ends: nothing listens there


def test_fetch_from_an_unreachable_url_fails_clearly_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/face_landmarker.task"
    spec = ModelSpec(
        name="face_landmarker",
        path="face_landmarker.task",
        source="url",
        url=url,
        sha256=LANDMARKER_SHA,
        description="test copy",
        license="Apache-2.0",
    )
    monkeypatch.setitem(MODEL_CATALOG, "face_landmarker", spec)
    target = tmp_path / "models"
    monkeypatch.setenv("LPM_MODELS_DIR", str(target))
    code = main(["models", "fetch", "face_landmarker"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith(f"face_landmarker: FAILED: face_landmarker: could not download {url}: ")
    assert "Connection refused" in out and "LPM_MODELS_DIR" in out
    assert list(target.iterdir()) == []  # no partial file, no leftover staging folder
    with pytest.raises(model_store.ModelMissingError, match="lpm-curate models fetch face_landmarker"):
        model_store.resolve("face_landmarker")
