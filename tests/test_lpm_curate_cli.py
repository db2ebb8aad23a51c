"""``lpm-curate`` as a user meets it: the installed command, exit codes and the messages on errors."""

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

import pytest

import curation.run.pipeline as pipeline
from apps.cli.main import main
from curation.run.accounting import check_accounting
from schemas.tables import VideoRow

LPM_CURATE = Path(sys.executable).with_name("lpm-curate")
CLIPS = ("fantasy_end0.1.mp4", "liveportrait_d0.mp4")


@pytest.fixture
def clips(shared_media: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in CLIPS:
        (folder / name).symlink_to(shared_media / name)
    (folder / "empty.mp4").write_bytes(b"")
    return folder


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines at the terminal width


def test_installed_command_runs_a_workflow_and_queries_it(clips: Path, tmp_path: Path) -> None:
    env = dict(os.environ, COLUMNS="200")
    out = tmp_path / "run"
    args = ["run", "--input", str(clips), "--out", str(out), "--workflow", "ingest", "--executor", "local"]
    ran = subprocess.run(
        [str(LPM_CURATE), *args], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=env
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "accounting: inputs 3 = kept 2 + rejected 1 + failed 0 OK" in _flat(ran.stdout)
    queried = subprocess.run(
        [str(LPM_CURATE), "query", str(out), "SELECT reason FROM videos WHERE state = 'rejected'", "--format", "json"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert queried.returncode == 0 and json.loads(queried.stdout) == [{"reason": "empty_file"}]


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    for command in ("run", "status", "query", "models", "review", "review-report", "export"):
        assert command in usage


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--out", "x"])
    assert exited.value.code == 2 and "--input" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "probe.min_duration_s=-1"], "stages[0].min_duration_s: -1.0 is outside the allowed range [0, None]"),
        (["--set", "probe.timeout_s=soon"], "stages[0].timeout_s: expected a number, got 'soon'"),
        (["--set", "probe"], "--set 'probe': expected STAGE.PARAM=VALUE"),
        (["--workflow", "nosuch"], "no workflow file 'nosuch' and no built-in workflow of that name"),
    ],
)
def test_bad_workflow_values_exit_2_naming_the_path(
    clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    argv = ["run", "--input", str(clips), "--out", str(tmp_path / "run"), "--workflow", "ingest", *args]
    assert main(argv) == 2
    assert message in _flat(capsys.readouterr().out)
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_input_that_names_nothing_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--input", str(tmp_path / "nope"), "--out", str(tmp_path / "run"), "--workflow", "ingest"]
    assert main([*argv, "--executor", "local"]) == 2
    assert "no such file, directory or matching glob" in _flat(capsys.readouterr().out)
    assert not (tmp_path / "run").exists(), "refused before run.json or logs/ were written"


def test_accounting_failure_exits_3_and_publishes_no_manifest(
    clips: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def lose_a_row(uris: list[str], rows: Iterable[VideoRow]) -> object:
        return check_accounting(uris, islice(rows, 1, None))  # as if a bug dropped one input on the way

    monkeypatch.setattr(pipeline, "check_accounting", lose_a_row)
    out = tmp_path / "run"
    argv = ["run", "--input", str(clips), "--out", str(out), "--workflow", "ingest", "--executor", "local"]
    assert main(argv) == 3
    said = _flat(capsys.readouterr().out)
    assert "ACCOUNTING FAILED: accounting failed: 3 inputs != kept" in said and "inputs without a row: 1" in said
    assert not (out / "manifest").exists()
    assert json.loads((out / "run.json").read_text())["state"] == "running"
