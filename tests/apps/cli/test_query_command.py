"""``lpm-curate query``: SQL over the run's manifests as CSV or JSON, and nothing outside the run."""

import csv
import io
import json
from pathlib import Path

import pytest

from apps.cli.main import main
from tests.curation.pipeline_runs import SMALL_CLIPS, run_ingest


@pytest.fixture(scope="module")
def run_dir(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    for name in SMALL_CLIPS[:3]:
        (folder / name).symlink_to(shared_media / name)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("words, not frames\n" * 30)
    out = tmp_path_factory.mktemp("query") / "run"
    run_ingest(folder, out)
    return out


def _query(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["query", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_output(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT state, reason, count(*) AS n FROM videos GROUP BY ALL ORDER BY ALL"
    code, out, _ = _query(capsys, str(run_dir), sql, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["state", "reason", "n"],
        ["kept", "", "3"],
        ["rejected", "empty_file", "1"],
        ["rejected", "not_a_video", "1"],
    ]


def test_json_output_joins_tables(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = (
        "SELECT split_part(v.uri, '/', -1) AS file, r.stage, r.detail FROM rejections r "
        "JOIN videos v USING (uri) ORDER BY file"
    )
    code, out, _ = _query(capsys, str(run_dir), sql, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {"file": "empty.mp4", "stage": "ingest", "detail": "zero bytes"},
        {"file": "notes.mp4", "stage": "probe", "detail": "the file is plain text, not a video"},
    ]


def test_table_output_names_the_columns(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _query(capsys, str(run_dir), "SELECT width, height FROM videos WHERE width = 480")
    assert code == 0 and "width" in out and "848" in out


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_parquet('{run}/manifest/videos/part-00000.parquet')",
        "SELECT * FROM glob('/etc/*')",
        "COPY videos TO '{run}/../leak.csv'",
        "ATTACH '{run}/../other.db' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
    ],
)
def test_nothing_outside_the_run_can_be_read_or_written(
    run_dir: Path, capsys: pytest.CaptureFixture[str], sql: str
) -> None:
    code, out, err = _query(capsys, str(run_dir), sql.format(run=run_dir), "--format", "csv")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and ("disabled by configuration" in err or "locked" in err)
    assert not (run_dir.parent / "leak.csv").exists() and not (run_dir.parent / "other.db").exists()


def test_sql_errors_and_non_runs_are_reported(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _query(capsys, str(run_dir), "SELECT nope FROM videos")
    assert code == 2 and 'Referenced column "nope" not found' in err
    code, _, err = _query(capsys, str(tmp_path), "SELECT 1")
    assert code == 2 and "has no manifests (is it a run directory?)" in err
