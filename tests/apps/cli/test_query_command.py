"""``lpm-curate query``: SQL over the run's manifests as CSV, JSON or a table (plain when piped), and
nothing outside the run, DuckDB's spill folder included."""

import csv
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from apps.cli.main import main
from tests.curation.pipeline_runs import SMALL_CLIPS, cli_command, cli_env, run_cli, run_ingest


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


@pytest.mark.parametrize(
    "sql",
    ["COPY videos TO '.tmp/x.csv'", "SELECT content FROM read_text('.tmp/planted.txt')",
     "SELECT * FROM glob('.tmp/*')"],
)
def test_duckdbs_temp_directory_is_no_way_out(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sql: str
) -> None:
    """DuckDB's default spill folder, ``.tmp`` under the working directory, stayed allowed after
    external access was switched off: a query wrote there and read what others put there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "planted.txt").write_text("someone else's secret")
    code, out, err = _query(capsys, str(run_dir), sql, "--format", "csv")
    assert code == 2 and out == "" and "disabled by configuration" in err
    assert sorted(p.name for p in (tmp_path / ".tmp").iterdir()) == ["planted.txt"]


def test_the_spill_folder_is_private_and_removed_after(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _query(capsys, str(run_dir), "SELECT current_setting('temp_directory') AS t", "--format", "json")
    assert code == 0
    spill = Path(json.loads(out)[0]["t"])
    assert spill.is_absolute() and tmp_path not in spill.parents and spill.name.startswith("lpm-duckdb-")
    assert not spill.exists(), "deleted with the connection"


MARKUP_SQL = ("SELECT 'speaker [laughs]' AS said, '[/x]' AS closing, '[bold]b[/bold]' AS \"[red]head\", "
              "repeat('w', 300) AS long, 'tab\there' AS tabbed, NULL AS nothing")


def test_piped_table_output_is_plain_whole_and_markup_free(run_dir: Path) -> None:
    ran = run_cli("query", str(run_dir), MARKUP_SQL)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "said\tclosing\t[red]head\tlong\ttabbed\tnothing",
        f"speaker [laughs]\t[/x]\t[bold]b[/bold]\t{'w' * 300}\ttab\\there\t",
    ]


def test_terminal_table_output_shows_data_as_it_is(run_dir: Path) -> None:
    """Through a real pseudo-terminal 80 columns wide: rich draws the table, and the cells are
    text, never markup."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    env = cli_env(TERM="xterm")
    env.pop("COLUMNS")
    process = subprocess.Popen(cli_command("query", str(run_dir), MARKUP_SQL.replace("repeat('w', 300)", "'w'")),
                               stdout=secondary, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=60) == 0, process.stderr.read()
    os.close(primary)
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode())
    assert "speaker [laughs]" in text and "[/x]" in text and "[bold]b[/bold]" in text and "[red]head" in text
    assert "┃" in text or "│" in text, "a table, drawn for the terminal"
    assert max(len(line) for line in text.splitlines()) <= 80

